"""Unit tests for plinth.platform.elasticache_replication_group.

The module runs in-process against moto's ``mock_aws`` where moto 5.2.5 implements the calls,
and against a botocore ``Stubber`` where it does not (member cache clusters, replica and shard
counts, log delivery and AUTH changes, finished deletions).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import (
    AWSRetry,
    RetryingBotoClientWrapper,
)
from ansible_collections.plinth.platform.plugins.module_utils import elasticache as utils
from ansible_collections.plinth.platform.plugins.modules import (
    elasticache_replication_group as module,
)
from botocore.stub import Stubber

REGION = "us-east-1"
TOKEN = "Sup3r-Secret-Auth-Token-0123456789"
ARN = f"arn:aws:elasticache:{REGION}:123456789012:replicationgroup:app-cache"


@pytest.fixture
def run(run_module: Any) -> Any:
    """``run(args, check_mode=False, diff=True) -> (result, JSON text)`` for this module.

    The JSON text is what the assertions about secrets search: everything the module returned.
    """

    def _run(args: dict[str, Any], check_mode: bool = False, diff: bool = True) -> tuple:
        result = run_module(module, dict(args, region=REGION), check_mode=check_mode, diff=diff)
        return result, json.dumps(result)

    return _run


@pytest.fixture
def moto(aws_moto: None) -> Any:
    return boto3.client("elasticache", region_name=REGION)


@pytest.fixture
def stub(aws_moto: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """The module's client, stubbed: for the calls moto 5.2.5 does not implement."""
    client = boto3.client("elasticache", region_name=REGION)
    stubber = Stubber(client)

    def fake_client(
        self: AnsibleAWSModule, service: str, retry_decorator: Any = None, **_kwargs: Any
    ):
        assert service == "elasticache"
        return RetryingBotoClientWrapper(client, retry_decorator or AWSRetry.jittered_backoff())

    monkeypatch.setattr(AnsibleAWSModule, "client", fake_client)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


BASE = {
    "replication_group_id": "app-cache",
    "description": "Application cache",
    "engine": "redis",
    "engine_version": "7.1",
    "node_type": "cache.t4g.small",
    "num_cache_clusters": 1,
    "snapshot_retention_limit": 1,
    "tags": {"service": "app"},
}


# --- moto --------------------------------------------------------------------------------------


def test_create_then_rerun_is_unchanged(run: Any, moto: Any) -> None:
    result, _output = run(BASE)
    assert result["changed"] is True
    group = result["replication_group"]
    assert group["replication_group_id"] == "app-cache"
    assert group["status"] == "available"
    assert group["cache_node_type"] == "cache.t4g.small"
    assert group["member_clusters"] == ["app-cache-001"]
    assert group["primary_endpoint"]["address"].startswith("master.app-cache.")
    assert group["tags"] == {"service": "app"}
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["node_type"] == "cache.t4g.small"

    again, _output = run(BASE)
    assert again["changed"] is False
    assert again["diff"]["before"] == again["diff"]["after"]
    # moto has no member cache clusters: the member-only attributes are not compared, and said so.
    assert "engine_version" in json.dumps(again.get("warnings", []))


def test_check_mode_on_empty_state_creates_nothing(run: Any, moto: Any) -> None:
    result, _output = run(BASE, check_mode=True)
    assert result["changed"] is True
    assert result["replication_group"] == {}
    assert result["diff"]["after"]["description"] == "Application cache"
    assert moto.describe_replication_groups()["ReplicationGroups"] == []


def test_modify_node_type_retention_failover_shows_diff(run: Any, moto: Any) -> None:
    run(BASE)
    changed = dict(
        BASE,
        node_type="cache.m7g.large",
        snapshot_retention_limit=7,
        automatic_failover_enabled=True,
        apply_immediately=True,
    )
    result, _output = run(changed, check_mode=True)
    assert result["changed"] is True
    current = moto.describe_replication_groups(ReplicationGroupId="app-cache")
    assert current["ReplicationGroups"][0]["CacheNodeType"] == "cache.t4g.small"

    result, _output = run(changed)
    assert result["changed"] is True
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert (before["node_type"], after["node_type"]) == ("cache.t4g.small", "cache.m7g.large")
    assert (before["snapshot_retention_limit"], after["snapshot_retention_limit"]) == (1, 7)
    assert (before["automatic_failover_enabled"], after["automatic_failover_enabled"]) == (
        False,
        True,
    )
    group = result["replication_group"]
    assert group["cache_node_type"] == "cache.m7g.large"
    assert group["snapshot_retention_limit"] == 7
    assert group["automatic_failover"] == "enabled"

    again, _output = run(changed)
    assert again["changed"] is False


def test_tags_are_added_and_purged(run: Any, moto: Any) -> None:
    run(BASE)
    result, _output = run(dict(BASE, tags={"team": "platform"}))
    assert result["changed"] is True
    assert result["replication_group"]["tags"] == {"team": "platform"}
    assert result["diff"]["before"]["tags"] == {"service": "app"}
    kept, _output = run(dict(BASE, tags={"extra": "1"}, purge_tags=False))
    assert kept["replication_group"]["tags"] == {"team": "platform", "extra": "1"}


@pytest.mark.parametrize(
    ("option", "value"),
    [("port", 6380), ("at_rest_encryption_enabled", True), ("num_node_groups", 2)],
)
def test_immutable_change_is_refused_naming_the_option(
    run: Any, moto: Any, option: str, value: Any
) -> None:
    run(BASE)
    args = dict(BASE, **{option: value})
    if option == "num_node_groups":
        del args["num_cache_clusters"]
    result, _output = run(args)
    assert result["failed"] is True
    assert option in result["msg"]
    assert result.get("changed", False) is False


def test_absent_then_absent_again(run: Any, moto: Any) -> None:
    run(BASE)
    absent = {"replication_group_id": "app-cache", "state": "absent", "wait": False}
    result, _output = run(absent, check_mode=True)
    assert result["changed"] is True
    assert moto.describe_replication_groups()["ReplicationGroups"][0]["Status"] == "available"

    result, _output = run(absent)
    assert result["changed"] is True
    assert result["replication_group"] == {}
    assert result["diff"]["after"] == {}
    # moto never finishes a deletion; a group already "deleting" counts as absent.
    again, _output = run(absent)
    assert again["changed"] is False

    missing, _output = run({"replication_group_id": "never-was", "state": "absent"})
    assert missing["changed"] is False


def test_auth_token_never_in_output(run: Any, moto: Any) -> None:
    args = dict(BASE, transit_encryption_enabled=True, auth_token=TOKEN)
    result, raw = run(args)
    assert result["changed"] is True
    assert result["replication_group"]["auth_token_enabled"] is True
    assert TOKEN not in raw
    again, raw = run(args)
    assert again["changed"] is False
    assert TOKEN not in raw


@pytest.mark.moto_gap(reason="moto 5.2.5 does not implement IncreaseReplicaCount")
def test_replica_count_increase_against_moto(run: Any, moto: Any) -> None:
    run(BASE)
    # Probed rather than assumed, so the test runs once moto has the API.
    try:
        result, _output = run(dict(BASE, num_cache_clusters=3))
    except NotImplementedError as e:
        pytest.skip(f"moto: {e} (covered by test_replica_count_increase)")
    assert result["changed"] is True, result
    assert result["replication_group"]["member_clusters"] == [
        "app-cache-001",
        "app-cache-002",
        "app-cache-003",
    ]


# --- Stubber: what moto lacks ------------------------------------------------------------------


def rg(members: int = 2, **overrides: Any) -> dict[str, Any]:
    """A cluster-mode-disabled group as DescribeReplicationGroups reports it."""
    ids = [f"app-cache-{i:03d}" for i in range(1, members + 1)]
    endpoint = "app-cache.abc123.use1.cache.amazonaws.com"
    group = {
        "ReplicationGroupId": "app-cache",
        "Description": "Application cache",
        "Status": "available",
        "MemberClusters": ids,
        "NodeGroups": [
            {
                "NodeGroupId": "0001",
                "Status": "available",
                "PrimaryEndpoint": {"Address": f"master.{endpoint}", "Port": 6379},
                "ReaderEndpoint": {"Address": f"replica.{endpoint}", "Port": 6379},
                "NodeGroupMembers": [
                    {"CacheClusterId": cid, "CacheNodeId": "0001", "CurrentRole": role}
                    for cid, role in zip(
                        ids, ["primary"] + ["replica"] * (members - 1), strict=True
                    )
                ],
            }
        ],
        "AutomaticFailover": "enabled",
        "MultiAZ": "enabled",
        "SnapshotRetentionLimit": 1,
        "SnapshotWindow": "05:00-06:00",
        "ClusterEnabled": False,
        "CacheNodeType": "cache.t4g.small",
        "AuthTokenEnabled": True,
        "TransitEncryptionEnabled": True,
        "AtRestEncryptionEnabled": True,
        "KmsKeyId": f"arn:aws:kms:{REGION}:123456789012:key/1234abcd",
        "ARN": ARN,
        "LogDeliveryConfigurations": [],
        "Engine": "redis",
    }
    group.update(overrides)
    return group


def cluster(**overrides: Any) -> dict[str, Any]:
    """The first member as DescribeCacheClusters reports it: the full patch version."""
    member = {
        "CacheClusterId": "app-cache-001",
        "CacheNodeType": "cache.t4g.small",
        "Engine": "redis",
        "EngineVersion": "7.1.0",
        "CacheClusterStatus": "available",
        "CacheParameterGroup": {
            "CacheParameterGroupName": "default.redis7",
            "ParameterApplyStatus": "in-sync",
        },
        "CacheSubnetGroupName": "app-cache-subnets",
        "SecurityGroups": [{"SecurityGroupId": "sg-1", "Status": "active"}],
        "PreferredMaintenanceWindow": "sun:23:00-mon:01:30",
        "ReplicationGroupId": "app-cache",
    }
    member.update(overrides)
    return member


FULL = {
    "replication_group_id": "app-cache",
    "description": "Application cache",
    "engine": "redis",
    "engine_version": "7.1",
    "node_type": "cache.t4g.small",
    "num_cache_clusters": 2,
    "cache_parameter_group_name": "default.redis7",
    "cache_subnet_group_name": "app-cache-subnets",
    "security_group_ids": ["sg-1"],
    "preferred_maintenance_window": "Sun:23:00-Mon:01:30",
    "transit_encryption_enabled": True,
    "at_rest_encryption_enabled": True,
    "kms_key_id": "1234abcd",
    "automatic_failover_enabled": True,
    "multi_az_enabled": True,
    "snapshot_retention_limit": 1,
    "snapshot_window": "05:00-06:00",
    "log_delivery_configurations": [],
    "tags": {"service": "app"},
}


def expect_read(stubber: Stubber, group: dict[str, Any], member: dict[str, Any]) -> None:
    stubber.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [group]},
        {"ReplicationGroupId": "app-cache"},
    )
    stubber.add_response(
        "describe_cache_clusters",
        {"CacheClusters": [member]},
        {"CacheClusterId": "app-cache-001", "ShowCacheNodeInfo": True},
    )


def expect_tags(stubber: Stubber, tags: dict[str, str] | None = None) -> None:
    tags = {"service": "app"} if tags is None else tags
    stubber.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": k, "Value": v} for k, v in tags.items()]},
        {"ResourceName": ARN},
    )


def expect_wait(stubber: Stubber, group: dict[str, Any]) -> None:
    stubber.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [group]},
        {"ReplicationGroupId": "app-cache"},
    )


def test_rerun_engine_version_major_minor_matches_full_version(run: Any, stub: Stubber) -> None:
    expect_read(stub, rg(), cluster())
    expect_tags(stub)
    result, _output = run(FULL)
    assert result["changed"] is False, result
    assert result["replication_group"]["engine_version"] == "7.1.0"
    assert result["replication_group"]["reader_endpoint"]["address"].startswith("replica.")
    assert "warnings" not in result, result["warnings"]


def test_engine_version_upgrade_and_downgrade(run: Any, stub: Stubber) -> None:
    expect_read(stub, rg(), cluster())
    expect_tags(stub)
    expect_wait(stub, rg())
    stub.add_response(
        "modify_replication_group",
        {"ReplicationGroup": rg()},
        {"ReplicationGroupId": "app-cache", "EngineVersion": "7.2", "ApplyImmediately": False},
    )
    expect_read(stub, rg(), cluster(PendingModifiedValues={"EngineVersion": "7.2.4"}))
    expect_tags(stub)
    result, _output = run(dict(FULL, engine_version="7.2", wait=False))
    assert result["changed"] is True
    assert result["diff"]["before"]["engine_version"] == "7.1.0"
    assert result["diff"]["after"]["engine_version"] == "7.2"

    expect_read(stub, rg(), cluster())
    result, _output = run(dict(FULL, engine_version="6.2"))
    assert result["failed"] is True
    assert "engine_version" in result["msg"]


def test_replica_count_increase(run: Any, stub: Stubber) -> None:
    expect_read(stub, rg(members=2), cluster())
    expect_tags(stub)
    expect_wait(stub, rg(members=2))
    stub.add_response(
        "increase_replica_count",
        {"ReplicationGroup": rg(members=2, Status="modifying")},
        {"ReplicationGroupId": "app-cache", "NewReplicaCount": 2, "ApplyImmediately": True},
    )
    expect_wait(stub, rg(members=3))
    expect_read(stub, rg(members=3), cluster())
    expect_tags(stub)
    result, _output = run(dict(FULL, num_cache_clusters=3))
    assert result["changed"] is True
    assert result["diff"]["before"]["num_cache_clusters"] == 2
    assert result["diff"]["after"]["num_cache_clusters"] == 3
    assert len(result["replication_group"]["member_clusters"]) == 3


def test_replica_count_decrease_runs_after_modify(run: Any, stub: Stubber) -> None:
    expect_read(stub, rg(members=2), cluster())
    expect_tags(stub)
    expect_wait(stub, rg(members=2))
    stub.add_response(
        "modify_replication_group",
        {"ReplicationGroup": rg()},
        {
            "ReplicationGroupId": "app-cache",
            "AutomaticFailoverEnabled": False,
            "MultiAZEnabled": False,
            "ApplyImmediately": True,
        },
    )
    expect_wait(stub, rg(members=2, AutomaticFailover="disabled", MultiAZ="disabled"))
    stub.add_response(
        "decrease_replica_count",
        {"ReplicationGroup": rg(members=2)},
        {"ReplicationGroupId": "app-cache", "NewReplicaCount": 0, "ApplyImmediately": True},
    )
    final = rg(members=1, AutomaticFailover="disabled", MultiAZ="disabled")
    expect_read(stub, final, cluster())
    expect_tags(stub)
    args = dict(
        FULL,
        num_cache_clusters=1,
        automatic_failover_enabled=False,
        multi_az_enabled=False,
        apply_immediately=True,
        wait=False,
    )
    result, _output = run(args)
    assert result["changed"] is True
    assert result["diff"]["after"]["num_cache_clusters"] == 1


def test_shard_count_and_replicas_on_sharded_group(run: Any, stub: Stubber) -> None:
    def sharded(shards: int) -> dict[str, Any]:
        groups = [
            {
                "NodeGroupId": f"{i:04d}",
                "Status": "available",
                "NodeGroupMembers": [
                    {"CacheClusterId": f"app-cache-{i:04d}-00{n}"} for n in (1, 2)
                ],
            }
            for i in range(1, shards + 1)
        ]
        return rg(
            ClusterEnabled=True,
            NodeGroups=groups,
            MemberClusters=[m["CacheClusterId"] for g in groups for m in g["NodeGroupMembers"]],
            ConfigurationEndpoint={"Address": "clustercfg.app-cache", "Port": 6379},
        )

    stub.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [sharded(3)]},
        {"ReplicationGroupId": "app-cache"},
    )
    stub.add_response(
        "describe_cache_clusters",
        {"CacheClusters": [cluster(CacheClusterId="app-cache-0001-001")]},
        {"CacheClusterId": "app-cache-0001-001", "ShowCacheNodeInfo": True},
    )
    expect_tags(stub)
    expect_wait(stub, sharded(3))
    stub.add_response(
        "modify_replication_group_shard_configuration",
        {"ReplicationGroup": sharded(3)},
        {
            "ReplicationGroupId": "app-cache",
            "NodeGroupCount": 2,
            "ApplyImmediately": True,
            "NodeGroupsToRemove": ["0003"],
        },
    )
    stub.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [sharded(2)]},
        {"ReplicationGroupId": "app-cache"},
    )
    stub.add_response(
        "describe_cache_clusters",
        {"CacheClusters": [cluster(CacheClusterId="app-cache-0001-001")]},
        {"CacheClusterId": "app-cache-0001-001", "ShowCacheNodeInfo": True},
    )
    expect_tags(stub)
    result, _output = run(
        {
            "replication_group_id": "app-cache",
            "num_node_groups": 2,
            "replicas_per_node_group": 1,
            "wait": False,
        }
    )
    assert result["changed"] is True
    assert result["diff"]["before"]["num_node_groups"] == 3
    assert result["diff"]["after"]["num_node_groups"] == 2
    assert (
        result["replication_group"]["configuration_endpoint"]["address"] == "clustercfg.app-cache"
    )


def test_auth_token_rotation_never_leaks(run: Any, stub: Stubber) -> None:
    expect_read(stub, rg(), cluster())
    expect_tags(stub)
    expect_wait(stub, rg())
    stub.add_response(
        "modify_replication_group",
        {"ReplicationGroup": rg()},
        {
            "ReplicationGroupId": "app-cache",
            "AuthToken": TOKEN,
            "AuthTokenUpdateStrategy": "ROTATE",
            "ApplyImmediately": True,
        },
    )
    expect_wait(stub, rg())
    expect_read(stub, rg(), cluster())
    expect_tags(stub)
    args = dict(FULL, auth_token=TOKEN, auth_token_update_strategy="ROTATE", apply_immediately=True)
    result, raw = run(args)
    assert result["changed"] is True
    assert TOKEN not in raw
    assert TOKEN not in json.dumps(result["diff"])


def test_auth_token_without_strategy_is_not_sent(run: Any, stub: Stubber) -> None:
    expect_read(stub, rg(), cluster())
    expect_tags(stub)
    result, raw = run(dict(FULL, auth_token=TOKEN))
    assert result["changed"] is False
    assert TOKEN not in raw


def test_log_delivery_enable_change_and_disable(run: Any, stub: Stubber) -> None:
    current = rg(
        LogDeliveryConfigurations=[
            {
                "LogType": "engine-log",
                "DestinationType": "cloudwatch-logs",
                "DestinationDetails": {"CloudWatchLogsDetails": {"LogGroup": "/old/engine"}},
                "LogFormat": "text",
                "Status": "active",
            }
        ]
    )
    expect_read(stub, current, cluster())
    expect_tags(stub)
    expect_wait(stub, current)
    stub.add_response(
        "modify_replication_group",
        {"ReplicationGroup": current},
        {
            "ReplicationGroupId": "app-cache",
            "LogDeliveryConfigurations": [
                {
                    "LogType": "slow-log",
                    "DestinationType": "cloudwatch-logs",
                    "DestinationDetails": {"CloudWatchLogsDetails": {"LogGroup": "/app/slow"}},
                    "LogFormat": "json",
                    "Enabled": True,
                },
                {"LogType": "engine-log", "Enabled": False},
            ],
            "ApplyImmediately": False,
        },
    )
    expect_read(stub, current, cluster())
    expect_tags(stub)
    logs = [{"log_type": "slow-log", "destination": "/app/slow"}]
    result, _output = run(dict(FULL, log_delivery_configurations=logs, wait=False))
    assert result["changed"] is True
    assert result["diff"]["before"]["log_delivery_configurations"][0]["log_type"] == "engine-log"
    assert result["diff"]["after"]["log_delivery_configurations"] == [
        {
            "log_type": "slow-log",
            "destination_type": "cloudwatch-logs",
            "destination": "/app/slow",
            "log_format": "json",
        }
    ]


def test_unchanged_log_delivery_is_not_a_change(run: Any, stub: Stubber) -> None:
    current = rg(
        LogDeliveryConfigurations=[
            {
                "LogType": "slow-log",
                "DestinationType": "cloudwatch-logs",
                "DestinationDetails": {"CloudWatchLogsDetails": {"LogGroup": "/app/slow"}},
                "LogFormat": "json",
                "Status": "active",
            }
        ]
    )
    expect_read(stub, current, cluster())
    expect_tags(stub)
    logs = [{"log_type": "slow-log", "destination": "/app/slow"}]
    result, _output = run(dict(FULL, log_delivery_configurations=logs))
    assert result["changed"] is False


def test_subnet_group_and_kms_key_are_immutable(run: Any, stub: Stubber) -> None:
    expect_read(stub, rg(), cluster())
    result, _output = run(dict(FULL, cache_subnet_group_name="other", kms_key_id="other-key"))
    assert result["failed"] is True
    assert "cache_subnet_group_name" in result["msg"]
    assert "kms_key_id" in result["msg"]


def test_delete_waits_until_gone(run: Any, stub: Stubber) -> None:
    # A group still modifying is waited for first: ElastiCache refuses to delete it until then.
    expect_read(stub, rg(Status="modifying"), cluster())
    expect_tags(stub)
    expect_wait(stub, rg())
    stub.add_response(
        "delete_replication_group",
        {"ReplicationGroup": rg(Status="deleting")},
        {
            "ReplicationGroupId": "app-cache",
            "RetainPrimaryCluster": False,
            "FinalSnapshotIdentifier": "app-cache-final",
        },
    )
    stub.add_client_error(
        "describe_replication_groups",
        service_error_code="ReplicationGroupNotFoundFault",
        http_status_code=404,
        expected_params={"ReplicationGroupId": "app-cache"},
    )
    result, _output = run(
        {
            "replication_group_id": "app-cache",
            "state": "absent",
            "final_snapshot_identifier": "app-cache-final",
        }
    )
    assert result["changed"] is True
    assert result["replication_group"] == {}


# --- module_utils ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "actual", "matches"),
    [
        ("7.1", "7.1.0", True),
        ("7.1.0", "7.1.0", True),
        ("6.x", "6.2.6", True),
        ("7.2", "7.1.0", False),
        ("7.1.1", "7.1", False),
        ("5.0.6", "5.0.6", True),
        (None, "7.1.0", True),
    ],
)
def test_engine_version_matches(requested: str | None, actual: str, matches: bool) -> None:
    assert utils.engine_version_matches(requested, actual) is matches


def test_engine_version_is_older() -> None:
    assert utils.engine_version_is_older("6.2", "7.1.0")
    assert not utils.engine_version_is_older("7.2", "7.1.0")
    assert not utils.engine_version_is_older("7.x", "7.1.0")


def test_normalize_has_no_token_and_snake_case() -> None:
    group = copy.deepcopy(rg())
    result = utils.normalize_replication_group(group, cluster(), {"a": "b"})
    assert result["auth_token_enabled"] is True
    assert result["engine_version"] == "7.1.0"
    assert result["security_group_ids"] == ["sg-1"]
    assert result["tags"] == {"a": "b"}
    assert result["arn"] == ARN


def test_create_failed_group_is_deleted_without_waiting_and_not_modified(
    run: Any, stub: Stubber
) -> None:
    expect_read(stub, rg(Status="create-failed"), cluster())
    result, _output = run(dict(FULL, node_type="cache.m7g.large"))
    assert result["failed"] is True
    assert "state=absent" in result["msg"]

    expect_read(stub, rg(Status="create-failed"), cluster())
    expect_tags(stub)
    stub.add_response(
        "delete_replication_group",
        {"ReplicationGroup": rg(Status="deleting")},
        {"ReplicationGroupId": "app-cache", "RetainPrimaryCluster": False},
    )
    result, _output = run({"replication_group_id": "app-cache", "state": "absent", "wait": False})
    assert result["changed"] is True
