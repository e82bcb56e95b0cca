#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: elasticache_replication_groups
version_added: "0.1.0"
short_description: Manage a set of ElastiCache (Redis OSS / Valkey) replication groups in one task
description:
  - Makes a set of ElastiCache replication groups exist as given, each with the options of
    M(plinth.platform.elasticache_replication_group) and the same rules - the same comparison
    (so a rerun makes no change), the same refusal of attributes fixed at creation, the same
    replica / shard count calls.
  - One C(DescribeReplicationGroups) and one C(DescribeCacheClusters) (neither naming a group)
    read every group and member cluster, then C(ListTagsForResource) per existing group; an
    unchanged set of N groups costs N + 2 calls.
  - Every create and change is started first, for all groups (a group that is not available, or
    that needs a second write, is waited for before that write, because ElastiCache refuses
    changes to a group that is not available); then all changed groups are waited on together
    with the C(replication_group_available) waiter, within one O(wait_timeout).
  - Every item is checked (duplicate ids, sharded and cluster-mode-disabled options together,
    missing description of a group to create, immutable changes) before any write; bad input
    fails before any call, naming the item and the option.
  - Ensures the cache subnet groups of O(cache_subnet_groups) first (description and subnets),
    so the groups' subnet group and the groups take one run; they cost one more
    C(DescribeCacheSubnetGroups) (not naming a group) on a no-op.
  - Only creates and updates; use M(plinth.platform.elasticache_replication_group) with
    O(plinth.platform.elasticache_replication_group#module:state=absent) to delete, and for AUTH
    token rotation.
author: Plinth engineering (!UNKNOWN)
options:
  replication_groups:
    description:
      - The replication groups, each identified by O(replication_groups[].replication_group_id).
    type: list
    elements: dict
    required: true
    suboptions:
      replication_group_id:
        description:
          - The replication group identifier (lower case, at most 40 characters).
        required: true
        type: str
      description:
        description:
          - The replication group description. Required when the group is created.
        type: str
      engine:
        description:
          - The cache engine; V(redis) to V(valkey) upgrades in place, V(valkey) to V(redis) is
            refused.
        choices: [redis, valkey]
        type: str
      engine_version:
        description:
          - The engine version; C(major.minor) (V(7.1)) matches the full version ElastiCache
            reports (C(7.1.0)). An older version is refused.
        type: str
      node_type:
        description:
          - The cache node type, for example V(cache.t4g.small).
        type: str
      num_cache_clusters:
        description:
          - Cluster mode disabled; primary plus replicas (1 to 6).
          - Mutually exclusive with O(replication_groups[].num_node_groups) and
            O(replication_groups[].replicas_per_node_group).
        type: int
      num_node_groups:
        description:
          - Sharded (cluster mode enabled); the number of shards.
        type: int
      replicas_per_node_group:
        description:
          - Sharded (cluster mode enabled); the number of replicas in each shard (0 to 5).
        type: int
      cache_parameter_group_name:
        description:
          - The cache parameter group. When omitted on create ElastiCache uses the engine default.
        type: str
      cache_subnet_group_name:
        description:
          - The cache subnet group. Cannot be changed after creation.
        type: str
      security_group_ids:
        description:
          - VPC security group ids for the member clusters.
        type: list
        elements: str
      port:
        description:
          - The port the nodes accept connections on. Cannot be changed after creation.
        type: int
      transit_encryption_enabled:
        description:
          - Enable in-transit encryption (TLS); only set at creation, a different value on an
            existing group is refused.
        type: bool
      auth_token:
        description:
          - The Redis AUTH token, passed when the group is created and never sent to an existing
            group (ElastiCache never returns it, so it cannot be compared).
          - Never returned, logged or shown in the diff.
        type: str
      at_rest_encryption_enabled:
        description:
          - Enable encryption at rest. Cannot be changed after creation.
        type: bool
      kms_key_id:
        description:
          - The KMS key (id or ARN) for encryption at rest. Cannot be changed after creation.
        type: str
      automatic_failover_enabled:
        description:
          - Enable automatic failover (needs at least one replica).
        type: bool
      multi_az_enabled:
        description:
          - Enable Multi-AZ (needs automatic failover).
        type: bool
      snapshot_retention_limit:
        description:
          - Days automatic snapshots are kept; V(0) disables automatic snapshots.
        type: int
      snapshot_window:
        description:
          - The daily UTC time range for automatic snapshots, for example V(05:00-06:00).
        type: str
      preferred_maintenance_window:
        description:
          - The weekly UTC maintenance window, for example V(sun:23:00-mon:01:30).
        type: str
      log_delivery_configurations:
        description:
          - Slow-log and engine-log delivery. When given, the list is the complete set and log
            types not listed are disabled. Omit the option to leave log delivery alone.
        type: list
        elements: dict
        suboptions:
          log_type:
            description: Which log to deliver.
            choices: [slow-log, engine-log]
            required: true
            type: str
          destination_type:
            description: Where to deliver it.
            choices: [cloudwatch-logs, kinesis-firehose]
            default: cloudwatch-logs
            type: str
          destination:
            description: The CloudWatch Logs log group name or the Kinesis Data Firehose stream.
            required: true
            type: str
          log_format:
            description: The log record format.
            choices: [json, text]
            default: json
            type: str
      apply_immediately:
        description:
          - Apply C(ModifyReplicationGroup) changes now rather than in the next maintenance
            window. Replica and shard count changes are always applied immediately.
        default: false
        type: bool
      tags:
        description:
          - The tags of the group. V(null) leaves an existing group's tags alone.
        type: dict
  cache_subnet_groups:
    description:
      - Cache subnet groups made to exist (created, or changed when their description or subnets
        differ) before any replication group is created or changed. All are read with one
        C(DescribeCacheSubnetGroups); their input is checked with the groups', before any call.
      - Groups are not deleted (use M(community.aws.elasticache_subnet_group)) and their tags are
        not managed (as with M(community.aws.elasticache_subnet_group)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The group name (letters, digits, hyphens; ElastiCache keeps it lower case).
        type: str
        required: true
      description:
        description: The group description.
        type: str
        required: true
      subnet_ids:
        description: The VPC subnets of the group (all of them).
        type: list
        elements: str
        required: true
  purge_tags:
    description:
      - Whether tags not in O(replication_groups[].tags) are removed from the groups.
    default: true
    type: bool
  wait:
    description:
      - Wait for the created and changed groups to be available, all together.
      - Whatever this is set to, a group is waited for before a write ElastiCache would refuse
        while it is not available.
    default: true
    type: bool
  wait_timeout:
    description:
      - How long to wait, in seconds, for all the groups together (and for each wait before a
        write).
    default: 1800
    type: int
notes:
  - The moto 5.2.5 notes of M(plinth.platform.elasticache_replication_group) apply (no member
    cache clusters, so the member-only options are not compared and the module warns; no replica
    or shard count calls; most C(ModifyReplicationGroup) parameters dropped).
  - moto 5.2.5 does not implement C(ModifyCacheSubnetGroup), so changing an existing cache subnet
    group's subnets or description fails against it (creating and reading work).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A cache and its subnet group in one run
  plinth.platform.elasticache_replication_groups:
    cache_subnet_groups:
      - name: app-cache-subnets
        description: App caches (private subnets)
        subnet_ids: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
    replication_groups:
      - replication_group_id: app-cache
        description: Application cache
        node_type: cache.t4g.small
        num_cache_clusters: 1
        cache_subnet_group_name: app-cache-subnets

- name: Two caches, started together and waited on together
  plinth.platform.elasticache_replication_groups:
    replication_groups:
      - replication_group_id: app-cache
        description: Application cache
        engine: redis
        engine_version: "7.1"
        node_type: cache.r7g.large
        num_cache_clusters: 3
        cache_subnet_group_name: app-cache-subnets
        security_group_ids: [sg-0123456789abcdef0]
        transit_encryption_enabled: true
        auth_token: "{{ vault_app_cache_token }}"
        at_rest_encryption_enabled: true
        automatic_failover_enabled: true
        multi_az_enabled: true
        tags:
          service: app
      - replication_group_id: sessions
        description: Session store
        engine: valkey
        engine_version: "8.0"
        node_type: cache.m7g.large
        num_node_groups: 3
        replicas_per_node_group: 2
        automatic_failover_enabled: true
  register: caches
  no_log: true
"""

RETURN = r"""
changed:
  description: Whether any group was created or changed (in check mode, would be).
  returned: always
  type: bool
replication_groups:
  description:
    - One entry per O(replication_groups) item, in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    replication_group_id:
      description: The identifier.
      type: str
      sample: app-cache
    changed:
      description: Whether this group was created or changed.
      type: bool
    replication_group:
      description:
        - What M(plinth.platform.elasticache_replication_group) returns as its
          C(replication_group) - the group in snake_case with endpoints, member-cluster
          attributes and tags. Empty in check mode before creation. Never contains the AUTH
          token.
      type: dict
    diff:
      description: This group's managed attributes before and after; never the AUTH token.
      returned: when diff mode is on
      type: dict
cache_subnet_groups:
  description: The cache subnet groups in the order of O(cache_subnet_groups).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The group name (lower case).
      type: str
      sample: app-cache-subnets
    changed:
      description: Whether the group was (would be) created or changed.
      type: bool
    vpc_id:
      description: The VPC of the group; V("") when it does not exist (check mode).
      type: str
    subnet_ids:
      description: The subnets of the group (sorted).
      type: list
      elements: str
diff:
  description:
    - The managed attributes of every group before and after, by replication group id, and of
      the cache subnet groups that change under C(cache_subnet_group:<name>).
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: By id; empty for a group that did not exist.
      type: dict
    after:
      description: By id.
      type: dict
"""

import contextlib
import time
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
)
from ansible_collections.plinth.platform.plugins.module_utils.bulk import call, refuse_duplicates
from ansible_collections.plinth.platform.plugins.module_utils.elasticache import (
    UpdatePlan,
    cache_subnet_group_state,
    cache_subnet_group_write,
    create_parameters,
    describe_cache_clusters,
    describe_cache_subnet_groups,
    describe_replication_groups,
    desired_attributes_on_create,
    list_tags,
    normalize_replication_group,
    plan_update,
    validate_cache_subnet_group,
)

WAITER_DELAY = 15


class ReplicationGroupsManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.items: list[dict[str, Any]] = module.params["replication_groups"]
        self.ids: list[str] = [item["replication_group_id"] for item in self.items]
        self.client: Any = None
        self.deadline = 0.0

    # --- input ---------------------------------------------------------------------------------

    def validate(self) -> None:
        """Refuse bad input before any call, naming the item and the option."""
        refuse_duplicates(self.module, self.ids, "replication_group_id in replication_groups")
        problems = []
        for group_id, item in zip(self.ids, self.items, strict=True):
            if item["num_cache_clusters"] is not None:
                both = [
                    name
                    for name in ("num_node_groups", "replicas_per_node_group")
                    if item[name] is not None
                ]
                if both:
                    problems.append(
                        f"{group_id}: num_cache_clusters and {' and '.join(both)} are mutually "
                        "exclusive (cluster mode disabled or sharded)"
                    )
        if problems:
            self.module.fail_json(msg="Invalid replication_groups: " + "; ".join(problems))
        subnet_groups = self.module.params["cache_subnet_groups"]
        for index, wanted in enumerate(subnet_groups):
            problems.extend(validate_cache_subnet_group(index, wanted))
        if problems:
            self.module.fail_json(msg="Invalid cache_subnet_groups: " + "; ".join(problems))
        refuse_duplicates(
            self.module,
            [wanted["name"].lower() for wanted in subnet_groups],
            "name in cache_subnet_groups",
        )

    # --- cache subnet groups -------------------------------------------------------------------

    def plan_subnet_groups(self) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
        """Each wanted cache subnet group's result entry (and diff), and the writes it needs."""
        wanted_groups = self.module.params["cache_subnet_groups"]
        if not wanted_groups:
            return [], []
        try:
            found_groups = describe_cache_subnet_groups(self.client)
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg="Failed to describe the cache subnet groups")
        entries, writes = [], []
        for wanted in wanted_groups:
            name = wanted["name"].lower()
            found = found_groups.get(name)
            write = cache_subnet_group_write(wanted, found)
            entry: dict[str, Any] = {
                "name": name,
                "changed": write is not None,
                "vpc_id": (found or {}).get("VpcId", ""),
                "subnet_ids": cache_subnet_group_state(found).get("subnet_ids", []),
            }
            if write is not None:
                writes.append(write)
                entry["subnet_ids"] = write[1]["SubnetIds"]
                entry["diff"] = {
                    "before": cache_subnet_group_state(found),
                    "after": {
                        "description": write[1]["CacheSubnetGroupDescription"],
                        "subnet_ids": write[1]["SubnetIds"],
                    },
                }
            entries.append(entry)
        return entries, writes

    def ensure_subnet_groups(
        self, entries: list[dict[str, Any]], writes: list[tuple[str, dict[str, Any]]]
    ) -> None:
        for operation, request in writes:
            name = request["CacheSubnetGroupName"]
            what = f"{operation.replace('_', ' ')} {name}"
            response = call(self.module, self.client, operation, what, **request)
            vpc_id = ((response or {}).get("CacheSubnetGroup") or {}).get("VpcId", "")
            for entry in entries:
                if entry["name"] == name and vpc_id:
                    entry["vpc_id"] = vpc_id

    # --- reading -------------------------------------------------------------------------------

    def read(self, ids: list[str]) -> tuple[dict[str, dict], dict[str, dict]]:
        """The named groups that exist, by id, and the first describable member cluster of each.

        One DescribeReplicationGroups and one DescribeCacheClusters for the whole account: on a
        no-op that is cheaper than one pair per group.
        """
        wanted = set(ids)
        try:
            groups = {
                g["ReplicationGroupId"]: g
                for g in describe_replication_groups(self.client)
                if g["ReplicationGroupId"] in wanted
            }
            clusters = describe_cache_clusters(self.client) if groups else {}
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg="Failed to describe the replication groups")
        members = {}
        for group_id, group in groups.items():
            for cluster_id in group.get("MemberClusters") or []:
                if cluster_id in clusters:
                    members[group_id] = clusters[cluster_id]
                    break
        return groups, members

    def tags_of(self, group_id: str, group: dict[str, Any]) -> dict[str, str]:
        try:
            return list_tags(self.client, group["ARN"])
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to list tags of {group_id}")

    # --- waiting -------------------------------------------------------------------------------

    def wait_available(self, group_id: str) -> None:
        attempts = max(1, int(self.deadline - time.monotonic()) // WAITER_DELAY)
        try:
            self.client.get_waiter("replication_group_available").wait(
                ReplicationGroupId=group_id,
                WaiterConfig={"Delay": WAITER_DELAY, "MaxAttempts": attempts},
            )
        except WaiterError as e:
            self.module.fail_json_aws(
                e, msg=f"Timed out or failed waiting for {group_id} to be available"
            )
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed waiting for {group_id}")

    # --- the run -------------------------------------------------------------------------------

    def run(self) -> None:
        self.validate()
        p = self.module.params
        self.client = self.module.client("elasticache", retry_decorator=AWSRetry.jittered_backoff())
        self.deadline = time.monotonic() + p["wait_timeout"]
        subnet_entries, subnet_writes = self.plan_subnet_groups()
        groups, members = self.read(self.ids)

        # Plan every item before any write: one bad item stops them all.
        problems: list[str] = []
        plans: dict[str, UpdatePlan] = {}
        tags: dict[str, dict[str, str]] = {}
        writes: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        before: dict[str, dict] = {}
        after: dict[str, dict] = {}
        for group_id, item in zip(self.ids, self.items, strict=True):
            group = groups.get(group_id)
            if group is None:
                if not item["description"]:
                    problems.append(f"{group_id}: description is required to create it")
                    continue
                writes[group_id] = [("create_replication_group", create_parameters(group_id, item))]
                before[group_id], after[group_id] = {}, desired_attributes_on_create(item)
                continue
            status = group.get("Status")
            if status == "deleting":
                problems.append(f"{group_id}: being deleted; run again once it is gone")
                continue
            if status == "create-failed":
                problems.append(
                    f"{group_id}: failed to create; delete it (state=absent) and create it again"
                )
                continue
            tags[group_id] = self.tags_of(group_id, group)
            plan = plan_update(item, group, members.get(group_id), tags[group_id], p["purge_tags"])
            if plan.refused:
                problems.append(f"{group_id}: cannot change in place: " + "; ".join(plan.refused))
                continue
            if plan.unchecked:
                self.module.warn(
                    f"No member cluster of {group_id} could be described, so these "
                    f"options were not compared or changed: {', '.join(plan.unchecked)}"
                )
            plans[group_id] = plan
            before[group_id], after[group_id] = plan.before, plan.after
            if plan.writes:
                writes[group_id] = list(plan.writes)
        if problems:
            self.module.fail_json(
                msg="Cannot manage the replication groups: " + "; ".join(problems)
            )

        changed_ids = [
            group_id
            for group_id in self.ids
            if group_id in writes or (group_id in plans and plans[group_id].changed)
        ]
        if subnet_writes and not self.module.check_mode:
            self.ensure_subnet_groups(subnet_entries, subnet_writes)
        if changed_ids and not self.module.check_mode:
            self.start(groups, writes, plans)
            if p["wait"]:
                for group_id in changed_ids:
                    self.wait_available(group_id)
            groups, members = self.read(self.ids)
            for group_id in changed_ids:
                tags[group_id] = after[group_id]["tags"]
        for entry in subnet_entries:
            diff = entry.pop("diff", None)
            if diff is not None:
                key = f"cache_subnet_group:{entry['name']}"
                before[key], after[key] = diff["before"], diff["after"]
        self.exit(groups, members, tags, changed_ids, before, after, subnet_entries)

    def start(
        self,
        groups: dict[str, dict],
        writes: dict[str, list[tuple[str, dict[str, Any]]]],
        plans: dict[str, UpdatePlan],
    ) -> None:
        """Start every write: the first write of every group, then the second ones, and so on.

        A group is only waited for when ElastiCache would refuse the write otherwise: before
        its first write when it is not available, and before every further write.
        """
        depth = max((len(w) for w in writes.values()), default=0)
        for step in range(depth):
            for group_id in self.ids:
                if len(writes.get(group_id, [])) <= step:
                    continue
                operation, request = writes[group_id][step]
                if operation == "create_replication_group":
                    call(
                        self.module,
                        self.client,
                        operation,
                        f"create replication group {group_id}",
                        **request,
                    )
                    continue
                if step > 0 or groups[group_id].get("Status") != "available":
                    self.wait_available(group_id)
                call(
                    self.module,
                    self.client,
                    operation,
                    f"{operation} on {group_id}",
                    ReplicationGroupId=group_id,
                    **request,
                )
        for group_id, plan in plans.items():
            arn = groups[group_id]["ARN"]
            if plan.tags_to_unset:
                call(
                    self.module,
                    self.client,
                    "remove_tags_from_resource",
                    f"update tags of {group_id}",
                    ResourceName=arn,
                    TagKeys=plan.tags_to_unset,
                )
            if plan.tags_to_set:
                call(
                    self.module,
                    self.client,
                    "add_tags_to_resource",
                    f"update tags of {group_id}",
                    ResourceName=arn,
                    Tags=ansible_dict_to_boto3_tag_list(plan.tags_to_set),
                )

    def exit(
        self,
        groups: dict[str, dict],
        members: dict[str, dict],
        tags: dict[str, dict[str, str]],
        changed_ids: list[str],
        before: dict[str, dict],
        after: dict[str, dict],
        subnet_entries: list[dict[str, Any]],
    ) -> None:
        results = []
        for group_id in self.ids:
            group = groups.get(group_id)
            entry: dict[str, Any] = {
                "replication_group_id": group_id,
                "changed": group_id in changed_ids,
                "replication_group": (
                    normalize_replication_group(group, members.get(group_id), tags.get(group_id))
                    if group
                    else {}
                ),
            }
            if self.module._diff:
                entry["diff"] = {"before": before[group_id], "after": after[group_id]}
            results.append(entry)
        result: dict[str, Any] = {
            "changed": bool(changed_ids) or any(e["changed"] for e in subnet_entries),
            "replication_groups": results,
            "cache_subnet_groups": subnet_entries,
        }
        if self.module._diff:
            result["diff"] = {"before": before, "after": after}
        self.module.exit_json(**result)


def main() -> None:
    log_delivery_spec = dict(
        log_type=dict(type="str", required=True, choices=["slow-log", "engine-log"]),
        destination_type=dict(
            type="str", default="cloudwatch-logs", choices=["cloudwatch-logs", "kinesis-firehose"]
        ),
        destination=dict(type="str", required=True),
        log_format=dict(type="str", default="json", choices=["json", "text"]),
    )
    group_spec = dict(
        replication_group_id=dict(type="str", required=True),
        description=dict(type="str"),
        engine=dict(type="str", choices=["redis", "valkey"]),
        engine_version=dict(type="str"),
        node_type=dict(type="str"),
        num_cache_clusters=dict(type="int"),
        num_node_groups=dict(type="int"),
        replicas_per_node_group=dict(type="int"),
        cache_parameter_group_name=dict(type="str"),
        cache_subnet_group_name=dict(type="str"),
        security_group_ids=dict(type="list", elements="str"),
        port=dict(type="int"),
        transit_encryption_enabled=dict(type="bool"),
        auth_token=dict(type="str", no_log=True),
        at_rest_encryption_enabled=dict(type="bool"),
        kms_key_id=dict(type="str"),
        automatic_failover_enabled=dict(type="bool"),
        multi_az_enabled=dict(type="bool"),
        snapshot_retention_limit=dict(type="int"),
        snapshot_window=dict(type="str"),
        preferred_maintenance_window=dict(type="str"),
        log_delivery_configurations=dict(type="list", elements="dict", options=log_delivery_spec),
        apply_immediately=dict(type="bool", default=False),
        tags=dict(type="dict"),
    )
    subnet_group_spec = dict(
        name=dict(type="str", required=True),
        description=dict(type="str", required=True),
        subnet_ids=dict(type="list", elements="str", required=True),
    )
    argument_spec = dict(
        cache_subnet_groups=dict(
            type="list", elements="dict", default=[], options=subnet_group_spec
        ),
        replication_groups=dict(type="list", elements="dict", required=True, options=group_spec),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    ReplicationGroupsManager(module).run()


if __name__ == "__main__":
    main()
