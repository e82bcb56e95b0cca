#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_dr_promote
version_added: "0.2.0"
short_description: Promote a cross-region RDS read replica to a standalone primary, safely
description:
  - Promotes the read replica O(db_instance_identifier) (in O(region), usually the DR region) to
    a standalone DB instance with C(PromoteReadReplica), after pre-checks that are all reported
    in RV(checks)
  - "Pre-checks: the instance is a read replica, C(available) (not C(backing-up)), its
    C(read replication) status is C(replicating) when RDS reports one, the newest C(ReplicaLag)
    CloudWatch datapoint of the last five minutes is at most O(max_lag_seconds) (the RPO), and no
    maintenance action is pending. A failed check refuses the promotion unless O(force=true);
    the result then says which checks were overridden (RV(forced))."
  - With O(fence=true) the old primary, when its region still answers, is moved into an empty
    security group (C(<source>-fence), no ingress) so that no application writes land there after
    the promotion. An unreachable or already deleted primary is reported, not an error.
  - After the promotion the module waits until the instance is C(available) and no longer lists
    a replication source, then turns Multi-AZ on when O(multi_az=true).
  - The module is idempotent. An instance that is not a replica any more is left as it is (only
    O(multi_az), O(backup_retention_period) and O(tags) are reconciled), so re-running the task
    makes no change. In check mode the module runs the pre-checks and returns the plan without
    acting.
  - Every step's start and end are returned in RV(timeline) with the time spent waiting on AWS,
    and the measured recovery time in RV(rto_seconds).
  - Do not use M(amazon.aws.rds_instance) with O(amazon.aws.rds_instance#module:read_replica=false)
    for this - it only promotes when RDS reports C(StatusInfos), which not every endpoint does.
  - C(DescribePendingMaintenanceActions) is not implemented by moto 5.2.5 (the embedded AWS of the
    local environment and the tests), which sets O(check_pending_maintenance=false).
author: Plinth engineering (!UNKNOWN)
options:
  db_instance_identifier:
    description:
      - The read replica to promote, in O(region).
    required: true
    type: str
  source_db_instance_identifier:
    description:
      - The replica's current primary, to fence. Defaults to the source RDS reports for the replica.
    type: str
  source_region:
    description:
      - The region of O(source_db_instance_identifier). Defaults to the region in the source ARN
        RDS reports for a cross-region replica.
    type: str
  max_lag_seconds:
    description:
      - The recovery point objective - the highest acceptable C(ReplicaLag), in seconds.
    type: int
    default: 300
  force:
    description:
      - Promote even when pre-checks fail (for example the lag exceeds the RPO because the primary
        region is down and the metric stopped). The overridden checks are returned in RV(forced).
    type: bool
    default: false
  check_pending_maintenance:
    description:
      - Whether to query C(DescribePendingMaintenanceActions) for the replica.
    type: bool
    default: true
  fence:
    description:
      - Move the old primary into an empty security group before promoting, when it is reachable.
    type: bool
    default: false
  backup_retention_period:
    description:
      - Days of automated backups the promoted instance keeps (C(PromoteReadReplica)
        C(BackupRetentionPeriod)). Omit to keep what the replica has.
    type: int
  multi_az:
    description:
      - Turn Multi-AZ on once the promoted instance is available.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the promotion (and the Multi-AZ change) to complete.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two C(DescribeDBInstances) calls while waiting.
    type: int
    default: 5
    version_added: "0.3.0"
  tags:
    description:
      - Tags to set on the promoted instance (for example C(plinth:role=primary)). Tags not listed
        are kept.
    type: dict
    aliases: [resource_tags]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Promote the DR replica when it is within the 5 minute RPO
  plinth.platform.rds_dr_promote:
    region: us-west-2
    db_instance_identifier: bioinvest-production-main-dr
    max_lag_seconds: 300
    fence: true
    backup_retention_period: 14
    multi_az: true
  register: promotion

- name: Show the plan and the pre-checks only
  plinth.platform.rds_dr_promote:
    region: us-west-2
    db_instance_identifier: bioinvest-production-main-dr
  check_mode: true

- name: The primary region is gone and so is the lag metric - promote anyway
  plinth.platform.rds_dr_promote:
    region: us-west-2
    db_instance_identifier: bioinvest-production-main-dr
    force: true
"""

RETURN = r"""
promoted:
  description: Whether this run promoted the replica (false when it already was standalone).
  returned: always
  type: bool
already_promoted:
  description: The instance was already standalone when the module started.
  returned: always
  type: bool
forced:
  description: Names of the failed pre-checks that O(force) overrode.
  returned: always
  type: list
  elements: str
  sample: [replica_lag]
checks:
  description: Every pre-check with its outcome (V(null) when not evaluated).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: replica_lag, passed: true, blocking: true, detail: "ReplicaLag 12 s, RPO 300 s"}
plan:
  description: What the module does (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
replica_lag_seconds:
  description: The newest C(ReplicaLag) before the promotion, the data at risk (RPO achieved).
  returned: always
  type: float
fence:
  description:
    - What fencing did. C(status) is fenced, already_fenced, unreachable, absent or skipped.
  returned: always
  type: dict
  sample: {status: fenced, db_instance_identifier: plinth-production-main, region: us-east-1,
           security_group_id: sg-0123, previous_security_group_ids: [sg-0456]}
timeline:
  description:
    - Each step with ISO 8601 C(start) and C(end), C(seconds) and C(waited_seconds) (AWS waits).
  returned: always
  type: list
  elements: dict
rto_seconds:
  description: Wall time from the start of the module to an available, standalone instance.
  returned: always
  type: float
waited_seconds:
  description: Time spent waiting on AWS; RV(rto_seconds) minus this is the module's own overhead.
  returned: always
  type: float
endpoint:
  description: The promoted instance's endpoint.
  returned: when the instance exists
  type: dict
  sample: {address: plinth-production-main-dr.xyz.us-west-2.rds.amazonaws.com, port: 5432}
source:
  description: The old primary (identifier and region), as given or as the replica reported it.
  returned: always
  type: dict
instance:
  description: The DB instance as C(DescribeDBInstances) reports it, in snake_case.
  returned: when the instance exists
  type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore
    from botocore.waiter import WaiterModel, create_waiter_with_client

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.plinth.platform.plugins.module_utils.rds_dr import (
    PROMOTED_WAITER,
    InstanceManager,
    blocking_failures,
    describe_instance,
    is_replica,
    parse_source,
    pending_maintenance,
    prechecks,
    replica_lag,
)

FENCE_DESCRIPTION = "Plinth DR fence: no ingress, so no writes reach a demoted primary"


class PromotionManager(InstanceManager):
    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(
            module,
            {
                "promoted": False,
                "already_promoted": False,
                "forced": [],
                "checks": [],
                "replica_lag_seconds": None,
                "fence": {"status": "skipped"},
            },
        )
        self.cloudwatch = module.client("cloudwatch", retry_decorator=self.retry)

    def wait(self, waiter_name: str) -> None:
        model = WaiterModel(PROMOTED_WAITER)
        self.wait_with(
            create_waiter_with_client(waiter_name, model, self.module.client("rds")), waiter_name
        )

    # --- entry point ---------------------------------------------------------------------------

    def run(self) -> None:
        with self.timeline.step("describe"):
            instance = self.describe()
        if instance is None:
            self.module.fail_json(
                msg=f"DB instance {self.identifier} not found in {self.region}", **self.result
            )
        source_id, source_region = parse_source(
            instance.get("ReadReplicaSourceDBInstanceIdentifier"), self.region
        )
        self.result["source"] = {
            "db_instance_identifier": self.params["source_db_instance_identifier"] or source_id,
            "region": self.params["source_region"] or source_region,
        }
        if is_replica(instance):
            self.promote(instance)
        else:
            self.result["already_promoted"] = True
            self.result["fence"] = {"status": "skipped", "reason": "already promoted"}
        instance = self.settle(self.describe() or instance)
        self.finish(instance)

    def promote(self, instance: dict[str, Any]) -> None:
        with self.timeline.step("prechecks"):
            checks = self.prechecks(instance)
        self.result["checks"] = checks
        failures = blocking_failures(checks)
        if failures and not self.params["force"]:
            details = "; ".join(f"{c['name']}: {c['detail']}" for c in failures)
            self.module.fail_json(
                msg=f"Refusing to promote {self.identifier}: {details} (force=true overrides)",
                **self.result,
            )
        self.result["forced"] = [c["name"] for c in failures]
        plan = []
        if self.params["fence"]:
            plan.append(f"fence {self.result['source']['db_instance_identifier']}")
        retention = self.params["backup_retention_period"]
        plan.append(
            f"promote {self.identifier}"
            + (f" with {retention} days of backups" if retention is not None else "")
        )
        self.result["plan"] = plan
        self.result["changed"] = True
        if self.module.check_mode:
            return
        if self.params["fence"]:
            with self.timeline.step("fence"):
                self.result["fence"] = self.fence()
        with self.timeline.step("promote"):
            params: dict[str, Any] = {}
            if retention is not None:
                params["BackupRetentionPeriod"] = retention
            try:
                self.rds.promote_read_replica(
                    DBInstanceIdentifier=self.identifier, aws_retry=True, **params
                )
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.fail(e, f"Failed to promote {self.identifier}")
            self.wait("DBInstancePromoted")
        self.result["promoted"] = True

    def prechecks(self, instance: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            lag = replica_lag(self.cloudwatch, self.identifier)
            maintenance = (
                pending_maintenance(self.rds, instance["DBInstanceArn"])
                if self.params["check_pending_maintenance"]
                else None
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to read the pre-check data of {self.identifier}")
        self.result["replica_lag_seconds"] = lag
        return prechecks(instance, lag, self.params["max_lag_seconds"], maintenance)

    # --- fencing -------------------------------------------------------------------------------

    def fence(self) -> dict[str, Any]:
        source = self.result["source"]
        identifier, region = source["db_instance_identifier"], source["region"]
        if not identifier or not region:
            return {"status": "skipped", "reason": "the replica reports no source"}
        outcome: dict[str, Any] = {"db_instance_identifier": identifier, "region": region}
        try:
            rds = self.module.client("rds", retry_decorator=self.retry, region=region)
            old = describe_instance(rds, identifier)
            if old is None:
                return {**outcome, "status": "absent"}
            current = [g["VpcSecurityGroupId"] for g in old.get("VpcSecurityGroups", [])]
            ec2 = self.module.client("ec2", retry_decorator=self.retry, region=region)
            vpc_id = self.vpc_of(ec2, old, current)
            if vpc_id is None:
                return {**outcome, "status": "skipped", "reason": "no VPC found for the primary"}
            group_id = self.fence_group(ec2, vpc_id, identifier)
            outcome.update(security_group_id=group_id, previous_security_group_ids=current)
            if current == [group_id]:
                return {**outcome, "status": "already_fenced"}
            rds.modify_db_instance(
                DBInstanceIdentifier=identifier,
                VpcSecurityGroupIds=[group_id],
                ApplyImmediately=True,
                aws_retry=True,
            )
        except (
            botocore.exceptions.EndpointConnectionError,
            botocore.exceptions.ConnectTimeoutError,
        ) as e:
            # The old primary's region is down: nothing can write there either.
            return {**outcome, "status": "unreachable", "reason": str(e)}
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to fence {identifier} in {region}")
        return {**outcome, "status": "fenced"}

    @staticmethod
    def vpc_of(ec2: Any, instance: dict[str, Any], groups: list[str]) -> str | None:
        vpc_id = (instance.get("DBSubnetGroup") or {}).get("VpcId")
        if vpc_id or not groups:
            return vpc_id
        found = ec2.describe_security_groups(GroupIds=groups[:1], aws_retry=True)["SecurityGroups"]
        return found[0].get("VpcId") if found else None

    @staticmethod
    def fence_group(ec2: Any, vpc_id: str, identifier: str) -> str:
        name = f"{identifier}-fence"
        found = ec2.describe_security_groups(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "group-name", "Values": [name]},
            ],
            aws_retry=True,
        )["SecurityGroups"]
        if found:
            return found[0]["GroupId"]
        created = ec2.create_security_group(
            GroupName=name,
            Description=FENCE_DESCRIPTION,
            VpcId=vpc_id,
            TagSpecifications=[
                {
                    "ResourceType": "security-group",
                    "Tags": [
                        {"Key": "Name", "Value": name},
                        {"Key": "plinth:role", "Value": "dr-fence"},
                    ],
                }
            ],
            aws_retry=True,
        )
        return created["GroupId"]

    # --- after the promotion -------------------------------------------------------------------

    def settle(self, instance: dict[str, Any]) -> dict[str, Any]:
        """Reconcile Multi-AZ and backup retention on the standalone instance."""
        if is_replica(instance):  # only in check mode: the promotion was planned, not done
            if self.params["multi_az"]:
                self.result["plan"].append(f"turn Multi-AZ on for {self.identifier}")
            self.tag(instance)
            return instance
        changes: dict[str, Any] = {}
        if self.params["multi_az"] and not instance.get("MultiAZ"):
            changes["MultiAZ"] = True
        retention = self.params["backup_retention_period"]
        if retention is not None and instance.get("BackupRetentionPeriod") != retention:
            changes["BackupRetentionPeriod"] = retention
        self.tag(instance)
        if not changes:
            return instance
        self.result["plan"].append(f"modify {self.identifier}: {', '.join(sorted(changes))}")
        self.result["changed"] = True
        if self.module.check_mode:
            return instance
        with self.timeline.step("multi_az" if "MultiAZ" in changes else "modify"):
            try:
                self.rds.modify_db_instance(
                    DBInstanceIdentifier=self.identifier,
                    ApplyImmediately=True,
                    aws_retry=True,
                    **changes,
                )
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.fail(e, f"Failed to modify {self.identifier}")
            self.wait("DBInstanceAvailable")
        return self.describe() or instance

    def tag(self, instance: dict[str, Any]) -> None:
        wanted = self.params["tags"]
        if not wanted:
            return
        current = boto3_tag_list_to_ansible_dict(instance.get("TagList", []))
        to_set, _unset = compare_aws_tags(current, wanted, purge_tags=False)
        if not to_set:
            return
        self.result["plan"].append(f"tag {self.identifier}: {', '.join(sorted(to_set))}")
        self.result["changed"] = True
        if self.module.check_mode:
            return
        try:
            self.rds.add_tags_to_resource(
                ResourceName=instance["DBInstanceArn"],
                Tags=ansible_dict_to_boto3_tag_list(to_set),
                aws_retry=True,
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to tag {self.identifier}")

    def finish(self, instance: dict[str, Any]) -> None:
        endpoint = instance.get("Endpoint") or {}
        self.result.update(
            instance=camel_dict_to_snake_dict(instance),
            endpoint={"address": endpoint.get("Address"), "port": endpoint.get("Port")},
            timeline=self.timeline.steps,
            rto_seconds=self.timeline.total_seconds,
            waited_seconds=self.timeline.waited_seconds,
        )
        if self.module._diff:
            # The wanted state is always a standalone instance; check mode shows the planned one.
            self.result["diff"] = {
                "before": {"read_replica": not self.result["already_promoted"]},
                "after": {"read_replica": False},
            }
        self.module.exit_json(**self.result)


def main() -> None:
    argument_spec = dict(
        db_instance_identifier=dict(type="str", required=True),
        source_db_instance_identifier=dict(type="str"),
        source_region=dict(type="str"),
        max_lag_seconds=dict(type="int", default=300),
        force=dict(type="bool", default=False),
        check_pending_maintenance=dict(type="bool", default=True),
        fence=dict(type="bool", default=False),
        backup_retention_period=dict(type="int"),
        multi_az=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=3600),
        poll_interval=dict(type="int", default=5),
        tags=dict(type="dict", aliases=["resource_tags"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    PromotionManager(module).run()


if __name__ == "__main__":
    main()
