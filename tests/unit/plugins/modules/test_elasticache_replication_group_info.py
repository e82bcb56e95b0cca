"""Unit tests for plinth.platform.elasticache_replication_group_info.

Against moto's ``mock_aws`` for groups and tags, and a botocore ``Stubber`` for member cache
clusters (moto 5.2.5 creates none for a replication group).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import (
    AWSRetry,
    RetryingBotoClientWrapper,
)
from ansible_collections.plinth.platform.plugins.modules import (
    elasticache_replication_group_info as info,
)
from botocore.stub import Stubber

REGION = "us-east-1"
TOKEN = "Sup3r-Secret-Auth-Token-0123456789"


@pytest.fixture
def run(run_module: Any) -> Any:
    """``run(args) -> result`` for this module."""
    return lambda args: run_module(info, dict(args, region=REGION))


@pytest.fixture
def moto(aws_moto: None) -> Any:
    client = boto3.client("elasticache", region_name=REGION)
    for name in ("cache-a", "cache-b"):
        client.create_replication_group(
            ReplicationGroupId=name,
            ReplicationGroupDescription=f"{name} description",
            CacheNodeType="cache.t4g.small",
            Engine="redis",
            EngineVersion="7.1",
            TransitEncryptionEnabled=True,
            AuthToken=TOKEN,
            Tags=[{"Key": "name", "Value": name}],
        )
    return client


def test_describe_one(run: Any, moto: Any) -> None:
    result = run({"replication_group_id": "cache-a"})
    assert result["changed"] is False
    [group] = result["replication_groups"]
    assert group["replication_group_id"] == "cache-a"
    assert group["tags"] == {"name": "cache-a"}
    assert group["primary_endpoint"]["address"].startswith("master.cache-a.")
    assert group["auth_token_enabled"] is True
    assert TOKEN not in json.dumps(result)
    # moto creates no member cache clusters; the module says so instead of inventing them.
    assert group["member_cluster_details"] == []
    assert "cache-a-001" in json.dumps(result["warnings"])


def test_describe_all_without_members(run: Any, moto: Any) -> None:
    result = run({"include_member_clusters": False})
    ids = sorted(g["replication_group_id"] for g in result["replication_groups"])
    assert ids == ["cache-a", "cache-b"]
    assert all("member_cluster_details" not in g for g in result["replication_groups"])


def test_unknown_id_is_an_empty_list(run: Any, moto: Any) -> None:
    assert run({"replication_group_id": "nope"})["replication_groups"] == []


def test_member_cluster_details_with_stubber(
    run: Any, aws_moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = boto3.client("elasticache", region_name=REGION)
    stubber = Stubber(client)

    def fake_client(self: AnsibleAWSModule, service: str, retry_decorator: Any = None, **_: Any):
        return RetryingBotoClientWrapper(client, retry_decorator or AWSRetry.jittered_backoff())

    monkeypatch.setattr(AnsibleAWSModule, "client", fake_client)
    arn = f"arn:aws:elasticache:{REGION}:123456789012:replicationgroup:app"
    stubber.add_response(
        "describe_replication_groups",
        {
            "ReplicationGroups": [
                {
                    "ReplicationGroupId": "app",
                    "Status": "available",
                    "MemberClusters": ["app-001", "app-002"],
                    "ClusterEnabled": False,
                    "ARN": arn,
                }
            ]
        },
        {"ReplicationGroupId": "app"},
    )
    for cid in ("app-001", "app-002"):
        stubber.add_response(
            "describe_cache_clusters",
            {
                "CacheClusters": [
                    {
                        "CacheClusterId": cid,
                        "EngineVersion": "7.1.0",
                        "CacheParameterGroup": {"CacheParameterGroupName": "default.redis7"},
                        "CacheSubnetGroupName": "subnets",
                        "SecurityGroups": [{"SecurityGroupId": "sg-1", "Status": "active"}],
                        "PreferredMaintenanceWindow": "sun:23:00-mon:01:30",
                    }
                ]
            },
            {"CacheClusterId": cid, "ShowCacheNodeInfo": True},
        )
    stubber.add_response("list_tags_for_resource", {"TagList": []}, {"ResourceName": arn})
    with stubber:
        result = run({"replication_group_id": "app"})
        stubber.assert_no_pending_responses()
    [group] = result["replication_groups"]
    assert group["engine_version"] == "7.1.0"
    assert group["cache_parameter_group_name"] == "default.redis7"
    assert group["security_group_ids"] == ["sg-1"]
    assert [c["cache_cluster_id"] for c in group["member_cluster_details"]] == [
        "app-001",
        "app-002",
    ]
    assert "warnings" not in result
