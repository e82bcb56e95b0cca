#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_dr_promote_info
version_added: "0.2.0"
short_description: Report an RDS DR replica's state, replication lag and promotion readiness
description:
  - Reads the DB instance O(db_instance_identifier) in O(region) and reports whether it is a read
    replica, its source, its newest C(ReplicaLag) CloudWatch datapoint and the same pre-checks
    M(plinth.platform.rds_dr_promote) runs, with RV(ready) true when none of them fails.
  - Changes nothing. A missing instance gives RV(exists=false).
  - C(DescribePendingMaintenanceActions) is not implemented by moto 5.2.5 (the embedded AWS of the
    local environment and the tests), which sets O(check_pending_maintenance=false).
author: Plinth engineering (!UNKNOWN)
options:
  db_instance_identifier:
    description:
      - The DB instance (normally the DR read replica) to report on.
    required: true
    type: str
  max_lag_seconds:
    description:
      - The recovery point objective used by the C(replica_lag) check.
    type: int
    default: 300
  check_pending_maintenance:
    description:
      - Whether to query C(DescribePendingMaintenanceActions).
    type: bool
    default: true
  peer_db_instance_identifier:
    description:
      - Also describe this instance in O(peer_region) - the one a promotion takes over from (the
        old primary), returned in RV(peer). Its region may be the one that is down - a failure to
        read it is reported in RV(peer), not an error.
    type: str
    version_added: "0.3.0"
  peer_region:
    description:
      - The region of O(peer_db_instance_identifier). Defaults to O(region).
    type: str
    version_added: "0.3.0"
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Is the DR replica ready to be promoted within the RPO?
  plinth.platform.rds_dr_promote_info:
    region: us-west-2
    db_instance_identifier: bioinvest-production-main-dr
    max_lag_seconds: 300
  register: dr_state

- name: Alert when it is not
  ansible.builtin.debug:
    msg: "{{ dr_state.checks | rejectattr('passed', 'ne', false) | list }}"
  when: not dr_state.ready
"""

RETURN = r"""
exists:
  description: Whether the instance exists.
  returned: always
  type: bool
is_replica:
  description: Whether the instance is a read replica (false once promoted).
  returned: always
  type: bool
status:
  description: The instance status (C(DBInstanceStatus)).
  returned: when the instance exists
  type: str
replication_status:
  description: The C(read replication) status RDS reports, when it reports one.
  returned: when the instance exists
  type: str
source:
  description: The replication source (identifier and region), empty when not a replica.
  returned: always
  type: dict
replica_lag_seconds:
  description: The newest C(ReplicaLag) of the last five minutes, null when none is published.
  returned: when the instance is a replica
  type: float
pending_maintenance_actions:
  description: Pending maintenance actions, null when not checked.
  returned: when the instance is a replica
  type: list
  elements: dict
checks:
  description:
    - The pre-checks of M(plinth.platform.rds_dr_promote)
      (C(name), C(passed), C(blocking), C(detail)).
  returned: always
  type: list
  elements: dict
ready:
  description: True when the instance is a replica and no blocking check fails.
  returned: always
  type: bool
endpoint:
  description: The instance endpoint (address, port).
  returned: when the instance exists
  type: dict
instance:
  description: The DB instance as C(DescribeDBInstances) reports it, in snake_case.
  returned: when the instance exists
  type: dict
peer:
  description:
    - O(peer_db_instance_identifier) - C(reachable) (false with C(error) when it could not be
      read), C(exists), C(is_replica), C(source), C(endpoint) and C(instance) as above.
  returned: when O(peer_db_instance_identifier) is given
  type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.rds_dr import (
    blocking_failures,
    describe_instance,
    is_replica,
    parse_source,
    pending_maintenance,
    prechecks,
    replica_lag,
    replication_status,
)


def describe_state(rds: Any, identifier: str, region: str) -> dict[str, Any]:
    """What an instance is: exists, replica of what, status, endpoint."""
    instance = describe_instance(rds, identifier)
    if instance is None:
        return {"exists": False, "is_replica": False, "source": {}}
    replica = is_replica(instance)
    source_id, source_region = parse_source(
        instance.get("ReadReplicaSourceDBInstanceIdentifier"), region
    )
    endpoint = instance.get("Endpoint") or {}
    return {
        "exists": True,
        "is_replica": replica,
        "status": instance.get("DBInstanceStatus"),
        "replication_status": replication_status(instance),
        "source": {"db_instance_identifier": source_id, "region": source_region} if replica else {},
        "endpoint": {"address": endpoint.get("Address"), "port": endpoint.get("Port")},
        "instance": instance,
    }


def describe_peer(module: AnsibleAWSModule, retry: Any) -> dict[str, Any]:
    region = module.params["peer_region"] or module.region
    try:
        rds = module.client("rds", retry_decorator=retry, region=region)
        peer = describe_state(rds, module.params["peer_db_instance_identifier"], region)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        return {"reachable": False, "exists": False, "is_replica": False, "error": str(e)}
    if "instance" in peer:
        peer["instance"] = camel_dict_to_snake_dict(peer["instance"])
    return {"reachable": True, **peer}


def main() -> None:
    argument_spec = dict(
        db_instance_identifier=dict(type="str", required=True),
        max_lag_seconds=dict(type="int", default=300),
        check_pending_maintenance=dict(type="bool", default=True),
        peer_db_instance_identifier=dict(type="str"),
        peer_region=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    identifier = module.params["db_instance_identifier"]
    retry = AWSRetry.jittered_backoff()
    rds = module.client("rds", retry_decorator=retry)
    peer = (
        {"peer": describe_peer(module, retry)}
        if module.params["peer_db_instance_identifier"]
        else {}
    )
    try:
        state = describe_state(rds, identifier, module.region)
        if not state["exists"]:
            module.exit_json(changed=False, checks=[], ready=False, **state, **peer)
        instance = state.pop("instance")
        result = {
            "changed": False,
            **state,
            "instance": camel_dict_to_snake_dict(instance),
            "checks": [],
            "ready": False,
            **peer,
        }
        if state["is_replica"]:
            lag = replica_lag(module.client("cloudwatch", retry_decorator=retry), identifier)
            maintenance = (
                pending_maintenance(rds, instance["DBInstanceArn"])
                if module.params["check_pending_maintenance"]
                else None
            )
            checks = prechecks(instance, lag, module.params["max_lag_seconds"], maintenance)
            result.update(
                replica_lag_seconds=lag,
                pending_maintenance_actions=(
                    None
                    if maintenance is None
                    else [camel_dict_to_snake_dict(a) for a in maintenance]
                ),
                checks=checks,
                ready=not blocking_failures(checks),
            )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg=f"Failed to read the DR state of {identifier}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
