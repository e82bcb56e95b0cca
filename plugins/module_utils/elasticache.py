# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Describe and normalise ElastiCache replication groups.

Shared by ``plinth.platform.elasticache_replication_group`` and its ``_info`` module.  The
functions take an (optionally retry-wrapped) boto3 ``elasticache`` client and raise botocore
errors; callers turn those into ``fail_json_aws``.
"""

from __future__ import annotations

import re
from typing import Any

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
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
