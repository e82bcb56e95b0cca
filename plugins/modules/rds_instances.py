#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_instances
version_added: 0.1.0
short_description: Ensure a set of RDS DB instances (primaries and read replicas) in one task
description:
  - Makes a set of RDS DB instances exist with the given settings, in dependency order - the
    primaries are created or modified together and waited on together, then the read replicas
    (same-region ones from their source's id, cross-region ones from their source's ARN) are
    created or modified together and waited on together.
  - One C(DescribeDBInstances) per region proves every instance of that region unchanged (tags
    included), so a no-op run makes one call per region instead of the many calls and the one
    task (plus an C(async_status) wait) per instance of M(amazon.aws.rds_instance).
  - Compares by AWS's semantics - a pending modification counts as done,
    O(instances[].engine_version) C(16) matches any 16.x and a later minor version (automatic
    minor upgrades) is kept (only upgrades are requested), storage only grows, Performance
    Insights is compared only when the instance reports it.
  - What cannot change on an existing instance (engine, master user name, database name,
    encryption and its KMS key, the Performance Insights key once enabled, a replica's source)
    fails the module with the instance and the attribute, before anything is written.
  - Also reports, in RV(existing), the instances of the regions it reads that carry
    O(discover_tags), so a caller can decide which passwords to generate or which replicas are
    surplus. With O(instances=[]) the module only reads.
  - Ensures the DB subnet groups of O(subnet_groups) first (their description, subnets and tags),
    so the instances' subnet groups and the instances take one run.
  - Instances are not deleted; use M(amazon.aws.rds_instance) with
    O(amazon.aws.rds_instance#module:state=absent).
author:
  - Plinth engineering (!UNKNOWN)
options:
  instances:
    description:
      - The instances. An item with O(instances[].source_id) is a read replica, the others are
        primaries. An option left out (V(null)) is not managed.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The DB instance identifier; unique within a region.
        type: str
        required: true
      region:
        description: The region of the instance; by default the module's region.
        type: str
      source_id:
        description:
          - Makes the instance a read replica of this instance - its id (of an instance in
            O(instances[].source_region), or of a primary in the same run) or its ARN.
          - A cross-region replica gets the source's ARN; boto3 signs the request with the
            source's region.
        type: str
      source_region:
        description:
          - The region of O(instances[].source_id) when it is an id; by default the replica's own
            region. Derived from the ARN when O(instances[].source_id) is an ARN.
        type: str
      engine:
        description: The engine of a primary (cannot change).
        type: str
      engine_version:
        description:
          - The engine version of a primary (C(16) or C(16.4)); only upgrades are requested
            (a major one with C(AllowMajorVersionUpgrade)).
        type: str
      instance_class:
        description: The DB instance class.
        type: str
        required: true
      allocated_storage:
        description: GiB of a primary; storage only grows.
        type: int
      max_allocated_storage:
        description: The storage autoscaling ceiling in GiB.
        type: int
      storage_type:
        description: The storage type (V(gp3), V(io1), V(io2), V(gp2)).
        type: str
      iops:
        description: Provisioned IOPS.
        type: int
      storage_throughput:
        description: Storage throughput in MiB/s (gp3).
        type: int
      storage_encrypted:
        description: Whether the storage of a primary is encrypted (set at creation, cannot change).
        type: bool
      kms_key_id:
        description:
          - The KMS key (ARN) of the encrypted storage; set at creation, a different key on an
            existing instance fails the module. A cross-region replica needs a key of its own
            region.
        type: str
      master_username:
        description: The master user of a primary (set at creation, cannot change).
        type: str
      master_user_password:
        description:
          - The master password of a primary; used only to create it, never compared nor
            returned.
        type: str
      db_name:
        description: The initial database of a primary (set at creation, cannot change).
        type: str
      port:
        description: The port.
        type: int
      subnet_group:
        description: The DB subnet group.
        type: str
      security_group_ids:
        description: The VPC security groups (all of them); empty or V(null) leaves them alone.
        type: list
        elements: str
      parameter_group:
        description: The DB parameter group.
        type: str
      multi_az:
        description: Whether the instance is Multi-AZ.
        type: bool
      backup_retention_period:
        description: Days of automated backups (a replica gets it after creation).
        type: int
      backup_window:
        description: The daily backup window (UTC C(hh:mm-hh:mm)).
        type: str
      maintenance_window:
        description: The weekly maintenance window (UTC C(ddd:hh:mm-ddd:hh:mm)).
        type: str
      performance_insights:
        description:
          - Whether Performance Insights is on. Compared only when the instance reports it.
        type: bool
      performance_insights_retention_period:
        description: Days of Performance Insights data (7, or a multiple of 31 up to 731).
        type: int
      performance_insights_kms_key_id:
        description:
          - The KMS key of Performance Insights, sent when it is enabled; cannot change after.
        type: str
      log_exports:
        description: The log types exported to CloudWatch Logs (a primary's; others are removed).
        type: list
        elements: str
      publicly_accessible:
        description: Whether the instance has a public address.
        type: bool
      deletion_protection:
        description: Whether deletion protection is on.
        type: bool
      copy_tags_to_snapshot:
        description: Whether tags are copied to snapshots.
        type: bool
      auto_minor_version_upgrade:
        description: Whether minor engine upgrades are applied automatically.
        type: bool
      monitoring_interval:
        description:
          - Enhanced monitoring interval in seconds (0, 1, 5, 10, 15, 30, 60); 0 turns it off.
        type: int
      monitoring_role_arn:
        description:
          - The enhanced monitoring role; needed when O(instances[].monitoring_interval) is not 0.
        type: str
      tags:
        description: Tags of the instance; see O(purge_tags).
        type: dict
  subnet_groups:
    description:
      - DB subnet groups made to exist before the instances, each in O(subnet_groups[].region);
        an unchanged group costs a C(DescribeDBSubnetGroups) per region and a
        C(ListTagsForResource). Groups are not deleted (use M(amazon.aws.rds_subnet_group)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The group name (RDS keeps it lower case).
        type: str
        required: true
      region:
        description: The region of the group; by default the module's region.
        type: str
      description:
        description: The group description.
        type: str
        required: true
      subnet_ids:
        description: The subnets of the group (all of them).
        type: list
        elements: str
        required: true
      tags:
        description: Tags of the group; see O(purge_tags).
        type: dict
  purge_tags:
    description: Whether tags not in O(instances[].tags) or O(subnet_groups[].tags) are removed.
    type: bool
    default: true
  apply_immediately:
    description: Whether modifications apply at once rather than in the next maintenance window.
    type: bool
    default: true
  wait:
    description:
      - Whether to wait (botocore waiter C(db_instance_available)) for the instances created or
        modified.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each group of instances (primaries, then replicas).
    type: int
    default: 3600
  discover_regions:
    description: Regions read for RV(existing) besides those of O(instances).
    type: list
    elements: str
    default: []
  discover_tags:
    description: RV(existing) lists the instances whose tags include all of these ({} - all).
    type: dict
    default: {}
notes:
  - The AWS emulator (moto 5.2.5) reports no Performance Insights attributes, so they are not
    compared there (they are sent when an instance is created); it answers every instance
    C(available) at once and applies every modification immediately (no C(PendingModifiedValues)).
  - The emulator's C(ModifyDBSubnetGroup) (moto 5.2.5) loses the group it modifies; AWS does not.
  - Right after C(ModifyDBInstance) RDS may report C(available) for a few seconds before
    C(modifying); the waiter can return in that moment.
  - In check mode an instance to be created is returned with empty RV(instances[].arn) and
    RV(instances[].endpoint).
  - A KMS key given as an alias cannot be compared with the key ARN RDS reports; give key ARNs.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: A primary, a same-region replica and a cross-region replica in one task
  plinth.platform.rds_instances:
    instances:
      - id: plinth-production-main
        engine: postgres
        engine_version: "16.4"
        instance_class: db.r6g.large
        allocated_storage: 100
        storage_type: gp3
        storage_encrypted: true
        kms_key_id: "{{ key_arn }}"
        master_username: plinth_admin
        master_user_password: "{{ password }}"
        db_name: app
        subnet_group: plinth-production-db
        security_group_ids: [sg-0123456789abcdef0]
        backup_retention_period: 7
        tags: {Name: plinth-production-main}
      - id: plinth-production-main-replica-1
        source_id: plinth-production-main
        instance_class: db.r6g.large
      - id: plinth-production-main-dr
        region: us-west-2
        source_id: plinth-production-main
        source_region: us-east-1
        instance_class: db.r6g.large
        kms_key_id: "{{ dr_key_arn }}"
        subnet_group: plinth-production-db-dr
  register: db

- name: Only read what exists of a stack in two regions
  plinth.platform.rds_instances:
    discover_regions: [us-east-1, us-west-2]
    discover_tags: {"plinth:stack": plinth-production}
  register: found
"""

RETURN = r"""
changed:
  description: Whether any instance was created or changed (in check mode, would be).
  type: bool
  returned: always
instances:
  description: The instances in the order of O(instances), after the run.
  type: list
  elements: dict
  returned: always
  contains:
    id:
      description: The DB instance identifier.
      type: str
      sample: plinth-production-main
    region:
      description: The region.
      type: str
      sample: us-east-1
    arn:
      description: The instance ARN; V("") when it does not exist (check mode).
      type: str
      sample: arn:aws:rds:us-east-1:123456789012:db:plinth-production-main
    endpoint:
      description: The endpoint; V("") and the wanted port while it has none.
      type: dict
      sample: {address: plinth-production-main.abc.us-east-1.rds.amazonaws.com, port: 5432}
    status:
      description: The instance status (V("") when it does not exist).
      type: str
      sample: available
    existed:
      description: Whether the instance existed before the run.
      type: bool
    created:
      description: Whether the instance was (would be) created.
      type: bool
    changed:
      description: Whether the instance was (would be) created or modified.
      type: bool
    modified:
      description:
        - The ModifyDBInstance parameters sent (or that would be), and C(Tags) when tags changed.
      type: list
      elements: str
subnet_groups:
  description: The subnet groups in the order of O(subnet_groups).
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The group name.
      type: str
      sample: plinth-production-db
    region:
      description: The region.
      type: str
      sample: us-east-1
    arn:
      description: The group ARN; V("") when it does not exist (check mode).
      type: str
    vpc_id:
      description: The VPC of the group; V("") when it does not exist.
      type: str
    changed:
      description: Whether the group was (would be) created or changed.
      type: bool
existing:
  description:
    - The instances of the regions read (those of O(instances) and O(discover_regions)) that
      carry O(discover_tags), as they were before the run, as by M(amazon.aws.rds_instance_info)
      (snake_case, C(tags) a dict) plus C(region).
  type: list
  elements: dict
  returned: always
diff:
  description:
    - Before and after of the managed attributes of the instances that change, by id
      (C(region:id) in another region), and of the subnet groups under C(subnet_group:<name>).
  type: dict
  returned: when diff mode is on
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.amazon.aws.plugins.module_utils.transformation import (
    camel_dict_to_snake_dict,
)
from ansible_collections.plinth.platform.plugins.module_utils.bulk import (
    call,
    diff_key,
    item_region,
    refuse_duplicates_by_region,
)
from ansible_collections.plinth.platform.plugins.module_utils.rds import (
    MANAGED,
    arn_region,
    create_params,
    effective,
    immutable_errors,
    modify_params,
    subnet_group_state,
    validate,
    validate_subnet_group,
    wanted_state,
)

WAIT_DELAY = 15


class RdsInstancesManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.clients: dict[str, Any] = {}
        self.found: dict[str, dict[str, dict[str, Any]]] = {}
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def client(self, region: str) -> Any:
        if region not in self.clients:
            # A write on an instance that is briefly busy (backing-up, a replica being made of
            # it) is retried rather than failed.
            self.clients[region] = self.module.client(
                "rds",
                retry_decorator=AWSRetry.jittered_backoff(
                    retries=10, catch_extra_error_codes=["InvalidDBInstanceState"]
                ),
                region=region,
            )
        return self.clients[region]

    # Reads -------------------------------------------------------------------------------------

    def describe(self, region: str, ids: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """The instances of a region by id: every one (one call per 100), or ``ids`` only."""
        params: dict[str, Any] = {}
        if ids:
            params["Filters"] = [{"Name": "db-instance-id", "Values": list(ids)}]
        try:
            paginator = self.client(region).get_paginator("describe_db_instances")
            pages = paginator.paginate(**params).build_full_result()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to describe the DB instances in {region}")
        return {i["DBInstanceIdentifier"]: i for i in pages.get("DBInstances", [])}

    def wait(self, region: str, ids: list[str]) -> None:
        if not ids or not self.params["wait"] or self.module.check_mode:
            return
        waiter = self.client(region).get_waiter("db_instance_available")
        attempts = max(1, self.params["wait_timeout"] // WAIT_DELAY)
        try:
            waiter.wait(
                Filters=[{"Name": "db-instance-id", "Values": ids}],
                WaiterConfig={"Delay": WAIT_DELAY, "MaxAttempts": attempts},
            )
        except botocore.exceptions.WaiterError as e:
            self.module.fail_json_aws(
                e, msg=f"Timed out waiting for {', '.join(ids)} in {region} to be available"
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to wait for {', '.join(ids)} in {region}")

    def describe_subnet_group(self, region: str, name: str) -> dict[str, Any] | None:
        try:
            groups = self.client(region).describe_db_subnet_groups(
                aws_retry=True, DBSubnetGroupName=name
            )["DBSubnetGroups"]
        except is_boto3_error_code("DBSubnetGroupNotFoundFault"):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to describe subnet group {name} in {region}")
        return groups[0] if groups else None

    def tags_of(self, region: str, arn: str) -> dict[str, str]:
        try:
            tags = self.client(region).list_tags_for_resource(aws_retry=True, ResourceName=arn)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to list the tags of {arn}")
        return boto3_tag_list_to_ansible_dict(tags.get("TagList") or [])

    # Subnet groups -----------------------------------------------------------------------------

    def ensure_subnet_group(self, group: dict[str, Any]) -> dict[str, Any]:
        region, name = group["region"], group["name"].lower()
        found = self.describe_subnet_group(region, name)
        tags = self.tags_of(region, found["DBSubnetGroupArn"]) if found else {}
        before = subnet_group_state(found, tags)
        wanted_tags = group.get("tags")
        to_set, to_remove = ({}, [])
        if wanted_tags is not None:
            to_set, to_remove = compare_aws_tags(tags, wanted_tags, self.params["purge_tags"])
        after = {
            "description": group["description"],
            "subnet_ids": sorted(set(group["subnet_ids"])),
            "tags": {k: v for k, v in {**tags, **to_set}.items() if k not in to_remove},
        }
        result = {
            "name": name,
            "region": region,
            "arn": (found or {}).get("DBSubnetGroupArn", ""),
            "vpc_id": (found or {}).get("VpcId", ""),
            "changed": before != after,
        }
        if before == after:
            return result
        self.changed = True
        key = "subnet_group:" + diff_key(self.module, region, name)
        self.before[key], self.after[key] = before, after
        if self.module.check_mode:
            return result
        if found is None:
            created = self.write(
                region,
                "create_db_subnet_group",
                f"create subnet group {name}",
                DBSubnetGroupName=name,
                DBSubnetGroupDescription=group["description"],
                SubnetIds=after["subnet_ids"],
                Tags=ansible_dict_to_boto3_tag_list(wanted_tags or {}),
            )["DBSubnetGroup"]
            return dict(result, arn=created["DBSubnetGroupArn"], vpc_id=created.get("VpcId", ""))
        if before["description"] != after["description"] or (
            before["subnet_ids"] != after["subnet_ids"]
        ):
            self.write(
                region,
                "modify_db_subnet_group",
                f"modify subnet group {name}",
                DBSubnetGroupName=name,
                DBSubnetGroupDescription=group["description"],
                SubnetIds=after["subnet_ids"],
            )
        if to_remove:
            self.write(
                region,
                "remove_tags_from_resource",
                f"untag subnet group {name}",
                ResourceName=result["arn"],
                TagKeys=list(to_remove),
            )
        if to_set:
            self.write(
                region,
                "add_tags_to_resource",
                f"tag subnet group {name}",
                ResourceName=result["arn"],
                Tags=ansible_dict_to_boto3_tag_list(to_set),
            )
        return result

    # Planning ----------------------------------------------------------------------------------

    def validate_subnet_groups(self) -> list[dict[str, Any]]:
        groups = []
        errors: list[str] = []
        for raw in self.params["subnet_groups"]:
            group = dict(raw, region=item_region(self.module, raw))
            if not group["region"]:
                errors.append(f"subnet group {group['name']}: no region")
            errors.extend(validate_subnet_group(group))
            groups.append(group)
        if errors:
            self.module.fail_json(msg="; ".join(errors))
        names = [g["name"].lower() for g in groups]
        refuse_duplicates_by_region(self.module, groups, names, "subnet group names")
        return groups

    def validate(self) -> list[dict[str, Any]]:
        items = []
        errors: list[str] = []
        for raw in self.params["instances"]:
            item = dict(raw, region=item_region(self.module, raw))
            if not item["region"]:
                errors.append(f"{item['id']}: no region (set region or instances[].region)")
            errors.extend(validate(item))
            items.append(item)
        if errors:
            self.module.fail_json(msg="; ".join(errors))
        refuse_duplicates_by_region(self.module, items, [i["id"] for i in items], "instance ids")
        by_key = {(i["region"], i["id"]) for i in items if not i.get("source_id")}
        for item in items:
            source = item.get("source_id")
            if not source:
                continue
            region = arn_region(source) or item.get("source_region") or item["region"]
            item["source_region"] = region
            if (
                arn_region(source) is None
                and (region, source) in {(i["region"], i["id"]) for i in items}
                and (region, source) not in by_key
            ):
                errors.append(f"{item['id']}: its source {source} is a replica in this run")
        if errors:
            self.module.fail_json(msg="; ".join(errors))
        return items

    def source_of(self, item: dict[str, Any], created: dict[tuple[str, str], str]) -> str | None:
        """The source as RDS takes it: the id in the same region, the ARN across regions (None
        while it is unknown: a source still to be created, in check mode)."""
        source, region = item["source_id"], item["source_region"]
        if arn_region(source) or region == item["region"]:
            return source
        if (region, source) in created:
            return created[(region, source)]
        instance = self.found.get(region, {}).get(source)
        return instance["DBInstanceArn"] if instance else None

    def plan(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Current state and changes of every item; every error before anything is written."""
        plans = []
        errors: list[str] = []
        planned = {(i["region"], i["id"]) for i in items}
        for item in items:
            instance = self.found[item["region"]].get(item["id"])
            replica = bool(item.get("source_id"))
            plan: dict[str, Any] = {"item": item, "instance": instance}
            if replica:
                source = item["source_id"]
                known = arn_region(source) or source in self.found.get(item["source_region"], {})
                if not known and (item["source_region"], source) not in planned:
                    errors.append(
                        f"{item['id']}: its source {source} does not exist in "
                        f"{item['source_region']}"
                    )
            if instance is None:
                if not replica and not item.get("master_user_password"):
                    errors.append(f"{item['id']}: does not exist; creating it needs a password")
                plan["current"] = {}
            else:
                current = effective(instance)
                plan["current"] = current
                wanted_source = None
                if replica:
                    wanted_source = self.source_of(item, {}) or item["source_id"]
                errors.extend(immutable_errors(item, current, wanted_source))
            plans.append(plan)
        if errors:
            self.module.fail_json(msg="; ".join(errors))
        return plans

    # Writes ------------------------------------------------------------------------------------

    def write(self, region: str, action: str, what: str, **params: Any) -> Any:
        return call(self.module, self.client(region), action, what, **params)

    def create(self, plan: dict[str, Any], created: dict[tuple[str, str], str]) -> None:
        item = plan["item"]
        region = item["region"]
        plan.update(created=True, modified=[])
        if self.module.check_mode:
            return
        if item.get("source_id"):
            source = self.source_of(item, created)
            cross = item["source_region"] if item["source_region"] != region else None
            params = create_params(item, source, cross)
            response = self.write(
                region,
                "create_db_instance_read_replica",
                f"create the read replica {item['id']}",
                **params,
            )
        else:
            response = self.write(
                region,
                "create_db_instance",
                f"create the DB instance {item['id']}",
                **create_params(item, None, None),
            )
        plan["instance"] = response["DBInstance"]
        created[(region, item["id"])] = response["DBInstance"]["DBInstanceArn"]

    def modify(self, plan: dict[str, Any], current: dict[str, Any]) -> bool:
        """Send what differs; whether anything did (in check mode, would)."""
        item = plan["item"]
        region, name = item["region"], item["id"]
        params, to_set, to_remove = modify_params(item, current, self.params["purge_tags"])
        plan.setdefault("modified", [])
        plan["modified"] += sorted(params) + (["Tags"] if to_set or to_remove else [])
        if not (params or to_set or to_remove):
            return False
        if self.module.check_mode:
            return True
        arn = plan["instance"]["DBInstanceArn"]
        if params:
            response = self.write(
                region,
                "modify_db_instance",
                f"modify {name} ({', '.join(sorted(params))})",
                DBInstanceIdentifier=name,
                ApplyImmediately=self.params["apply_immediately"],
                **params,
            )
            plan["instance"] = response["DBInstance"]
        if to_remove:
            self.write(
                region,
                "remove_tags_from_resource",
                f"untag {name}",
                ResourceName=arn,
                TagKeys=list(to_remove),
            )
        if to_set:
            self.write(
                region,
                "add_tags_to_resource",
                f"tag {name}",
                ResourceName=arn,
                Tags=ansible_dict_to_boto3_tag_list(to_set),
            )
        return bool(params)

    def apply(self, plans: list[dict[str, Any]], created: dict[tuple[str, str], str]) -> None:
        """Create or modify a group of instances, wait for them together, then give the new ones
        what creation could not (a replica's backup retention...) and wait again."""
        touched: dict[str, list[str]] = {}
        for plan in plans:
            item = plan["item"]
            if plan["instance"] is None:
                self.create(plan, created)
                touched.setdefault(item["region"], []).append(item["id"])
            elif self.modify(plan, plan["current"]):
                touched.setdefault(item["region"], []).append(item["id"])
        if self.module.check_mode:
            return
        for region, ids in touched.items():
            self.wait(region, ids)
        again: dict[str, list[str]] = {}
        for region, ids in touched.items():
            now = self.describe(region, ids)
            for plan in plans:
                item = plan["item"]
                if item["region"] != region or item["id"] not in now:
                    continue
                plan["instance"] = now[item["id"]]
                if plan.get("created") and self.modify(plan, effective(now[item["id"]])):
                    again.setdefault(region, []).append(item["id"])
        for region, ids in again.items():
            self.wait(region, ids)
            now = self.describe(region, ids)
            for plan in plans:
                if plan["item"]["region"] == region and plan["item"]["id"] in now:
                    plan["instance"] = now[plan["item"]["id"]]

    # Results -----------------------------------------------------------------------------------

    def result(self, plan: dict[str, Any]) -> dict[str, Any]:
        item, instance = plan["item"], plan["instance"] or {}
        created = bool(plan.get("created"))
        changed = created or bool(plan.get("modified"))
        if changed:
            key = diff_key(self.module, item["region"], item["id"])
            current = plan["current"]
            self.before[key] = {o: current.get(o) for o in MANAGED} if current else {}
            self.after[key] = wanted_state(item, current, self.params["purge_tags"])
            self.changed = True
        endpoint = instance.get("Endpoint") or {}
        return {
            "id": item["id"],
            "region": item["region"],
            "arn": instance.get("DBInstanceArn", ""),
            "endpoint": {
                "address": endpoint.get("Address", ""),
                "port": endpoint.get("Port") or item.get("port") or 0,
            },
            "status": instance.get("DBInstanceStatus", ""),
            "existed": plan["current"] != {},
            "created": created,
            "changed": changed,
            "modified": list(plan.get("modified") or []),
        }

    def existing(self) -> list[dict[str, Any]]:
        wanted_tags = self.params["discover_tags"] or {}
        out = []
        for region, instances in self.found.items():
            for instance in instances.values():
                tags = boto3_tag_list_to_ansible_dict(instance.get("TagList") or [])
                if any(tags.get(k) != v for k, v in wanted_tags.items()):
                    continue
                described = {k: v for k, v in instance.items() if k != "TagList"}
                out.append(dict(camel_dict_to_snake_dict(described), tags=tags, region=region))
        return out

    def run(self) -> None:
        groups = self.validate_subnet_groups()
        items = self.validate()
        regions = [i["region"] for i in items] + list(self.params["discover_regions"] or [])
        regions += [i["source_region"] for i in items if i.get("source_id")]
        for region in dict.fromkeys(r for r in regions if r):
            self.found[region] = self.describe(region)
        existing = self.existing()
        plans = self.plan(items)
        subnet_groups = [self.ensure_subnet_group(group) for group in groups]
        created: dict[tuple[str, str], str] = {}
        self.apply([p for p in plans if not p["item"].get("source_id")], created)
        self.apply([p for p in plans if p["item"].get("source_id")], created)
        out: dict[str, Any] = {
            "instances": [self.result(plan) for plan in plans],
            "subnet_groups": subnet_groups,
            "existing": existing,
        }
        out["changed"] = self.changed
        if self.module._diff:
            out["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**out)


def main() -> None:
    instance = dict(
        id=dict(type="str", required=True),
        region=dict(type="str"),
        source_id=dict(type="str"),
        source_region=dict(type="str"),
        engine=dict(type="str"),
        engine_version=dict(type="str"),
        instance_class=dict(type="str", required=True),
        allocated_storage=dict(type="int"),
        max_allocated_storage=dict(type="int"),
        storage_type=dict(type="str"),
        iops=dict(type="int"),
        storage_throughput=dict(type="int"),
        storage_encrypted=dict(type="bool"),
        kms_key_id=dict(type="str", no_log=False),
        master_username=dict(type="str"),
        master_user_password=dict(type="str", no_log=True),
        db_name=dict(type="str"),
        port=dict(type="int"),
        subnet_group=dict(type="str"),
        security_group_ids=dict(type="list", elements="str"),
        parameter_group=dict(type="str"),
        multi_az=dict(type="bool"),
        backup_retention_period=dict(type="int"),
        backup_window=dict(type="str"),
        maintenance_window=dict(type="str"),
        performance_insights=dict(type="bool"),
        performance_insights_retention_period=dict(type="int"),
        performance_insights_kms_key_id=dict(type="str", no_log=False),
        log_exports=dict(type="list", elements="str"),
        publicly_accessible=dict(type="bool"),
        deletion_protection=dict(type="bool"),
        copy_tags_to_snapshot=dict(type="bool"),
        auto_minor_version_upgrade=dict(type="bool"),
        monitoring_interval=dict(type="int"),
        monitoring_role_arn=dict(type="str"),
        tags=dict(type="dict"),
    )
    subnet_group = dict(
        name=dict(type="str", required=True),
        region=dict(type="str"),
        description=dict(type="str", required=True),
        subnet_ids=dict(type="list", elements="str", required=True),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        instances=dict(type="list", elements="dict", default=[], options=instance),
        subnet_groups=dict(type="list", elements="dict", default=[], options=subnet_group),
        purge_tags=dict(type="bool", default=True),
        apply_immediately=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=3600),
        discover_regions=dict(type="list", elements="str", default=[]),
        discover_tags=dict(type="dict", default={}),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    RdsInstancesManager(module).run()


if __name__ == "__main__":
    main()
