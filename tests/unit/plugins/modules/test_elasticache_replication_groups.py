"""Unit tests for plinth.platform.elasticache_replication_groups (bulk).

Against moto's ``mock_aws`` where moto 5.2.5 implements the calls, and a botocore ``Stubber``
for member cache clusters and immutable attributes moto does not report.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import (
    elasticache_replication_groups as module,
)

REGION = "us-east-1"
TOKEN = "Sup3r-Secret-Auth-Token-0123456789"
WRITES = {
    "CreateReplicationGroup",
    "ModifyReplicationGroup",
    "IncreaseReplicaCount",
    "DecreaseReplicaCount",
    "ModifyReplicationGroupShardConfiguration",
    "AddTagsToResource",
    "RemoveTagsFromResource",
    "DeleteReplicationGroup",
}


def group(group_id: str, **overrides: Any) -> dict[str, Any]:
    item = {
        "replication_group_id": group_id,
        "description": f"Cache {group_id}",
        "engine": "redis",
        "engine_version": "7.1",
        "node_type": "cache.t4g.small",
        "num_cache_clusters": 1,
        "snapshot_retention_limit": 1,
        "tags": {"service": group_id},
    }
    item.update(overrides)
    return item


TWO = [group("app-cache", transit_encryption_enabled=True, auth_token=TOKEN), group("sessions")]


@pytest.fixture
def run(run_module: Any) -> Any:
    def _run(items: list[dict[str, Any]], check_mode: bool = False, **extra: Any) -> tuple:
        args = dict(extra, replication_groups=items, region=REGION)
        result = run_module(module, args, check_mode=check_mode, diff=True)
        return result, json.dumps(result)

    return _run


@pytest.fixture
def moto(aws_moto: None) -> Any:
    return boto3.client("elasticache", region_name=REGION)


def test_create_two_then_rerun_makes_no_write(run: Any, moto: Any, api_calls: Any) -> None:
    calls = api_calls("elasticache")
    result, raw = run(TWO)
    assert result["changed"] is True, result
    assert [g["replication_group_id"] for g in result["replication_groups"]] == [
        "app-cache",
        "sessions",
    ]
    first = result["replication_groups"][0]
    assert first["changed"] is True
    assert first["replication_group"]["status"] == "available"
    assert first["replication_group"]["primary_endpoint"]["address"].startswith("master.app-cache")
    assert first["replication_group"]["auth_token_enabled"] is True
    assert first["replication_group"]["tags"] == {"service": "app-cache"}
    assert result["diff"]["before"] == {"app-cache": {}, "sessions": {}}
    assert TOKEN not in raw
    # Both creates are started before any wait.
    creates = [i for i, op in enumerate(calls) if op == "CreateReplicationGroup"]
    assert len(creates) == 2 and creates[1] == creates[0] + 1, calls

    calls.clear()
    again, raw = run(TWO)
    assert again["changed"] is False, again
    assert [g["changed"] for g in again["replication_groups"]] == [False, False]
    assert again["diff"]["before"] == again["diff"]["after"]
    assert TOKEN not in raw
    assert not WRITES & set(calls), calls
    # One describe for every group, one for every member cluster, the tags of each group.
    assert calls.count("DescribeReplicationGroups") == 1, calls
    assert len(calls) == 2 + 2, calls


def test_modify_one_leaves_the_other_alone(run: Any, moto: Any, api_calls: Any) -> None:
    run(TWO)
    calls = api_calls("elasticache")
    changed = [
        TWO[0],
        group("sessions", node_type="cache.m7g.large", tags={"team": "x"}, apply_immediately=True),
    ]
    result, _raw = run(changed)
    assert result["changed"] is True
    one, two = result["replication_groups"]
    assert one["changed"] is False
    assert two["changed"] is True
    assert two["diff"]["before"]["node_type"] == "cache.t4g.small"
    assert two["diff"]["after"]["node_type"] == "cache.m7g.large"
    assert two["replication_group"]["cache_node_type"] == "cache.m7g.large"
    assert two["replication_group"]["tags"] == {"team": "x"}
    writes = [op for op in calls if op in WRITES]
    assert writes == ["ModifyReplicationGroup", "RemoveTagsFromResource", "AddTagsToResource"]
    current = moto.describe_replication_groups(ReplicationGroupId="sessions")
    assert current["ReplicationGroups"][0]["CacheNodeType"] == "cache.m7g.large"

    again, _raw = run(changed)
    assert again["changed"] is False


def test_check_mode_writes_nothing(run: Any, moto: Any, api_calls: Any) -> None:
    calls = api_calls("elasticache")
    result, _raw = run(TWO, check_mode=True)
    assert result["changed"] is True
    assert [g["replication_group"] for g in result["replication_groups"]] == [{}, {}]
    assert result["diff"]["after"]["sessions"]["description"] == "Cache sessions"
    assert moto.describe_replication_groups()["ReplicationGroups"] == []

    run(TWO)
    calls.clear()
    result, _raw = run([group("sessions", node_type="cache.m7g.large")], check_mode=True)
    assert result["changed"] is True
    assert not WRITES & set(calls), calls
    current = moto.describe_replication_groups(ReplicationGroupId="sessions")
    assert current["ReplicationGroups"][0]["CacheNodeType"] == "cache.t4g.small"


@pytest.mark.parametrize(
    ("items", "words"),
    [
        ([group("a"), group("b"), group("a")], ["Duplicate", "a"]),
        (
            [group("b"), group("a", num_node_groups=2)],
            ["a:", "num_cache_clusters", "num_node_groups"],
        ),
        (
            [group("a", replicas_per_node_group=1)],
            ["a:", "num_cache_clusters", "replicas_per_node_group"],
        ),
    ],
)
def test_bad_input_refused_before_any_call(
    run: Any, moto: Any, api_calls: Any, items: list, words: list[str]
) -> None:
    calls = api_calls("elasticache")
    result, _raw = run(items)
    assert result["failed"] is True
    for word in words:
        assert word in result["msg"]
    assert calls == []


def test_missing_description_refused_before_any_write(run: Any, moto: Any, api_calls: Any) -> None:
    calls = api_calls("elasticache")
    result, _raw = run([group("a"), group("b", description=None)])
    assert result["failed"] is True
    assert "b: description" in result["msg"]
    assert not WRITES & set(calls), calls


@pytest.mark.parametrize(
    ("option", "value"),
    [("port", 6380), ("at_rest_encryption_enabled", True), ("num_node_groups", 2)],
)
def test_immutable_change_refused_and_nothing_written(
    run: Any, moto: Any, api_calls: Any, option: str, value: Any
) -> None:
    run(TWO)
    calls = api_calls("elasticache")
    bad = group("sessions", node_type="cache.m7g.large", **{option: value})
    if option == "num_node_groups":
        del bad["num_cache_clusters"]
    # The other group's change is not made either: every item is checked before any write.
    result, _raw = run([group("app-cache", node_type="cache.m7g.large"), bad])
    assert result["failed"] is True
    assert "sessions" in result["msg"] and option in result["msg"]
    assert not WRITES & set(calls), calls


def test_member_attributes_from_one_describe_of_all_clusters(
    run_module: Any, stubbed_client: Any
) -> None:
    """A group whose member cluster exists (not in moto): compared, with no warning, and a
    subnet group change refused."""
    stub = stubbed_client("elasticache")
    arn = f"arn:aws:elasticache:{REGION}:123456789012:replicationgroup:app-cache"
    rg = {
        "ReplicationGroupId": "app-cache",
        "Description": "Cache app-cache",
        "Status": "available",
        "MemberClusters": ["app-cache-001"],
        "NodeGroups": [
            {
                "NodeGroupId": "0001",
                "PrimaryEndpoint": {"Address": "master.app-cache", "Port": 6379},
                "NodeGroupMembers": [{"CacheClusterId": "app-cache-001"}],
            }
        ],
        "AutomaticFailover": "disabled",
        "MultiAZ": "disabled",
        "SnapshotRetentionLimit": 1,
        "ClusterEnabled": False,
        "CacheNodeType": "cache.t4g.small",
        "ARN": arn,
        "Engine": "redis",
    }
    member = {
        "CacheClusterId": "app-cache-001",
        "EngineVersion": "7.1.0",
        "CacheParameterGroup": {"CacheParameterGroupName": "default.redis7"},
        "CacheSubnetGroupName": "subnets",
        "SecurityGroups": [{"SecurityGroupId": "sg-1"}],
        "PreferredMaintenanceWindow": "sun:23:00-mon:01:30",
    }

    def expect_reads() -> None:
        stub.add_response("describe_replication_groups", {"ReplicationGroups": [rg]}, {})
        stub.add_response("describe_cache_clusters", {"CacheClusters": [member]}, {})
        stub.add_response(
            "list_tags_for_resource",
            {"TagList": [{"Key": "service", "Value": "app-cache"}]},
            {"ResourceName": arn},
        )

    item = group(
        "app-cache",
        cache_subnet_group_name="subnets",
        security_group_ids=["sg-1"],
        preferred_maintenance_window="Sun:23:00-Mon:01:30",
    )
    expect_reads()
    result = run_module(module, {"replication_groups": [item], "region": REGION})
    assert result["changed"] is False, result
    assert result["replication_groups"][0]["replication_group"]["engine_version"] == "7.1.0"
    assert "warnings" not in result, result.get("warnings")

    expect_reads()
    item = dict(item, cache_subnet_group_name="other")
    result = run_module(module, {"replication_groups": [item], "region": REGION})
    assert result["failed"] is True
    assert "app-cache" in result["msg"] and "cache_subnet_group_name" in result["msg"]


def test_all_writes_started_before_the_waits(run_module: Any, stubbed_client: Any) -> None:
    """A group needing two writes (a replica more, a node type) and a group to create: the first
    write of each is started at once, the second write of the first group waits for it, then
    both groups are waited on together and read back with one describe."""
    stub = stubbed_client("elasticache")
    arn = f"arn:aws:elasticache:{REGION}:123456789012:replicationgroup:app-cache"

    def rg(group_id: str, members: int, node_type: str = "cache.t4g.small") -> dict[str, Any]:
        ids = [f"{group_id}-{i:03d}" for i in range(1, members + 1)]
        return {
            "ReplicationGroupId": group_id,
            "Description": f"Cache {group_id}",
            "Status": "available",
            "MemberClusters": ids,
            "NodeGroups": [
                {"NodeGroupId": "0001", "NodeGroupMembers": [{"CacheClusterId": i} for i in ids]}
            ],
            "SnapshotRetentionLimit": 1,
            "ClusterEnabled": False,
            "CacheNodeType": node_type,
            "ARN": arn if group_id == "app-cache" else arn.replace("app-cache", group_id),
            "Engine": "redis",
        }

    member = {"CacheClusterId": "app-cache-001", "EngineVersion": "7.1.0"}
    stub.add_response(
        "describe_replication_groups", {"ReplicationGroups": [rg("app-cache", 1)]}, {}
    )
    stub.add_response("describe_cache_clusters", {"CacheClusters": [member]}, {})
    stub.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": "service", "Value": "app-cache"}]},
        {"ResourceName": arn},
    )
    stub.add_response(
        "increase_replica_count",
        {"ReplicationGroup": rg("app-cache", 1)},
        {"ReplicationGroupId": "app-cache", "NewReplicaCount": 1, "ApplyImmediately": True},
    )
    stub.add_response("create_replication_group", {"ReplicationGroup": rg("sessions", 1)}, None)
    stub.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [rg("app-cache", 2)]},
        {"ReplicationGroupId": "app-cache"},
    )
    stub.add_response(
        "modify_replication_group",
        {"ReplicationGroup": rg("app-cache", 2)},
        {
            "ReplicationGroupId": "app-cache",
            "CacheNodeType": "cache.m7g.large",
            "ApplyImmediately": False,
        },
    )
    final = [rg("app-cache", 2, "cache.m7g.large"), rg("sessions", 1)]
    stub.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [final[0]]},
        {"ReplicationGroupId": "app-cache"},
    )
    stub.add_response(
        "describe_replication_groups",
        {"ReplicationGroups": [final[1]]},
        {"ReplicationGroupId": "sessions"},
    )
    stub.add_response("describe_replication_groups", {"ReplicationGroups": final}, {})
    stub.add_response("describe_cache_clusters", {"CacheClusters": [member]}, {})
    items = [
        group("app-cache", num_cache_clusters=2, node_type="cache.m7g.large"),
        group("sessions"),
    ]
    result = run_module(module, {"replication_groups": items, "region": REGION}, diff=True)
    assert result["changed"] is True, result
    one, two = result["replication_groups"]
    assert one["diff"]["after"]["num_cache_clusters"] == 2
    assert one["replication_group"]["cache_node_type"] == "cache.m7g.large"
    assert two["replication_group"]["tags"] == {"service": "sessions"}


# --- cache_subnet_groups ---------------------------------------------------------------------

SUBNET_WRITES = {"CreateCacheSubnetGroup", "ModifyCacheSubnetGroup", "DeleteCacheSubnetGroup"}


def subnet_group(name: str = "app-subnets", **overrides: Any) -> dict[str, Any]:
    item = {"name": name, "description": f"Subnets {name}", "subnet_ids": ["subnet-b", "subnet-a"]}
    item.update(overrides)
    return item


def test_subnet_group_created_first_then_rerun_reads_it_once(
    run: Any, moto: Any, api_calls: Any
) -> None:
    calls = api_calls("elasticache")
    items = [group("sessions", cache_subnet_group_name="app-subnets")]
    result, _raw = run(items, cache_subnet_groups=[subnet_group()])
    assert result["changed"] is True, result
    (entry,) = result["cache_subnet_groups"]
    assert entry["name"] == "app-subnets" and entry["changed"] is True
    assert entry["subnet_ids"] == ["subnet-a", "subnet-b"]
    assert result["diff"]["before"]["cache_subnet_group:app-subnets"] == {}
    assert result["diff"]["after"]["cache_subnet_group:app-subnets"] == {
        "description": "Subnets app-subnets",
        "subnet_ids": ["subnet-a", "subnet-b"],
    }
    # The subnet group is written before the replication group that needs it.
    writes = [op for op in calls if op in WRITES | SUBNET_WRITES]
    assert writes[:2] == ["CreateCacheSubnetGroup", "CreateReplicationGroup"], writes
    (found,) = moto.describe_cache_subnet_groups(CacheSubnetGroupName="app-subnets")[
        "CacheSubnetGroups"
    ]
    assert found["CacheSubnetGroupDescription"] == "Subnets app-subnets"
    assert {s["SubnetIdentifier"] for s in found["Subnets"]} == {"subnet-a", "subnet-b"}

    calls.clear()
    again, _raw = run(
        items, cache_subnet_groups=[subnet_group(subnet_ids=["subnet-a", "subnet-b"])]
    )
    assert again["changed"] is False, again
    assert again["cache_subnet_groups"][0]["changed"] is False
    assert "cache_subnet_group:app-subnets" not in again["diff"]["after"]
    assert not (WRITES | SUBNET_WRITES) & set(calls), calls
    assert calls.count("DescribeCacheSubnetGroups") == 1, calls


def test_no_subnet_groups_no_describe(run: Any, moto: Any, api_calls: Any) -> None:
    calls = api_calls("elasticache")
    result, _raw = run([group("sessions")])
    assert result["cache_subnet_groups"] == []
    assert "DescribeCacheSubnetGroups" not in calls


def test_subnet_group_check_mode_writes_nothing(run: Any, moto: Any, api_calls: Any) -> None:
    calls = api_calls("elasticache")
    items = [group("sessions", cache_subnet_group_name="app-subnets")]
    result, _raw = run(items, check_mode=True, cache_subnet_groups=[subnet_group()])
    assert result["changed"] is True
    assert result["cache_subnet_groups"][0]["changed"] is True
    assert result["cache_subnet_groups"][0]["vpc_id"] == ""
    assert result["diff"]["after"]["cache_subnet_group:app-subnets"]["subnet_ids"] == [
        "subnet-a",
        "subnet-b",
    ]
    assert not (WRITES | SUBNET_WRITES) & set(calls), calls
    assert moto.describe_cache_subnet_groups()["CacheSubnetGroups"] == []


def test_subnet_group_change_modifies_it(run_module: Any, stubbed_client: Any) -> None:
    """moto 5.2.5 has no ModifyCacheSubnetGroup: a Stubber proves the call and its order."""
    stub = stubbed_client("elasticache")
    found = {
        "CacheSubnetGroupName": "app-subnets",
        "CacheSubnetGroupDescription": "Subnets app-subnets",
        "VpcId": "vpc-1",
        "Subnets": [{"SubnetIdentifier": "subnet-a"}, {"SubnetIdentifier": "subnet-old"}],
    }
    stub.add_response("describe_cache_subnet_groups", {"CacheSubnetGroups": [found]}, {})
    stub.add_response("describe_replication_groups", {"ReplicationGroups": []}, {})
    changed = dict(
        found, Subnets=[{"SubnetIdentifier": "subnet-a"}, {"SubnetIdentifier": "subnet-b"}]
    )
    stub.add_response(
        "modify_cache_subnet_group",
        {"CacheSubnetGroup": changed},
        {
            "CacheSubnetGroupName": "app-subnets",
            "CacheSubnetGroupDescription": "Subnets app-subnets",
            "SubnetIds": ["subnet-a", "subnet-b"],
        },
    )
    args = {"replication_groups": [], "cache_subnet_groups": [subnet_group()], "region": REGION}
    result = run_module(module, args, diff=True)
    assert result["changed"] is True, result
    (entry,) = result["cache_subnet_groups"]
    assert entry == {
        "name": "app-subnets",
        "changed": True,
        "vpc_id": "vpc-1",
        "subnet_ids": ["subnet-a", "subnet-b"],
    }
    diff = result["diff"]
    assert diff["before"]["cache_subnet_group:app-subnets"]["subnet_ids"] == [
        "subnet-a",
        "subnet-old",
    ]
    assert diff["after"]["cache_subnet_group:app-subnets"]["subnet_ids"] == [
        "subnet-a",
        "subnet-b",
    ]


def test_subnet_group_change_in_check_mode_writes_nothing(
    run_module: Any, stubbed_client: Any
) -> None:
    stub = stubbed_client("elasticache")
    found = {
        "CacheSubnetGroupName": "app-subnets",
        "CacheSubnetGroupDescription": "old",
        "Subnets": [{"SubnetIdentifier": "subnet-a"}, {"SubnetIdentifier": "subnet-b"}],
    }
    stub.add_response("describe_cache_subnet_groups", {"CacheSubnetGroups": [found]}, {})
    stub.add_response("describe_replication_groups", {"ReplicationGroups": []}, {})
    args = {"replication_groups": [], "cache_subnet_groups": [subnet_group()], "region": REGION}
    result = run_module(module, args, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["after"]["cache_subnet_group:app-subnets"]["description"] == (
        "Subnets app-subnets"
    )


@pytest.mark.parametrize(
    ("subnet_groups", "words"),
    [
        ([subnet_group("bad_name")], ["cache_subnet_groups[0]", "bad_name", "name"]),
        ([subnet_group("default")], ["cache_subnet_groups[0]", "default"]),
        (
            [subnet_group(), subnet_group("b", subnet_ids=[])],
            ["cache_subnet_groups[1]", "subnet_ids"],
        ),
        ([subnet_group("b", description="")], ["cache_subnet_groups[0]", "description"]),
        ([subnet_group("a"), subnet_group("A")], ["Duplicate", "a"]),
    ],
)
def test_bad_subnet_group_refused_before_any_call(
    run: Any, moto: Any, api_calls: Any, subnet_groups: list, words: list[str]
) -> None:
    calls = api_calls("elasticache")
    result, _raw = run([group("sessions")], cache_subnet_groups=subnet_groups)
    assert result["failed"] is True, result
    for word in words:
        assert word in result["msg"], result["msg"]
    assert calls == []


def test_replication_group_problem_stops_the_subnet_group_write(
    run: Any, moto: Any, api_calls: Any
) -> None:
    """Every item is planned before any write: a refused group leaves the subnet group alone."""
    calls = api_calls("elasticache")
    result, _raw = run([group("b", description=None)], cache_subnet_groups=[subnet_group()])
    assert result["failed"] is True
    assert not (WRITES | SUBNET_WRITES) & set(calls), calls
    assert moto.describe_cache_subnet_groups()["CacheSubnetGroups"] == []
