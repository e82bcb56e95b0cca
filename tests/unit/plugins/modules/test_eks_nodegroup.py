"""Unit tests for plinth.platform.eks_nodegroup.

Creation, configuration updates (scaling, labels, taints, update config) and deletion run
against moto's in-process EKS. moto does not implement UpdateNodegroupVersion, so version updates
and tags run against a botocore Stubber that asserts every request (moto's TagResource only
knows clusters); the live probe below skips with that reason until moto gains the API.
"""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.module_utils.eks import diff_labels, diff_taints
from ansible_collections.plinth.platform.plugins.modules import eks_nodegroup
from botocore.exceptions import ClientError

REGION = "us-east-1"
CLUSTER = "shop-dev"
NAME = "ml"
NODE_ROLE = "arn:aws:iam::123456789012:role/shop-dev-eks-node"


@pytest.fixture
def cluster(moto_vpc):
    subnets = moto_vpc["subnets"]
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.create_launch_template(
        LaunchTemplateName="shop-dev-ml",
        LaunchTemplateData={"MetadataOptions": {"HttpTokens": "required"}},
    )
    boto3.client("eks", region_name=REGION).create_cluster(
        name=CLUSTER,
        roleArn="arn:aws:iam::123456789012:role/cluster",
        resourcesVpcConfig={"subnetIds": subnets},
    )
    return {"subnets": subnets}


def args(cluster, **overrides):
    base = {
        "cluster_name": CLUSTER,
        "name": NAME,
        "region": REGION,
        "node_role": NODE_ROLE,
        "subnets": cluster["subnets"],
        "instance_types": ["c5.2xlarge", "c5.4xlarge"],
        "capacity_type": "SPOT",
        "ami_type": "AL2023_x86_64_STANDARD",
        "scaling_config": {"min_size": 0, "desired_size": 1, "max_size": 4},
        "labels": {"workload": "ml"},
        "taints": [{"key": "workload", "value": "ml", "effect": "NO_SCHEDULE"}],
        "launch_template": {"name": "shop-dev-ml", "version": "1"},
        "update_config": {"max_unavailable": 1},
        "version": "1.33",
        "tags": {"team": "ml"},
        "wait": True,
    }
    base.update(overrides)
    return base


def describe():
    return boto3.client("eks", region_name=REGION).describe_nodegroup(
        clusterName=CLUSTER, nodegroupName=NAME
    )["nodegroup"]


def test_diff_taints_identifies_by_key_and_effect():
    current = [
        {"key": "a", "value": "1", "effect": "NO_SCHEDULE"},
        {"key": "b", "value": "1", "effect": "NO_EXECUTE"},
    ]
    wanted = [
        {"key": "a", "value": "2", "effect": "NO_SCHEDULE"},
        {"key": "b", "value": "1", "effect": "NO_SCHEDULE"},
    ]
    assert diff_taints(current, wanted) == {
        "addOrUpdateTaints": [
            {"key": "a", "value": "2", "effect": "NO_SCHEDULE"},
            {"key": "b", "value": "1", "effect": "NO_SCHEDULE"},
        ],
        "removeTaints": [{"key": "b", "value": "1", "effect": "NO_EXECUTE"}],
    }
    assert diff_taints(current, list(reversed(current))) == {}


def test_diff_labels_updates_values_and_removes_keys():
    assert diff_labels({"a": "1", "b": "1"}, {"a": "2", "c": "1"}) == {
        "addOrUpdateLabels": {"a": "2", "c": "1"},
        "removeLabels": ["b"],
    }
    assert diff_labels({"a": "1"}, {"a": "1"}) == {}


def test_check_mode_creates_nothing(run_module, cluster):
    result = run_module(eks_nodegroup, args(cluster), check_mode=True, diff=True)
    assert result["changed"]
    assert result["nodegroup"] == {}
    assert result["diff"]["after"]["capacity_type"] == "SPOT"
    client = boto3.client("eks", region_name=REGION)
    assert client.list_nodegroups(clusterName=CLUSTER)["nodegroups"] == []


def test_create_then_rerun_is_unchanged(run_module, cluster):
    result = run_module(eks_nodegroup, args(cluster))
    assert result["changed"]
    group = describe()
    assert group["capacityType"] == "SPOT"
    assert group["scalingConfig"] == {"minSize": 0, "desiredSize": 1, "maxSize": 4}
    assert group["taints"] == [{"key": "workload", "value": "ml", "effect": "NO_SCHEDULE"}]
    assert group["launchTemplate"]["name"] == "shop-dev-ml"
    assert result["nodegroup"]["labels"] == {"workload": "ml"}

    again = run_module(eks_nodegroup, args(cluster), diff=True)
    assert not again["changed"], again["diff"]


def test_updates_scaling_labels_taints_and_update_config(run_module, cluster):
    run_module(eks_nodegroup, args(cluster))
    changes = dict(
        scaling_config={"min_size": 1, "desired_size": 2, "max_size": 6},
        labels={"workload": "ml", "tier": "batch"},
        taints=[{"key": "dedicated", "value": "ml", "effect": "NO_EXECUTE"}],
        update_config={"max_unavailable_percentage": 25},
    )
    preview = run_module(eks_nodegroup, args(cluster, **changes), check_mode=True, diff=True)
    assert preview["changed"]
    assert preview["diff"]["after"]["scaling_config"]["max_size"] == 6
    assert describe()["scalingConfig"]["maxSize"] == 4

    assert run_module(eks_nodegroup, args(cluster, **changes))["changed"]
    group = describe()
    assert group["scalingConfig"] == {"minSize": 1, "desiredSize": 2, "maxSize": 6}
    assert group["labels"] == {"workload": "ml", "tier": "batch"}
    assert group["taints"] == [{"key": "dedicated", "value": "ml", "effect": "NO_EXECUTE"}]
    assert group["updateConfig"] == {"maxUnavailablePercentage": 25}
    assert not run_module(eks_nodegroup, args(cluster, **changes))["changed"]


def test_omitted_desired_size_is_left_to_the_autoscaler(run_module, cluster):
    run_module(eks_nodegroup, args(cluster))
    boto3.client("eks", region_name=REGION).update_nodegroup_config(
        clusterName=CLUSTER, nodegroupName=NAME, scalingConfig={"desiredSize": 3}
    )
    result = run_module(eks_nodegroup, args(cluster, scaling_config={"min_size": 0, "max_size": 4}))
    assert not result["changed"]
    assert describe()["scalingConfig"]["desiredSize"] == 3


def test_immutable_settings_fail_naming_old_and_new(run_module, cluster):
    run_module(eks_nodegroup, args(cluster))
    result = run_module(eks_nodegroup, args(cluster, capacity_type="ON_DEMAND"))
    assert result["failed"]
    assert "capacity_type (SPOT -> ON_DEMAND)" in result["msg"]


def test_disk_size_and_launch_template_are_exclusive(run_module, cluster):
    result = run_module(eks_nodegroup, args(cluster, disk_size=50))
    assert result["failed"]
    assert "mutually exclusive" in result["msg"]


def test_delete_and_rerun(run_module, cluster):
    run_module(eks_nodegroup, args(cluster))
    absent = {"cluster_name": CLUSTER, "name": NAME, "region": REGION, "state": "absent"}
    assert run_module(eks_nodegroup, absent, check_mode=True)["changed"]
    assert describe()
    assert run_module(eks_nodegroup, dict(absent, wait=True))["changed"]
    client = boto3.client("eks", region_name=REGION)
    assert client.list_nodegroups(clusterName=CLUSTER)["nodegroups"] == []
    assert not run_module(eks_nodegroup, absent)["changed"]


def test_absent_without_cluster_is_unchanged(run_module, aws_moto):
    absent = {"cluster_name": CLUSTER, "name": NAME, "region": REGION, "state": "absent"}
    assert not run_module(eks_nodegroup, absent)["changed"]


# --- UpdateNodegroupVersion (not in moto): botocore stubs --------------------------------------


@pytest.fixture
def stub(stubbed_client):
    """A Stubber on the EKS client every module instance gets; all stubs must be consumed."""
    return stubbed_client("eks")


def stub_group(status="ACTIVE", version="1.32", template_version="1", max_size=4) -> dict:
    return {
        "nodegroup": {
            "nodegroupName": NAME,
            "clusterName": CLUSTER,
            "nodegroupArn": f"arn:aws:eks:{REGION}:123456789012:nodegroup/{CLUSTER}/{NAME}/x",
            "status": status,
            "version": version,
            "nodeRole": NODE_ROLE,
            "subnets": ["subnet-1"],
            "scalingConfig": {"minSize": 0, "maxSize": max_size, "desiredSize": 1},
            "labels": {},
            "taints": [],
            "launchTemplate": {"name": "shop-dev-ml", "id": "lt-1", "version": template_version},
            "updateConfig": {"maxUnavailable": 1},
            "tags": {},
        }
    }


STUB_ARGS = {
    "cluster_name": CLUSTER,
    "name": NAME,
    "region": REGION,
    "scaling_config": {"min_size": 0, "max_size": 6},
    "launch_template": {"name": "shop-dev-ml", "version": "2"},
    "version": "1.33",
    "tags": {"team": "ml"},
}
IDS = {"clusterName": CLUSTER, "nodegroupName": NAME}


def test_config_then_version_update_waits_between(run_module, stub):
    update = {"update": {"id": "u1", "status": "InProgress"}}
    stub.add_response("describe_nodegroup", stub_group(), IDS)
    arn = stub_group()["nodegroup"]["nodegroupArn"]
    stub.add_response("tag_resource", {}, {"resourceArn": arn, "tags": {"team": "ml"}})
    stub.add_response(
        "update_nodegroup_config",
        update,
        {**IDS, "scalingConfig": {"minSize": 0, "maxSize": 6, "desiredSize": 1}},
    )
    stub.add_response("describe_nodegroup", stub_group(max_size=6), IDS)  # nodegroup_active
    stub.add_response(
        "update_nodegroup_version",
        update,
        {
            **IDS,
            "force": False,
            "version": "1.33",
            "launchTemplate": {"name": "shop-dev-ml", "version": "2"},
        },
    )
    stub.add_response(
        "describe_nodegroup", stub_group(version="1.33", template_version="2", max_size=6), IDS
    )
    result = run_module(eks_nodegroup, STUB_ARGS)
    assert result["changed"]
    assert result["nodegroup"]["version"] == "1.33"


def test_moto_lacks_update_nodegroup_version(run_module, cluster):
    """Probe: when moto implements UpdateNodegroupVersion, test it live instead."""
    run_module(eks_nodegroup, args(cluster))
    try:
        boto3.client("eks", region_name=REGION).update_nodegroup_version(
            clusterName=CLUSTER, nodegroupName=NAME, version="1.34"
        )
    except (ClientError, NotImplementedError) as e:
        pytest.skip(f"moto does not implement UpdateNodegroupVersion: {e}")
    pytest.fail("moto now implements UpdateNodegroupVersion: add a live version test")
