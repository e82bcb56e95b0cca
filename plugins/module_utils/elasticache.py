# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Describe and normalise ElastiCache replication groups.

Shared by ``plinth.platform.elasticache_replication_group``, its ``_info`` module and the bulk
``elasticache_replication_groups``: reading and normalising groups, and comparing one with the
options of a group (what to create, what to modify, what cannot change).  The
functions take an (optionally retry-wrapped) boto3 ``elasticache`` client and raise botocore
errors; callers turn those into ``fail_json_aws``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

# Attributes only a member cache cluster reports (DescribeReplicationGroups does not).
MEMBER_ONLY_ATTRIBUTES = (
    "engine_version",
    "cache_parameter_group_name",
    "cache_subnet_group_name",
    "security_group_ids",
    "preferred_maintenance_window",
)


@AWSRetry.jittered_backoff()
def _paginate_replication_groups(client: Any, **params: Any) -> list[dict[str, Any]]:
    # Paginators bypass the client's retry wrapper, so the whole walk is retried instead.
    paginator = client.get_paginator("describe_replication_groups")
    return paginator.paginate(**params).build_full_result()["ReplicationGroups"]


def describe_replication_groups(
    client: Any, replication_group_id: str | None = None
) -> list[dict[str, Any]]:
    """All replication groups, or the one named; an unknown id gives an empty list."""
    params = {"ReplicationGroupId": replication_group_id} if replication_group_id else {}
    try:
        return _paginate_replication_groups(client, **params)
    except is_boto3_error_code("ReplicationGroupNotFoundFault"):
        return []


def describe_replication_group(client: Any, replication_group_id: str) -> dict[str, Any] | None:
    """The replication group, or None when it does not exist."""
    try:
        groups = client.describe_replication_groups(
            ReplicationGroupId=replication_group_id, aws_retry=True
        )["ReplicationGroups"]
    except is_boto3_error_code("ReplicationGroupNotFoundFault"):
        return None
    return groups[0] if groups else None


def describe_cache_cluster(client: Any, cache_cluster_id: str) -> dict[str, Any] | None:
    """One cache cluster (with node info), or None when ElastiCache does not know it."""
    try:
        clusters = client.describe_cache_clusters(
            CacheClusterId=cache_cluster_id, ShowCacheNodeInfo=True, aws_retry=True
        )["CacheClusters"]
    except is_boto3_error_code("CacheClusterNotFound"):
        return None
    return clusters[0] if clusters else None


def describe_member_cluster(client: Any, group: dict[str, Any]) -> dict[str, Any] | None:
    """The first member cluster that can be described.

    Engine version, parameter group, subnet group, security groups and maintenance window are
    identical on every member and are only reported per cluster, so one member is enough.
    """
    for cluster_id in group.get("MemberClusters") or []:
        cluster = describe_cache_cluster(client, cluster_id)
        if cluster is not None:
            return cluster
    return None


def list_tags(client: Any, arn: str) -> dict[str, str]:
    tag_list = client.list_tags_for_resource(ResourceName=arn, aws_retry=True)["TagList"]
    return boto3_tag_list_to_ansible_dict(tag_list)


_VERSION_PART = re.compile(r"^(\d+|x)$", re.IGNORECASE)


def _version_parts(version: str) -> list[str]:
    return [part.lower() for part in str(version).strip().split(".") if part != ""]


def engine_version_matches(requested: str | None, actual: str | None) -> bool:
    """Whether the running ``actual`` version satisfies the ``requested`` one.

    From Redis OSS 6 on (and for Valkey) ElastiCache takes ``major.minor`` (or ``6.x``) and picks
    the newest patch release itself, then reports the full version: "7.1" is satisfied by
    "7.1.0", "6.x" by "6.2.6".  A requested version is therefore a prefix of the actual one,
    component by component, with "x" matching any component.
    """
    if not requested:
        return True
    if not actual:
        return False
    wanted = _version_parts(requested)
    have = _version_parts(actual)
    if len(wanted) > len(have):
        return False
    return all(w == "x" or w == h for w, h in zip(wanted, have, strict=False))


def engine_version_is_older(requested: str, actual: str) -> bool:
    """Whether ``requested`` sorts before ``actual`` (a downgrade ElastiCache refuses).

    Only numeric components are compared; an "x" ends the comparison because it matches any
    release of that line.
    """
    for wanted, have in zip(_version_parts(requested), _version_parts(actual), strict=False):
        if not (_VERSION_PART.match(wanted) and _VERSION_PART.match(have)):
            return False
        if wanted == "x" or have == "x":
            return False
        if int(wanted) != int(have):
            return int(wanted) < int(have)
    return False


def _enabled(value: str | None) -> bool | None:
    """AutomaticFailover / MultiAZ are reported as enabled|enabling|disabled|disabling."""
    if value is None:
        return None
    return value in ("enabled", "enabling")


def group_port(group: dict[str, Any]) -> int | None:
    endpoint = group.get("ConfigurationEndpoint")
    if endpoint and endpoint.get("Port"):
        return endpoint["Port"]
    for node_group in group.get("NodeGroups") or []:
        endpoint = node_group.get("PrimaryEndpoint")
        if endpoint and endpoint.get("Port"):
            return endpoint["Port"]
    return None


def replicas_per_node_group(group: dict[str, Any]) -> int | None:
    """Replicas in each shard (the largest shard when they differ)."""
    counts = [len(ng.get("NodeGroupMembers") or []) - 1 for ng in group.get("NodeGroups") or []]
    return max(counts) if counts else None


def num_cache_clusters(group: dict[str, Any]) -> int:
    return len(group.get("MemberClusters") or [])


def log_delivery_to_options(configs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """LogDeliveryConfigurations as the module's ``log_delivery_configurations`` option shape."""
    result = []
    for config in configs or []:
        if config.get("Status") in ("disabling",):
            continue
        details = config.get("DestinationDetails") or {}
        destination = (details.get("CloudWatchLogsDetails") or {}).get("LogGroup") or (
            details.get("KinesisFirehoseDetails") or {}
        ).get("DeliveryStream")
        result.append(
            {
                "log_type": config.get("LogType"),
                "destination_type": config.get("DestinationType"),
                "destination": destination,
                "log_format": config.get("LogFormat"),
            }
        )
    return sorted(result, key=lambda c: c["log_type"] or "")


def log_delivery_from_options(config: dict[str, Any]) -> dict[str, Any]:
    """One ``log_delivery_configurations`` option entry as a LogDeliveryConfigurationRequest."""
    if config["destination_type"] == "cloudwatch-logs":
        details = {"CloudWatchLogsDetails": {"LogGroup": config["destination"]}}
    else:
        details = {"KinesisFirehoseDetails": {"DeliveryStream": config["destination"]}}
    return {
        "LogType": config["log_type"],
        "DestinationType": config["destination_type"],
        "DestinationDetails": details,
        "LogFormat": config["log_format"],
        "Enabled": True,
    }


def managed_attributes(group: dict[str, Any], member: dict[str, Any] | None) -> dict[str, Any]:
    """The attributes the module manages, as module option names, from AWS's own reports.

    ``member`` may be None (the member cluster could not be described); the member-only
    attributes are then left out rather than guessed.  Pending changes (apply_immediately=false)
    count as the value the group is heading to.
    """
    sharded = bool(group.get("ClusterEnabled"))
    attributes: dict[str, Any] = {
        "description": group.get("Description"),
        "cluster_mode_enabled": sharded,
        "node_type": group.get("CacheNodeType"),
        # Older API responses carry the engine only on the member clusters.
        "engine": group.get("Engine") or (member or {}).get("Engine"),
        "automatic_failover_enabled": _enabled(group.get("AutomaticFailover")),
        "multi_az_enabled": _enabled(group.get("MultiAZ")),
        "snapshot_retention_limit": group.get("SnapshotRetentionLimit"),
        "snapshot_window": group.get("SnapshotWindow"),
        "transit_encryption_enabled": group.get("TransitEncryptionEnabled"),
        "at_rest_encryption_enabled": group.get("AtRestEncryptionEnabled"),
        "kms_key_id": group.get("KmsKeyId"),
        "auth_token_enabled": group.get("AuthTokenEnabled"),
        "port": group_port(group),
        "log_delivery_configurations": log_delivery_to_options(
            group.get("LogDeliveryConfigurations")
        ),
    }
    if sharded:
        attributes["num_node_groups"] = len(group.get("NodeGroups") or [])
        attributes["replicas_per_node_group"] = replicas_per_node_group(group)
    else:
        attributes["num_cache_clusters"] = num_cache_clusters(group)
    if member is not None:
        pending = member.get("PendingModifiedValues") or {}
        attributes.update(
            {
                "node_type": pending.get("CacheNodeType") or attributes["node_type"],
                "engine_version": pending.get("EngineVersion") or member.get("EngineVersion"),
                "cache_parameter_group_name": (member.get("CacheParameterGroup") or {}).get(
                    "CacheParameterGroupName"
                ),
                "cache_subnet_group_name": member.get("CacheSubnetGroupName"),
                "security_group_ids": sorted(
                    sg["SecurityGroupId"] for sg in member.get("SecurityGroups") or []
                ),
                "preferred_maintenance_window": member.get("PreferredMaintenanceWindow"),
            }
        )
    return attributes


def _endpoint(endpoint: dict[str, Any] | None) -> dict[str, Any] | None:
    if not endpoint:
        return None
    return {"address": endpoint.get("Address"), "port": endpoint.get("Port")}


def normalize_replication_group(
    group: dict[str, Any],
    member: dict[str, Any] | None,
    tags: dict[str, str] | None,
) -> dict[str, Any]:
    """The snake_case result: the group as AWS reports it plus convenience fields.

    ``primary_endpoint`` / ``reader_endpoint`` come from the single node group of a
    cluster-mode-disabled group, ``configuration_endpoint`` from a sharded one.  AWS never
    returns an auth token; nothing here adds one.
    """
    result = camel_dict_to_snake_dict(group, ignore_list=["Tags"])
    node_groups = group.get("NodeGroups") or []
    primary = reader = None
    if not group.get("ClusterEnabled") and node_groups:
        primary = _endpoint(node_groups[0].get("PrimaryEndpoint"))
        reader = _endpoint(node_groups[0].get("ReaderEndpoint"))
    result["primary_endpoint"] = primary
    result["reader_endpoint"] = reader
    result["configuration_endpoint"] = _endpoint(group.get("ConfigurationEndpoint"))
    if member is not None:
        result["engine_version"] = member.get("EngineVersion")
        result["cache_parameter_group_name"] = (member.get("CacheParameterGroup") or {}).get(
            "CacheParameterGroupName"
        )
        result["cache_subnet_group_name"] = member.get("CacheSubnetGroupName")
        result["security_group_ids"] = [
            sg["SecurityGroupId"] for sg in member.get("SecurityGroups") or []
        ]
        result["preferred_maintenance_window"] = member.get("PreferredMaintenanceWindow")
    result["tags"] = tags if tags is not None else {}
    return result


# --- desired state: shared by elasticache_replication_group and elasticache_replication_groups ---
#
# ``params`` below is the option dict of one group: the single module's ``module.params`` or one
# item of the bulk module's ``replication_groups``. ``auth_token_update_strategy`` is optional
# (the bulk module has no rotation).

# Simple option -> ModifyReplicationGroup parameter, compared as-is.
MODIFIABLE = {
    "description": "ReplicationGroupDescription",
    "node_type": "CacheNodeType",
    "cache_parameter_group_name": "CacheParameterGroupName",
    "automatic_failover_enabled": "AutomaticFailoverEnabled",
    "multi_az_enabled": "MultiAZEnabled",
    "snapshot_retention_limit": "SnapshotRetentionLimit",
    "snapshot_window": "SnapshotWindow",
}

# Every option a present group takes (the bulk module's item options).
GROUP_OPTIONS = (
    "description",
    "engine",
    "engine_version",
    "node_type",
    "num_cache_clusters",
    "num_node_groups",
    "replicas_per_node_group",
    "cache_parameter_group_name",
    "cache_subnet_group_name",
    "security_group_ids",
    "port",
    "transit_encryption_enabled",
    "auth_token",
    "at_rest_encryption_enabled",
    "kms_key_id",
    "automatic_failover_enabled",
    "multi_az_enabled",
    "snapshot_retention_limit",
    "snapshot_window",
    "preferred_maintenance_window",
    "log_delivery_configurations",
    "apply_immediately",
    "tags",
)


def kms_key_matches(requested: str, current: str | None) -> bool:
    """A key id matches the key ARN ElastiCache reports (``...:key/<id>``)."""
    if not current:
        return False
    return requested == current or current.endswith(f":key/{requested}")


def requested_sharded(params: dict[str, Any]) -> bool | None:
    if params.get("num_node_groups") is not None:
        return True
    if params.get("replicas_per_node_group") is not None:
        return True
    if params.get("num_cache_clusters") is not None:
        return False
    return None


def requested_log_delivery(params: dict[str, Any]) -> list[dict[str, Any]] | None:
    configs = params.get("log_delivery_configurations")
    if configs is None:
        return None
    return sorted((dict(c) for c in configs), key=lambda c: c["log_type"])


def create_parameters(group_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The CreateReplicationGroup parameters (``description`` must be set)."""
    p = params
    request: dict[str, Any] = {
        "ReplicationGroupId": group_id,
        "ReplicationGroupDescription": p["description"],
    }
    optional = {
        "Engine": p.get("engine"),
        "EngineVersion": p.get("engine_version"),
        "CacheNodeType": p.get("node_type"),
        "NumCacheClusters": p.get("num_cache_clusters"),
        "NumNodeGroups": p.get("num_node_groups"),
        "ReplicasPerNodeGroup": p.get("replicas_per_node_group"),
        "CacheParameterGroupName": p.get("cache_parameter_group_name"),
        "CacheSubnetGroupName": p.get("cache_subnet_group_name"),
        "SecurityGroupIds": p.get("security_group_ids"),
        "Port": p.get("port"),
        "TransitEncryptionEnabled": p.get("transit_encryption_enabled"),
        "AuthToken": p.get("auth_token"),
        "AtRestEncryptionEnabled": p.get("at_rest_encryption_enabled"),
        "KmsKeyId": p.get("kms_key_id"),
        "AutomaticFailoverEnabled": p.get("automatic_failover_enabled"),
        "MultiAZEnabled": p.get("multi_az_enabled"),
        "SnapshotRetentionLimit": p.get("snapshot_retention_limit"),
        "SnapshotWindow": p.get("snapshot_window"),
        "PreferredMaintenanceWindow": p.get("preferred_maintenance_window"),
    }
    request.update({k: v for k, v in optional.items() if v is not None})
    if requested_sharded(p):
        request["ClusterMode"] = "enabled"
    logs = requested_log_delivery(p)
    if logs:
        request["LogDeliveryConfigurations"] = [log_delivery_from_options(c) for c in logs]
    if p.get("tags"):
        request["Tags"] = ansible_dict_to_boto3_tag_list(p["tags"])
    return request


# Options desired_attributes_on_create shows in their own form, or not at all.
CREATE_DIFF_SEPARATE = ("auth_token", "log_delivery_configurations", "apply_immediately", "tags")


def desired_attributes_on_create(params: dict[str, Any]) -> dict[str, Any]:
    """The diff's ``after`` of a group to create (never the token, only that one is set)."""
    p = params
    # The group's own attributes; the token shows only as enabled, logs and tags come below.
    names = [o for o in GROUP_OPTIONS if o not in CREATE_DIFF_SEPARATE]
    desired = {name: p.get(name) for name in names if p.get(name) is not None}
    if "security_group_ids" in desired:
        desired["security_group_ids"] = sorted(desired["security_group_ids"])
    if requested_sharded(p) is not None:
        desired["cluster_mode_enabled"] = requested_sharded(p)
    if p.get("auth_token"):
        desired["auth_token_enabled"] = True
    logs = requested_log_delivery(p)
    if logs is not None:
        desired["log_delivery_configurations"] = logs
    desired["tags"] = p.get("tags") or {}
    return desired


def immutable_refusals(params: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The options that would change an attribute fixed at creation, each with why."""
    p = params
    refused = []
    sharded = requested_sharded(p)
    if sharded is not None and sharded != current["cluster_mode_enabled"]:
        now = "sharded" if current["cluster_mode_enabled"] else "cluster mode disabled"
        option = "num_node_groups/replicas_per_node_group" if sharded else "num_cache_clusters"
        refused.append(f"{option} (the group is {now}; sharding cannot be changed)")
    for option in ("at_rest_encryption_enabled", "transit_encryption_enabled"):
        # A group created without the feature may report False or nothing at all.
        have = bool(current.get(option))
        if p.get(option) is not None and p[option] != have:
            refused.append(f"{option} ({have!r} -> {p[option]!r})")
    for option in ("port", "cache_subnet_group_name"):
        # None / missing: not reported yet, or no member cluster to read it from.
        have = current.get(option)
        if p.get(option) is not None and have is not None and p[option] != have:
            refused.append(f"{option} ({have!r} -> {p[option]!r})")
    if p.get("kms_key_id") is not None and not kms_key_matches(
        p["kms_key_id"], current["kms_key_id"]
    ):
        refused.append(f"kms_key_id ({current['kms_key_id']!r} -> {p['kms_key_id']!r})")
    if p.get("engine") == "redis" and current["engine"] == "valkey":
        refused.append("engine (valkey -> redis is not supported by ElastiCache)")
    if (
        p.get("engine_version")
        and current.get("engine_version")
        and (p.get("engine") or current["engine"]) == current["engine"]
        and not engine_version_matches(p["engine_version"], current["engine_version"])
        and engine_version_is_older(p["engine_version"], current["engine_version"])
    ):
        refused.append(
            f"engine_version ({current['engine_version']} -> {p['engine_version']}: "
            "ElastiCache cannot downgrade)"
        )
    return refused


def modify_parameters(
    params: dict[str, Any], current: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ModifyReplicationGroup parameters needed, and the attributes they change."""
    p = params
    request: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for option, api_name in MODIFIABLE.items():
        if p.get(option) is None or option not in current:
            continue
        if p[option] != current[option]:
            request[api_name] = p[option]
            changes[option] = p[option]
    window = p.get("preferred_maintenance_window")
    if (
        window is not None
        and "preferred_maintenance_window" in current
        and window.lower() != (current["preferred_maintenance_window"] or "").lower()
    ):
        request["PreferredMaintenanceWindow"] = window
        changes["preferred_maintenance_window"] = window
    if p.get("security_group_ids") is not None and "security_group_ids" in current:
        wanted = sorted(set(p["security_group_ids"]))
        if wanted != current["security_group_ids"]:
            request["SecurityGroupIds"] = wanted
            changes["security_group_ids"] = wanted
    if p.get("engine") and current["engine"] and p["engine"] != current["engine"]:
        request["Engine"] = p["engine"]
        changes["engine"] = p["engine"]
    if (
        p.get("engine_version")
        and "engine_version" in current
        and not engine_version_matches(p["engine_version"], current["engine_version"])
    ):
        request["EngineVersion"] = p["engine_version"]
        changes["engine_version"] = p["engine_version"]
    logs = requested_log_delivery(p)
    if logs is not None and logs != current["log_delivery_configurations"]:
        have = {c["log_type"]: c for c in current["log_delivery_configurations"]}
        wanted_types = {c["log_type"] for c in logs}
        requests = [log_delivery_from_options(c) for c in logs if have.get(c["log_type"]) != c]
        requests += [
            {"LogType": log_type, "Enabled": False} for log_type in sorted(set(have) - wanted_types)
        ]
        request["LogDeliveryConfigurations"] = requests
        changes["log_delivery_configurations"] = logs
    if p.get("auth_token") and p.get("auth_token_update_strategy"):
        request["AuthToken"] = p["auth_token"]
        request["AuthTokenUpdateStrategy"] = p["auth_token_update_strategy"]
        # The token itself never goes into the diff; only that one is set.
        changes["auth_token_enabled"] = True
    if request:
        request["ApplyImmediately"] = bool(p.get("apply_immediately"))
    return request, changes


# (operation, parameters, attribute, value, grows)
CountChange = tuple[str, dict[str, Any], str, int, bool]


def count_changes(
    params: dict[str, Any], group: dict[str, Any], current: dict[str, Any]
) -> list[CountChange]:
    """Replica / shard count calls as (operation, params, attribute, value, grows)."""
    p = params
    calls: list[CountChange] = []
    if current["cluster_mode_enabled"]:
        shards = p.get("num_node_groups")
        if shards is not None and shards != current["num_node_groups"]:
            request: dict[str, Any] = {"NodeGroupCount": shards, "ApplyImmediately": True}
            if shards < current["num_node_groups"]:
                ids = sorted(ng["NodeGroupId"] for ng in group.get("NodeGroups") or [])
                request["NodeGroupsToRemove"] = ids[shards:]
            calls.append(
                (
                    "modify_replication_group_shard_configuration",
                    request,
                    "num_node_groups",
                    shards,
                    shards > current["num_node_groups"],
                )
            )
        replicas = p.get("replicas_per_node_group")
        have = current["replicas_per_node_group"]
        attribute = "replicas_per_node_group"
    else:
        wanted = p.get("num_cache_clusters")
        replicas = None if wanted is None else wanted - 1
        have = current["num_cache_clusters"] - 1
        attribute = "num_cache_clusters"
    if replicas is not None and replicas != have:
        operation = "increase_replica_count" if replicas > have else "decrease_replica_count"
        value = replicas if current["cluster_mode_enabled"] else replicas + 1
        calls.append(
            (
                operation,
                {"NewReplicaCount": replicas, "ApplyImmediately": True},
                attribute,
                value,
                replicas > have,
            )
        )
    return calls


@dataclass
class UpdatePlan:
    """What an existing group needs: the writes in order, the tag changes and the diff."""

    writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tags_to_set: dict[str, str] = field(default_factory=dict)
    tags_to_unset: list[str] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.writes or self.tags_to_set or self.tags_to_unset)


def plan_update(
    params: dict[str, Any],
    group: dict[str, Any],
    member: dict[str, Any] | None,
    current_tags: dict[str, str],
    purge_tags: bool,
) -> UpdatePlan:
    """Compare an existing group with ``params``; ``refused`` lists immutable changes (then
    nothing else should be done) and ``unchecked`` the member-only options not compared because
    no member cluster could be described."""
    current = managed_attributes(group, member)
    plan = UpdatePlan()
    if member is None:
        plan.unchecked = [name for name in MEMBER_ONLY_ATTRIBUTES if params.get(name) is not None]
    plan.refused = immutable_refusals(params, current)
    if plan.refused:
        return plan
    modify, changes = modify_parameters(params, current)
    counts = count_changes(params, group, current)
    if params.get("tags") is not None:
        plan.tags_to_set, plan.tags_to_unset = compare_aws_tags(
            current_tags, params["tags"], purge_tags
        )
    plan.before = dict(current, tags=current_tags)
    plan.after = copy.deepcopy(plan.before)
    plan.after.update(changes)
    for _operation, _request, attribute, value, _grows in counts:
        plan.after[attribute] = value
    plan.after["tags"] = {
        k: v for k, v in {**current_tags, **plan.tags_to_set}.items() if k not in plan.tags_to_unset
    }
    # Add nodes before a modify (Multi-AZ needs replicas), remove them after it (failover has to
    # be off before the last replica goes).
    plan.writes = [(op, request) for op, request, _a, _v, grows in counts if grows]
    if modify:
        plan.writes.append(("modify_replication_group", modify))
    plan.writes += [(op, request) for op, request, _a, _v, grows in counts if not grows]
    return plan


@AWSRetry.jittered_backoff()
def _paginate_cache_clusters(client: Any) -> list[dict[str, Any]]:
    paginator = client.get_paginator("describe_cache_clusters")
    return paginator.paginate().build_full_result()["CacheClusters"]


def describe_cache_clusters(client: Any) -> dict[str, dict[str, Any]]:
    """Every cache cluster of the account (replication group members included), by id."""
    return {cluster["CacheClusterId"]: cluster for cluster in _paginate_cache_clusters(client)}


# --- cache subnet groups (the bulk module's ``cache_subnet_groups``) ---

# ElastiCache: up to 255 letters, digits or hyphens; it keeps the name lower case.
CACHE_SUBNET_GROUP_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,255}$")


@AWSRetry.jittered_backoff()
def _paginate_cache_subnet_groups(client: Any) -> list[dict[str, Any]]:
    paginator = client.get_paginator("describe_cache_subnet_groups")
    return paginator.paginate().build_full_result()["CacheSubnetGroups"]


def describe_cache_subnet_groups(client: Any) -> dict[str, dict[str, Any]]:
    """Every cache subnet group of the account, by (lower case) name: one call on a no-op."""
    return {
        group["CacheSubnetGroupName"].lower(): group
        for group in _paginate_cache_subnet_groups(client)
    }


def validate_cache_subnet_group(index: int, group: dict[str, Any]) -> list[str]:
    """What is wrong with one wanted cache subnet group on its own; empty when fine."""
    name = group.get("name") or ""
    label = f"cache_subnet_groups[{index}] {name!r}"
    errors = []
    if not CACHE_SUBNET_GROUP_PATTERN.match(name) or name.lower() == "default":
        errors.append(f"{label}: name must be 1 to 255 letters, digits or hyphens, not 'default'")
    if not group.get("description"):
        errors.append(f"{label}: description must not be empty")
    subnets = group.get("subnet_ids") or []
    if not subnets or not all(subnets):
        errors.append(f"{label}: subnet_ids needs at least one subnet id and no empty ones")
    return errors


def cache_subnet_group_state(group: dict[str, Any] | None) -> dict[str, Any]:
    """A described cache subnet group as the options that manage it ({} when there is none)."""
    if not group:
        return {}
    return {
        "description": group.get("CacheSubnetGroupDescription", ""),
        "subnet_ids": sorted(s["SubnetIdentifier"] for s in group.get("Subnets") or []),
    }


def cache_subnet_group_write(
    wanted: dict[str, Any], found: dict[str, Any] | None
) -> tuple[str, dict[str, Any]] | None:
    """The create / modify call (operation, parameters) a cache subnet group needs, or None."""
    after = {"description": wanted["description"], "subnet_ids": sorted(set(wanted["subnet_ids"]))}
    request = {
        "CacheSubnetGroupName": wanted["name"].lower(),
        "CacheSubnetGroupDescription": after["description"],
        "SubnetIds": after["subnet_ids"],
    }
    if found is None:
        return "create_cache_subnet_group", request
    if cache_subnet_group_state(found) == after:
        return None
    return "modify_cache_subnet_group", request
