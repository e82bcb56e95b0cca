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
"""

import contextlib

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


def main() -> None:
    argument_spec = dict(
        db_instance_identifier=dict(type="str", required=True),
        max_lag_seconds=dict(type="int", default=300),
        check_pending_maintenance=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    identifier = module.params["db_instance_identifier"]
    retry = AWSRetry.jittered_backoff()
    rds = module.client("rds", retry_decorator=retry)
    try:
        instance = describe_instance(rds, identifier)
        if instance is None:
            module.exit_json(
                changed=False, exists=False, is_replica=False, source={}, checks=[], ready=False
            )
        replica = is_replica(instance)
        source_id, source_region = parse_source(
            instance.get("ReadReplicaSourceDBInstanceIdentifier"), module.region
        )
        result = {
            "changed": False,
            "exists": True,
            "is_replica": replica,
            "status": instance.get("DBInstanceStatus"),
            "replication_status": replication_status(instance),
            "source": (
                {"db_instance_identifier": source_id, "region": source_region} if replica else {}
            ),
            "endpoint": {
                "address": (instance.get("Endpoint") or {}).get("Address"),
                "port": (instance.get("Endpoint") or {}).get("Port"),
            },
            "instance": camel_dict_to_snake_dict(instance),
            "checks": [],
            "ready": False,
        }
        if replica:
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
