#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: elasticache_replication_group
version_added: "0.1.0"
short_description: Manage an Amazon ElastiCache (Redis OSS / Valkey) replication group
description:
  - Create, modify and delete an ElastiCache replication group, either cluster mode disabled
    (one primary plus read replicas, O(num_cache_clusters)) or sharded
    (O(num_node_groups) shards of O(replicas_per_node_group) replicas each).
  - The group is compared with what ElastiCache reports (C(DescribeReplicationGroups) plus
    C(DescribeCacheClusters) on one member cluster for the attributes only a cluster reports), so
    re-running the same task makes no change.
  - Replica count changes go through C(IncreaseReplicaCount) / C(DecreaseReplicaCount), shard
    count changes through C(ModifyReplicationGroupShardConfiguration), everything else through
    C(ModifyReplicationGroup).
author: Plinth engineering (!UNKNOWN)
options:
  replication_group_id:
    description:
      - The replication group identifier (lower case, at most 40 characters).
    required: true
    type: str
  state:
    description:
      - Whether the replication group should exist.
    default: present
    choices: [present, absent]
    type: str
  description:
    description:
      - The replication group description.
      - Required when the group is created.
    type: str
  engine:
    description:
      - The cache engine.
      - Changing V(redis) to V(valkey) upgrades the engine in place (give O(engine_version) too);
        V(valkey) to V(redis) is refused because ElastiCache cannot do it.
    choices: [redis, valkey]
    type: str
  engine_version:
    description:
      - The engine version.  From Redis OSS 6 on, and for Valkey, give C(major.minor) (for example
        V(7.1)); ElastiCache picks the newest patch release and reports the full version, which
        the module accepts as unchanged (V(7.1) matches C(7.1.0), V(6.x) matches C(6.2.6)).
      - A newer version upgrades the group; an older one is refused (ElastiCache cannot
        downgrade).
    type: str
  node_type:
    description:
      - The cache node type, for example V(cache.t4g.small).
    type: str
  num_cache_clusters:
    description:
      - Cluster mode disabled; the number of cache clusters, primary plus replicas (1 to 6).
      - Mutually exclusive with O(num_node_groups) and O(replicas_per_node_group).
    type: int
  num_node_groups:
    description:
      - Sharded (cluster mode enabled); the number of shards.
      - A sharded group is created with C(ClusterMode=enabled); a O(cache_parameter_group_name)
        given with it must be cluster-enabled (for example C(default.redis7.cluster.on)).
      - Reducing it removes the shards with the highest node group ids.
    type: int
  replicas_per_node_group:
    description:
      - Sharded (cluster mode enabled); the number of replicas in each shard (0 to 5).
    type: int
  cache_parameter_group_name:
    description:
      - The cache parameter group.  When omitted on create ElastiCache uses the engine default.
    type: str
  cache_subnet_group_name:
    description:
      - The cache subnet group.  Cannot be changed after creation.
    type: str
  security_group_ids:
    description:
      - VPC security group ids for the member clusters.
    type: list
    elements: str
  port:
    description:
      - The port the nodes accept connections on.  Cannot be changed after creation.
    type: int
  transit_encryption_enabled:
    description:
      - Enable in-transit encryption (TLS).  Required for O(auth_token).
      - This module only sets it at creation; a different value on an existing group is refused
        (ElastiCache's in-place migration through C(TransitEncryptionMode=preferred) is not
        managed here).
    type: bool
  auth_token:
    description:
      - The Redis AUTH token (16 to 128 printable characters).
      - Passed when the group is created.
      - ElastiCache never returns a token, so on an existing group it cannot be compared; the
        token is only sent when O(auth_token_update_strategy) is also given, and then it is sent
        on every run (the task always reports a change).  Drop O(auth_token_update_strategy) from
        the task once the rotation is done.
      - Never returned, logged or shown in the diff.
    type: str
  auth_token_update_strategy:
    description:
      - Rotate (V(ROTATE), old and new token both accepted) or replace (V(SET), only after a
        V(ROTATE)) the AUTH token of an existing group with O(auth_token).
    choices: [SET, ROTATE]
    type: str
  at_rest_encryption_enabled:
    description:
      - Enable encryption at rest.  Cannot be changed after creation.
    type: bool
  kms_key_id:
    description:
      - The KMS key (id or ARN, not an alias) for encryption at rest.  Cannot be changed after
        creation.
    type: str
  automatic_failover_enabled:
    description:
      - Enable automatic failover (needs at least one replica).
    type: bool
  multi_az_enabled:
    description:
      - Enable Multi-AZ (needs O(automatic_failover_enabled)).
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
      - Slow-log and engine-log delivery.  When given, the list is the complete set, and log types
        not listed are disabled.  Omit the option to leave log delivery alone.
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
        description: The CloudWatch Logs log group name or the Kinesis Data Firehose stream name.
        required: true
        type: str
      log_format:
        description: The log record format.
        choices: [json, text]
        default: json
        type: str
  apply_immediately:
    description:
      - Apply C(ModifyReplicationGroup) changes now rather than in the next maintenance window.
      - Replica and shard count changes are always applied immediately (ElastiCache requires it).
    default: false
    type: bool
  final_snapshot_identifier:
    description:
      - With O(state=absent), take a final snapshot with this name before deleting.
    type: str
  wait:
    description:
      - Wait for the group to be available after creating or changing it, or gone after deleting
        it.
      - Whatever this is set to, the module waits for the group to be available before each
        change, because ElastiCache refuses changes to a group that is not.
    default: true
    type: bool
  wait_timeout:
    description:
      - How long to wait, in seconds, for each wait.
    default: 1800
    type: int
notes:
  - Member-only attributes (O(engine_version), O(cache_parameter_group_name),
    O(cache_subnet_group_name), O(security_group_ids), O(preferred_maintenance_window)) are read
    from a member cluster.  When no member cluster can be described the module warns and does
    not compare them.
  - Support in moto 5.2.5 (the project's emulator), checked against its source and by running
    it; the module does not work around any of this.
  - moto creates no member cache clusters, so C(DescribeCacheClusters) on a member fails and the
    member-only attributes above are not compared (the module warns).
  - moto ignores O(num_cache_clusters) (a cluster-mode-disabled group always has one member
    unless C(ReplicasPerNodeGroup) is sent) and reports no reader endpoint.
  - moto does not implement C(IncreaseReplicaCount), C(DecreaseReplicaCount) or
    C(ModifyReplicationGroupShardConfiguration).
  - moto's C(ModifyReplicationGroup) only applies the description, engine, node type, automatic
    failover, Multi-AZ and snapshot retention; engine version, parameter group, security groups,
    windows, log delivery and AUTH token changes are accepted and silently dropped.
  - moto never finishes a deletion (the group stays C(deleting)), so O(wait=true) with
    O(state=absent) times out against it.  The module treats a C(deleting) group as absent.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Redis OSS 7.1, primary and two replicas, TLS and AUTH, Multi-AZ
  plinth.platform.elasticache_replication_group:
    replication_group_id: app-cache
    description: Application cache
    engine: redis
    engine_version: "7.1"
    node_type: cache.r7g.large
    num_cache_clusters: 3
    cache_subnet_group_name: app-cache-subnets
    security_group_ids:
      - sg-0123456789abcdef0
    transit_encryption_enabled: true
    auth_token: "{{ vault_app_cache_token }}"
    at_rest_encryption_enabled: true
    kms_key_id: arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    automatic_failover_enabled: true
    multi_az_enabled: true
    snapshot_retention_limit: 7
    snapshot_window: "03:00-04:00"
    preferred_maintenance_window: sun:23:00-mon:01:30
    log_delivery_configurations:
      - log_type: slow-log
        destination: /plinth/app-cache/slow-log
      - log_type: engine-log
        destination: /plinth/app-cache/engine-log
        log_format: text
    tags:
      service: app
  register: cache

- name: Sharded Valkey, 3 shards of 1 primary and 2 replicas
  plinth.platform.elasticache_replication_group:
    replication_group_id: sessions
    description: Session store
    engine: valkey
    engine_version: "8.0"
    node_type: cache.m7g.large
    num_node_groups: 3
    replicas_per_node_group: 2
    automatic_failover_enabled: true

- name: Rotate the AUTH token (old and new token both accepted until a SET)
  plinth.platform.elasticache_replication_group:
    replication_group_id: app-cache
    auth_token: "{{ vault_app_cache_new_token }}"
    auth_token_update_strategy: ROTATE
    apply_immediately: true

- name: Delete, keeping a final snapshot
  plinth.platform.elasticache_replication_group:
    replication_group_id: app-cache
    state: absent
    final_snapshot_identifier: app-cache-final
"""

RETURN = r"""
replication_group:
  description:
    - The replication group as ElastiCache describes it, in snake_case, plus the member-cluster
      attributes and the tags.  Empty after deletion and in check mode before creation.
    - Never contains the AUTH token.
  returned: always
  type: dict
  contains:
    replication_group_id:
      description: The identifier.
      type: str
      sample: app-cache
    arn:
      description: The ARN.
      type: str
      sample: arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:app-cache
    description:
      description: The description.
      type: str
    status:
      description: C(creating), C(available), C(modifying), C(deleting), C(create-failed) or
        C(snapshotting).
      type: str
      sample: available
    engine:
      description: The engine.
      type: str
      sample: redis
    engine_version:
      description: The full engine version, from a member cluster.
      type: str
      returned: when a member cluster could be described
      sample: 7.1.0
    cache_node_type:
      description: The node type.
      type: str
      sample: cache.r7g.large
    cluster_enabled:
      description: Whether the group is sharded.
      type: bool
    member_clusters:
      description: The member cache cluster ids.
      type: list
      elements: str
      sample: [app-cache-001, app-cache-002]
    node_groups:
      description: The node groups (shards) with their members and endpoints.
      type: list
      elements: dict
    primary_endpoint:
      description: The primary endpoint (cluster mode disabled), or null.
      type: dict
      sample: {"address": "master.app-cache.abc123.euw1.cache.amazonaws.com", "port": 6379}
    reader_endpoint:
      description: The reader endpoint (cluster mode disabled), or null.
      type: dict
      sample: {"address": "replica.app-cache.abc123.euw1.cache.amazonaws.com", "port": 6379}
    configuration_endpoint:
      description: The configuration endpoint (sharded), or null.
      type: dict
    automatic_failover:
      description: C(enabled), C(disabled), C(enabling) or C(disabling).
      type: str
    multi_az:
      description: C(enabled) or C(disabled).
      type: str
    snapshot_retention_limit:
      description: Days automatic snapshots are kept.
      type: int
    snapshot_window:
      description: The daily snapshot window.
      type: str
    transit_encryption_enabled:
      description: Whether TLS is on.
      type: bool
    at_rest_encryption_enabled:
      description: Whether encryption at rest is on.
      type: bool
    auth_token_enabled:
      description: Whether an AUTH token is set (the token itself is never returned).
      type: bool
    kms_key_id:
      description: The KMS key for encryption at rest.
      type: str
    log_delivery_configurations:
      description: Log delivery as ElastiCache reports it.
      type: list
      elements: dict
    pending_modified_values:
      description: Changes waiting for the maintenance window.
      type: dict
    cache_parameter_group_name:
      description: The parameter group, from a member cluster.
      type: str
      returned: when a member cluster could be described
    cache_subnet_group_name:
      description: The subnet group, from a member cluster.
      type: str
      returned: when a member cluster could be described
    security_group_ids:
      description: The VPC security groups, from a member cluster.
      type: list
      elements: str
      returned: when a member cluster could be described
    preferred_maintenance_window:
      description: The maintenance window, from a member cluster.
      type: str
      returned: when a member cluster could be described
    tags:
      description: The tags.
      type: dict
      sample: {"service": "app"}
diff:
  description: The managed attributes before and after (predicted in check mode and for changes
    waiting for the maintenance window).  The AUTH token is never included.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: The attributes before the task; empty when the group did not exist.
      type: dict
    after:
      description: The attributes after the task; empty when the group was deleted.
      type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
)
from ansible_collections.plinth.platform.plugins.module_utils.elasticache import (
    MEMBER_ONLY_ATTRIBUTES,
    create_parameters,
    describe_member_cluster,
    describe_replication_group,
    desired_attributes_on_create,
    immutable_refusals,
    list_tags,
    managed_attributes,
    normalize_replication_group,
    plan_update,
)
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager

WAITER_DELAY = 15


class ReplicationGroupManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.group_id: str = module.params["replication_group_id"]
        self.client = module.client("elasticache", retry_decorator=AWSRetry.jittered_backoff())
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    # --- reading -------------------------------------------------------------------------------

    def describe(self) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        try:
            group = describe_replication_group(self.client, self.group_id)
            member = describe_member_cluster(self.client, group) if group else None
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(
                e, msg=f"Failed to describe replication group {self.group_id}"
            )
        return group, member

    def tags_of(self, group: dict[str, Any]) -> dict[str, str]:
        try:
            return list_tags(self.client, group["ARN"])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to list tags of {self.group_id}")

    def result(
        self,
        group: dict[str, Any] | None,
        member: dict[str, Any] | None,
        tags: dict[str, str] | None = None,
    ) -> None:
        result: dict[str, Any] = {"changed": self.changed, "replication_group": {}}
        if group:
            if tags is None:
                tags = self.tags_of(group)
            result["replication_group"] = normalize_replication_group(group, member, tags)
        if self.module._diff:
            result["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**result)

    # --- waiting -------------------------------------------------------------------------------

    def wait_for(self, waiter_name: str) -> None:
        attempts = max(1, self.params["wait_timeout"] // WAITER_DELAY)
        try:
            self.client.get_waiter(waiter_name).wait(
                ReplicationGroupId=self.group_id,
                WaiterConfig={"Delay": WAITER_DELAY, "MaxAttempts": attempts},
            )
        except botocore.exceptions.WaiterError as e:
            self.module.fail_json_aws(
                e, msg=f"Timed out or failed waiting for {self.group_id} ({waiter_name})"
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed waiting for {self.group_id}")

    def call(self, operation: str, wait_first: bool = True, **params: Any) -> None:
        """One write: ElastiCache refuses changes unless the group is available, so wait first."""
        if wait_first:
            self.wait_for("replication_group_available")
        try:
            getattr(self.client, operation)(
                ReplicationGroupId=self.group_id, aws_retry=True, **params
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed {operation} on {self.group_id}")

    # --- present -------------------------------------------------------------------------------

    def ensure_present(self) -> None:
        group, member = self.describe()
        if group is None:
            self.create()
            return
        if group.get("Status") == "deleting":
            self.module.fail_json(
                msg=f"Replication group {self.group_id} is being deleted; run again once it is gone"
            )
        if group.get("Status") == "create-failed":
            # It will never become available, so no change can be applied to it.
            self.module.fail_json(
                msg=f"Replication group {self.group_id} failed to create; delete it "
                "(state=absent) and create it again"
            )
        self.update(group, member)

    def create(self) -> None:
        p = self.params
        if not p["description"]:
            self.module.fail_json(msg="description is required to create a replication group")
        params = create_parameters(self.group_id, p)
        self.changed = True
        self.after = desired_attributes_on_create(p)
        if self.module.check_mode:
            self.result(None, None)
        try:
            self.client.create_replication_group(aws_retry=True, **params)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to create replication group {self.group_id}")
        if p["wait"]:
            self.wait_for("replication_group_available")
        self.result(*self.describe())

    def update(self, group: dict[str, Any], member: dict[str, Any] | None) -> None:
        p = self.params
        if member is None:
            unchecked = [name for name in MEMBER_ONLY_ATTRIBUTES if p[name] is not None]
            if unchecked:
                self.module.warn(
                    f"No member cluster of {self.group_id} could be described, so these "
                    f"options were not compared or changed: {', '.join(unchecked)}"
                )
        # Refused before the tags are read, as it always was.
        refused = immutable_refusals(p, managed_attributes(group, member))
        if refused:
            self.module.fail_json(
                msg=f"Cannot change replication group {self.group_id} in place: "
                + "; ".join(refused)
            )
        current_tags = self.tags_of(group)
        plan = plan_update(p, group, member, current_tags, p["purge_tags"])
        self.before, self.after = plan.before, plan.after
        self.changed = plan.changed
        if not self.changed or self.module.check_mode:
            self.result(group, member, current_tags)
        for operation, params in plan.writes:
            self.call(operation, **params)
        self.update_tags(group["ARN"], plan.tags_to_set, plan.tags_to_unset)
        if p["wait"]:
            self.wait_for("replication_group_available")
        self.result(*self.describe())

    def update_tags(self, arn: str, to_set: dict[str, str], to_unset: list[str]) -> None:
        try:
            if to_unset:
                self.client.remove_tags_from_resource(
                    ResourceName=arn, TagKeys=to_unset, aws_retry=True
                )
            if to_set:
                self.client.add_tags_to_resource(
                    ResourceName=arn, Tags=ansible_dict_to_boto3_tag_list(to_set), aws_retry=True
                )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to update tags of {self.group_id}")

    # --- absent --------------------------------------------------------------------------------

    def ensure_absent(self) -> None:
        group, member = self.describe()
        if group is None:
            self.result(None, None)
        tags = self.tags_of(group)
        self.before = dict(managed_attributes(group, member), tags=tags)
        if group.get("Status") == "deleting":
            # Already on its way out: another delete would fail with InvalidReplicationGroupState.
            self.after = {}
            if self.params["wait"] and not self.module.check_mode:
                self.wait_for("replication_group_deleted")
            self.result(None, None)
        self.changed = True
        self.after = {}
        if self.module.check_mode:
            self.result(group, member, tags)
        params: dict[str, Any] = {"RetainPrimaryCluster": False}
        if self.params["final_snapshot_identifier"]:
            params["FinalSnapshotIdentifier"] = self.params["final_snapshot_identifier"]
        # A group that failed to create never becomes available but can be deleted as it is.
        waits = group.get("Status") not in ("available", "create-failed")
        self.call("delete_replication_group", wait_first=waits, **params)
        if self.params["wait"]:
            self.wait_for("replication_group_deleted")
        self.result(None, None)


def main() -> None:
    log_delivery_spec = dict(
        log_type=dict(type="str", required=True, choices=["slow-log", "engine-log"]),
        destination_type=dict(
            type="str", default="cloudwatch-logs", choices=["cloudwatch-logs", "kinesis-firehose"]
        ),
        destination=dict(type="str", required=True),
        log_format=dict(type="str", default="json", choices=["json", "text"]),
    )
    argument_spec = dict(
        replication_group_id=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
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
        auth_token_update_strategy=dict(type="str", choices=["SET", "ROTATE"], no_log=False),
        at_rest_encryption_enabled=dict(type="bool"),
        kms_key_id=dict(type="str"),
        automatic_failover_enabled=dict(type="bool"),
        multi_az_enabled=dict(type="bool"),
        snapshot_retention_limit=dict(type="int"),
        snapshot_window=dict(type="str"),
        preferred_maintenance_window=dict(type="str"),
        log_delivery_configurations=dict(type="list", elements="dict", options=log_delivery_spec),
        apply_immediately=dict(type="bool", default=False),
        final_snapshot_identifier=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=1800),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[
            ("num_cache_clusters", "num_node_groups"),
            ("num_cache_clusters", "replicas_per_node_group"),
        ],
        required_by={"auth_token_update_strategy": "auth_token"},
    )
    run_manager(
        module,
        ReplicationGroupManager(module),
        f"replication group {module.params['replication_group_id']}",
    )


if __name__ == "__main__":
    main()
