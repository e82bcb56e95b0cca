"""Unit tests for plinth.platform.eks_nodegroups.

Creation, rerun, configuration updates, purge and deletion run against moto's in-process EKS;
version updates and tags of existing node groups (not in moto) against a botocore Stubber.
"""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import eks_nodegroups

REGION = "us-east-1"
CLUSTER = "shop-dev"
NODE_ROLE = "arn:aws:iam::123456789012:role/shop-dev-eks-node"
STACK = {"plinth:stack": "shop-dev"}
EKS_WRITES = {
    "CreateNodegroup",
    "DeleteNodegroup",
    "UpdateNodegroupConfig",
    "UpdateNodegroupVersion",
    "TagResource",
    "UntagResource",
}


@pytest.fixture
def cluster(moto_vpc):
    subnets = moto_vpc["subnets"]
    boto3.client("eks", region_name=REGION).create_cluster(
        name=CLUSTER,
        roleArn="arn:aws:iam::123456789012:role/cluster",
        resourcesVpcConfig={"subnetIds": subnets},
    )
    return {"subnets": subnets}


def group(cluster, name, **overrides):
    base = {
        "name": name,
        "node_role": NODE_ROLE,
        "subnets": cluster["subnets"],
        "instance_types": ["m6i.large"],
        "capacity_type": "ON_DEMAND",
        "ami_type": "AL2023_x86_64_STANDARD",
        "scaling_config": {"min_size": 1, "desired_size": 2, "max_size": 4},
        "labels": {"workload": name},
        "taints": [],
        "update_config": {"max_unavailable": 1},
        "version": "1.33",
        "tags": STACK,
    }
    base.update(overrides)
    return base


def args(cluster, *groups, **overrides):
    base = {
        "cluster_name": CLUSTER,
        "region": REGION,
        "node_groups": list(groups) or [group(cluster, "general"), group(cluster, "ml")],
        "purge": True,
        "purge_tag_filter": STACK,
        "wait": True,
    }
    base.update(overrides)
    return base


def eks():
    return boto3.client("eks", region_name=REGION)


def names():
    return sorted(eks().list_nodegroups(clusterName=CLUSTER)["nodegroups"])


def describe(name):
    return eks().describe_nodegroup(clusterName=CLUSTER, nodegroupName=name)["nodegroup"]


def test_check_mode_creates_nothing(run_module, cluster):
    result = run_module(eks_nodegroups, args(cluster), check_mode=True, diff=True)
    assert result["changed"]
    assert result["nodegroups"] == [{}, {}]
    assert result["diff"]["after"]["ml"]["capacity_type"] == "ON_DEMAND"
    assert names() == []


def test_missing_cluster_has_no_node_groups(run_module, aws_moto):
    result = run_module(
        eks_nodegroups,
        {"cluster_name": "nope", "region": REGION, "node_groups": [], "purge": True},
    )
    assert not result["changed"] and result["nodegroups"] == [] and result["purged"] == []


def test_create_then_rerun_is_two_reads_per_group(run_module, cluster, api_calls):
    result = run_module(eks_nodegroups, args(cluster))
    assert result["changed"]
    assert names() == ["general", "ml"]
    assert [g["nodegroup_name"] for g in result["nodegroups"]] == ["general", "ml"]
    assert result["nodegroups"][1]["labels"] == {"workload": "ml"}
    assert describe("ml")["scalingConfig"] == {"minSize": 1, "desiredSize": 2, "maxSize": 4}

    calls = api_calls("eks")
    again = run_module(eks_nodegroups, args(cluster), diff=True)
    assert not again["changed"], again["diff"]
    assert again["nodegroups"][0]["status"] == "ACTIVE"
    assert calls == ["DescribeNodegroup", "DescribeNodegroup", "ListNodegroups"]


def test_updates_in_place(run_module, cluster):
    run_module(eks_nodegroups, args(cluster))
    ml = group(
        cluster,
        "ml",
        scaling_config={"min_size": 1, "desired_size": 3, "max_size": 6},
        labels={"workload": "ml", "tier": "batch"},
        taints=[{"key": "dedicated", "value": "ml", "effect": "NO_EXECUTE"}],
        update_config={"max_unavailable_percentage": 25},
    )
    changed = args(cluster, group(cluster, "general"), ml)
    preview = run_module(eks_nodegroups, changed, check_mode=True, diff=True)
    assert preview["changed"] and list(preview["diff"]["after"]) == ["ml"]
    assert describe("ml")["scalingConfig"]["maxSize"] == 4

    result = run_module(eks_nodegroups, changed)
    assert result["changed"]
    found = describe("ml")
    assert found["scalingConfig"] == {"minSize": 1, "desiredSize": 3, "maxSize": 6}
    assert found["labels"] == {"workload": "ml", "tier": "batch"}
    assert found["taints"] == [{"key": "dedicated", "value": "ml", "effect": "NO_EXECUTE"}]
    assert found["updateConfig"] == {"maxUnavailablePercentage": 25}
    assert result["nodegroups"][1]["scaling_config"]["max_size"] == 6
    assert not run_module(eks_nodegroups, changed)["changed"]


def test_purge_removes_only_unlisted_groups_of_the_stack(run_module, cluster):
    run_module(eks_nodegroups, args(cluster))
    other = group(cluster, "theirs", tags={"plinth:stack": "other"})
    run_module(eks_nodegroups, args(cluster, other, purge=False))
    assert names() == ["general", "ml", "theirs"]

    only_general = args(cluster, group(cluster, "general"))
    preview = run_module(eks_nodegroups, only_general, check_mode=True)
    assert preview["changed"] and preview["purged"] == ["ml"]
    assert names() == ["general", "ml", "theirs"]

    result = run_module(eks_nodegroups, only_general)
    assert result["changed"] and result["purged"] == ["ml"]
    assert names() == ["general", "theirs"]
    assert not run_module(eks_nodegroups, only_general)["changed"]

    everything = run_module(eks_nodegroups, args(cluster, purge_tag_filter={}, node_groups=[]))
    assert everything["purged"] == ["general", "theirs"]
    assert names() == []


def test_immutable_settings_fail_before_any_write(run_module, cluster, api_calls):
    run_module(eks_nodegroups, args(cluster))
    calls = api_calls("eks")
    bad = args(cluster, group(cluster, "general", capacity_type="SPOT"), group(cluster, "new"))
    result = run_module(eks_nodegroups, bad)
    assert result["failed"]
    assert "general: capacity_type (ON_DEMAND -> SPOT)" in result["msg"]
    assert not EKS_WRITES & set(calls)
    assert names() == ["general", "ml"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"names": ["a", "a"]}, "Duplicate node group names: a"),
        ({"disk_size": 20, "launch_template": {"name": "lt"}}, "mutually exclusive"),
    ],
)
def test_bad_input_is_refused_before_any_call(run_module, cluster, api_calls, overrides, message):
    calls = api_calls("eks")
    groups = [
        group(cluster, name, **{k: v for k, v in overrides.items() if k != "names"})
        for name in overrides.get("names", ["a"])
    ]
    result = run_module(eks_nodegroups, args(cluster, *groups))
    assert result["failed"] and message in result["msg"], result["msg"]
    assert calls == []


def test_create_needs_node_role_and_subnets(run_module, cluster, api_calls):
    calls = api_calls("eks")
    result = run_module(eks_nodegroups, args(cluster, group(cluster, "x", node_role=None)))
    assert result["failed"] and "Creating node group x needs node_role" in result["msg"]
    assert not EKS_WRITES & set(calls)


# --- UpdateNodegroupVersion and TagResource on node groups (not in moto): botocore stubs -----


def stub_group(name, version="1.32", template_version="1", tags=None) -> dict:
    return {
        "nodegroupName": name,
        "clusterName": CLUSTER,
        "nodegroupArn": f"arn:aws:eks:{REGION}:123456789012:nodegroup/{CLUSTER}/{name}/x",
        "status": "ACTIVE",
        "version": version,
        "nodeRole": NODE_ROLE,
        "subnets": ["subnet-1"],
        "scalingConfig": {"minSize": 0, "maxSize": 4, "desiredSize": 1},
        "labels": {},
        "taints": [],
        "launchTemplate": {"name": f"shop-dev-{name}", "id": "lt-1", "version": template_version},
        "tags": tags or {},
    }


def test_version_updates_start_together_then_are_waited_on(run_module, stubbed_client):
    stub = stubbed_client("eks")
    wanted = [
        {
            "name": name,
            "launch_template": {"name": f"shop-dev-{name}", "version": "2"},
            "version": "1.33",
            "tags": {"team": "ml"},
        }
        for name in ("a", "b")
    ]
    for name in ("a", "b"):
        stub.add_response(
            "describe_nodegroup",
            {"nodegroup": stub_group(name)},
            {"clusterName": CLUSTER, "nodegroupName": name},
        )
    stub.add_response("list_nodegroups", {"nodegroups": ["a", "b"]}, {"clusterName": CLUSTER})
    for name in ("a", "b"):
        ids = {"clusterName": CLUSTER, "nodegroupName": name}
        stub.add_response(
            "tag_resource",
            {},
            {"resourceArn": stub_group(name)["nodegroupArn"], "tags": {"team": "ml"}},
        )
        stub.add_response(
            "update_nodegroup_version",
            {"update": {"id": f"u-{name}", "status": "InProgress"}},
            {
                **ids,
                "force": False,
                "version": "1.33",
                "launchTemplate": {"name": f"shop-dev-{name}", "version": "2"},
            },
        )
    done = {name: stub_group(name, "1.33", "2", {"team": "ml"}) for name in ("a", "b")}
    for name in ("a", "b"):  # the nodegroup_active waiters, after both updates started
        stub.add_response(
            "describe_nodegroup",
            {"nodegroup": done[name]},
            {"clusterName": CLUSTER, "nodegroupName": name},
        )
    for name in ("a", "b"):  # the result
        stub.add_response(
            "describe_nodegroup",
            {"nodegroup": done[name]},
            {"clusterName": CLUSTER, "nodegroupName": name},
        )
    result = run_module(
        eks_nodegroups,
        {
            "cluster_name": CLUSTER,
            "region": REGION,
            "node_groups": wanted,
            "purge": True,
            "wait": True,
        },
    )
    assert result["changed"]
    assert [g["version"] for g in result["nodegroups"]] == ["1.33", "1.33"]
    assert result["nodegroups"][0]["tags"] == {"team": "ml"}
