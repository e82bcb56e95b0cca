#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_dr_reprotect
version_added: "0.3.0"
short_description: Re-protect a promoted RDS instance with a read replica in another region
description:
  - After a DR promotion, makes O(db_instance_identifier) (in O(region), usually the region the
    promotion left) a read replica of the promoted instance O(source_db_instance_identifier), so
    the new primary is protected again under the names the platform already uses.
  - An instance of that name that is not such a replica (the fenced old primary) cannot become
    one in place - it is deleted, with a final snapshot unless O(final_snapshot=false) and after
    turning its deletion protection off, and then recreated as a cross-region read replica with
    its own instance class, DB subnet group, security groups, KMS key and parameter group unless
    given. The deletion is always waited for (the replica takes the same name).
  - With O(wait=true) (the default) the module returns once the replica is C(available); with
    O(wait=false) it returns as soon as the creation started, with RV(status) C(creating) - the
    replica is then not yet usable for a failback (its pre-checks refuse one until it is
    available), and a rerun waits for it.
  - Waits use botocore waiters polling every O(poll_interval) seconds; each step's start, end
    and time spent waiting on AWS are returned in RV(timeline).
  - The module is idempotent - an instance that already replicates from the source is no change
    (a rerun with O(wait=true) still waits for one that is being created). In check mode it
    returns the plan without acting.
author: Plinth engineering (!UNKNOWN)
options:
  db_instance_identifier:
    description:
      - The instance to be the replica, in O(region).
    required: true
    type: str
  source_db_instance_identifier:
    description:
      - The promoted instance to replicate from - its ARN, or its identifier in O(source_region).
    required: true
    type: str
  source_region:
    description:
      - The region of O(source_db_instance_identifier). Defaults to the region in its ARN, else
        O(region).
    type: str
  db_instance_class:
    description:
      - Instance class of the replica. Defaults to that of the instance it replaces.
    type: str
  db_subnet_group_name:
    description:
      - DB subnet group of the replica, in O(region) (cross-region replicas only). Defaults to
        that of the instance it replaces.
    type: str
  vpc_security_group_ids:
    description:
      - Security groups of the replica. Defaults to those of the instance it replaces.
    type: list
    elements: str
  kms_key_id:
    description:
      - KMS key (of O(region)) encrypting the replica of an encrypted source. Defaults to that of
        the instance it replaces.
    type: str
  db_parameter_group_name:
    description:
      - Parameter group of the replica. Defaults to that of the instance it replaces.
    type: str
  final_snapshot:
    description:
      - Take a final snapshot C(<db_instance_identifier>-before-reprotect-<UTC time>) of the
        instance that is replaced.
    type: bool
    default: true
  tags:
    description:
      - Tags of the replica.
    type: dict
    aliases: [resource_tags]
  wait:
    description:
      - Wait until the replica is C(available).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for each of the deletion and the creation.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two C(DescribeDBInstances) calls while waiting.
    type: int
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Protect the promoted DR instance with a replica back in the home region
  plinth.platform.rds_dr_reprotect:
    region: us-east-1
    db_instance_identifier: bioinvest-prod-main
    source_db_instance_identifier: arn:aws:rds:us-west-2:123456789012:db:bioinvest-prod-main-dr
    tags:
      plinth:role: dr-replica

- name: Start the replica's creation and do not wait for it
  plinth.platform.rds_dr_reprotect:
    region: us-east-1
    db_instance_identifier: bioinvest-prod-main
    source_db_instance_identifier: bioinvest-prod-main-dr
    source_region: us-west-2
    wait: false
"""

RETURN = r"""
already_protected:
  description: The instance already replicated from the source when the module started.
  returned: always
  type: bool
deleted:
  description: Whether an instance that was not a replica of the source was deleted.
  returned: always
  type: bool
final_snapshot:
  description: Identifier of the final snapshot of the deleted instance, if one was taken.
  returned: always
  type: str
created:
  description: Whether the replica was created by this run.
  returned: always
  type: bool
status:
  description: The replica's status at the end (C(creating) with O(wait=false)); null in check mode.
  returned: always
  type: str
  sample: available
plan:
  description: What the module does (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
timeline:
  description: Each step with its start, end, seconds and the part of it spent waiting on AWS.
  returned: always
  type: list
  elements: dict
waited_seconds:
  description: Time spent waiting on AWS.
  returned: always
  type: float
seconds:
  description: Wall time of the module.
  returned: always
  type: float
endpoint:
  description: The replica's endpoint, once RDS reports one.
  returned: always
  type: dict
  sample: {address: plinth-production-main.xyz.us-east-1.rds.amazonaws.com, port: 5432}
instance:
  description: The replica as C(DescribeDBInstances) reports it, in snake_case.
  returned: when it exists
  type: dict
"""

import contextlib
import datetime
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
)
from ansible_collections.plinth.platform.plugins.module_utils.rds_dr import (
    InstanceManager,
    describe_instance,
    parse_source,
    replica_settings,
)


class ReprotectManager(InstanceManager):
    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(
            module,
            {
                "already_protected": False,
                "deleted": False,
                "final_snapshot": None,
                "created": False,
                "status": None,
            },
        )

    def call(self, msg: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.rds, method)(aws_retry=True, **kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, msg)
        return None

    def wait(self, waiter_name: str) -> None:
        self.wait_with(self.module.client("rds").get_waiter(waiter_name), waiter_name)

    def source(self) -> tuple[str, str, str]:
        """(identifier, region, ARN) of the instance to replicate from."""
        reference = self.params["source_db_instance_identifier"]
        identifier, region = parse_source(reference, self.params["source_region"] or self.region)
        if reference.startswith("arn:"):
            return str(identifier), str(region), reference
        rds = self.module.client("rds", retry_decorator=self.retry, region=region)
        try:
            found = describe_instance(rds, reference)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to describe the source {reference} in {region}")
        if found is None:
            self.module.fail_json(msg=f"Source {reference} not found in {region}", **self.result)
        return reference, str(region), found["DBInstanceArn"]

    # --- entry point ---------------------------------------------------------------------------

    def run(self) -> None:
        with self.timeline.step("describe"):
            current = self.describe()
            source_id, source_region, source_arn = self.source()
        replicates = current is not None and parse_source(
            current.get("ReadReplicaSourceDBInstanceIdentifier"), self.region
        ) == (source_id, source_region)
        if replicates:
            self.result["already_protected"] = True
            if self.params["wait"] and current.get("DBInstanceStatus") != "available":
                # A previous run did not wait (or was interrupted): wait now.
                with self.timeline.step("wait"):
                    self.wait("db_instance_available")
                current = self.describe()
        else:
            current = self.replace(current, source_region, source_arn)
        self.finish(current)

    def replace(
        self, current: dict[str, Any] | None, source_region: str, arn: str
    ) -> dict[str, Any] | None:
        """Delete what is there (unless already deleting), then create the replica."""
        deleting = current is not None and current.get("DBInstanceStatus") == "deleting"
        plan = self.result["plan"]
        snapshot = None
        if current is not None and not deleting:
            if current.get("DeletionProtection"):
                plan.append(f"turn deletion protection off on {self.identifier}")
            if self.params["final_snapshot"]:
                stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
                snapshot = f"{self.identifier}-before-reprotect-{stamp}"
            plan.append(
                f"delete {self.identifier}"
                + (f" with final snapshot {snapshot}" if snapshot else " without a final snapshot")
            )
        if current is not None:
            plan.append(f"wait until {self.identifier} is deleted")
        plan.append(f"create {self.identifier} as a read replica of {arn}")
        if self.params["wait"]:
            plan.append(f"wait until {self.identifier} is available")
        self.result["changed"] = True
        if self.module.check_mode:
            return None
        settings = replica_settings(current or {}, self.params)
        if current is not None:
            with self.timeline.step("delete"):
                if not deleting:
                    self.delete(current, snapshot)
                self.wait("db_instance_deleted")
        with self.timeline.step("create"):
            created = self.create(settings, source_region, arn)
            if self.params["wait"]:
                self.wait("db_instance_available")
                created = self.describe() or created
        return created

    def delete(self, current: dict[str, Any], snapshot: str | None) -> None:
        if current.get("DeletionProtection"):
            self.call(
                f"Failed to turn deletion protection off on {self.identifier}",
                "modify_db_instance",
                DBInstanceIdentifier=self.identifier,
                DeletionProtection=False,
                ApplyImmediately=True,
            )
        params: dict[str, Any] = (
            {"FinalDBSnapshotIdentifier": snapshot} if snapshot else {"SkipFinalSnapshot": True}
        )
        self.call(
            f"Failed to delete {self.identifier}",
            "delete_db_instance",
            DBInstanceIdentifier=self.identifier,
            **params,
        )
        self.result.update(deleted=True, final_snapshot=snapshot)

    def create(self, settings: dict[str, Any], source_region: str, arn: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "DBInstanceIdentifier": self.identifier,
            "SourceDBInstanceIdentifier": arn,
            "MultiAZ": False,
            "PubliclyAccessible": False,
            "CopyTagsToSnapshot": True,
            **settings,
        }
        if source_region != self.region:
            # botocore signs the PreSignedUrl from SourceRegion.
            params["SourceRegion"] = source_region
        else:
            # A same-region replica lives in its source's subnet group (DBSubnetGroupNotAllowed).
            params.pop("DBSubnetGroupName", None)
        if self.params["tags"]:
            params["Tags"] = ansible_dict_to_boto3_tag_list(self.params["tags"])
        created = self.call(
            f"Failed to create {self.identifier} as a replica of {arn}",
            "create_db_instance_read_replica",
            **params,
        )
        self.result["created"] = True
        return dict(created["DBInstance"])

    def finish(self, instance: dict[str, Any] | None) -> None:
        endpoint = (instance or {}).get("Endpoint") or {}
        self.result.update(
            status=(instance or {}).get("DBInstanceStatus"),
            endpoint={"address": endpoint.get("Address"), "port": endpoint.get("Port")},
            timeline=self.timeline.steps,
            seconds=self.timeline.total_seconds,
            waited_seconds=self.timeline.waited_seconds,
        )
        if instance:
            self.result["instance"] = camel_dict_to_snake_dict(instance)
        if self.module._diff:
            self.result["diff"] = {
                "before": {"read_replica_of_source": self.result["already_protected"]},
                "after": {"read_replica_of_source": True},
            }
        self.module.exit_json(**self.result)


def main() -> None:
    argument_spec = dict(
        db_instance_identifier=dict(type="str", required=True),
        source_db_instance_identifier=dict(type="str", required=True),
        source_region=dict(type="str"),
        db_instance_class=dict(type="str"),
        db_subnet_group_name=dict(type="str"),
        vpc_security_group_ids=dict(type="list", elements="str"),
        kms_key_id=dict(type="str", no_log=False),
        db_parameter_group_name=dict(type="str"),
        final_snapshot=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        poll_interval=dict(type="int", default=5),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    ReprotectManager(module).run()


if __name__ == "__main__":
    main()
