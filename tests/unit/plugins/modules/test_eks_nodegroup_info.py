"""Unit tests for plinth.platform.eks_nodegroup_info against moto's in-process EKS."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import eks_nodegroup_info

REGION = "us-east-1"
CLUSTER = "shop-dev"
ROLE = "arn:aws:iam::123456789012:role/r"


@pytest.fixture
def cluster(aws_moto):
    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(name=CLUSTER, roleArn=ROLE, resourcesVpcConfig={"subnetIds": []})
    for name in ("gpu", "general"):
        eks.create_nodegroup(
            clusterName=CLUSTER,
            nodegroupName=name,
            nodeRole=ROLE,
            subnets=["subnet-1"],
            labels={"Workload": name},
            tags={"Team": "platform"},
        )


def test_lists_every_node_group_sorted(run_module, cluster):
    result = run_module(eks_nodegroup_info, {"cluster_name": CLUSTER, "region": REGION})
    assert not result["changed"]
    assert [g["nodegroup_name"] for g in result["nodegroups"]] == ["general", "gpu"]
    assert result["nodegroups"][1]["labels"] == {"Workload": "gpu"}
    assert result["nodegroups"][1]["tags"] == {"Team": "platform"}


def test_one_node_group_and_missing_ones(run_module, cluster):
    args = {"cluster_name": CLUSTER, "region": REGION}
    (gpu,) = run_module(eks_nodegroup_info, dict(args, name="gpu"))["nodegroups"]
    assert gpu["nodegroup_name"] == "gpu"
    assert run_module(eks_nodegroup_info, dict(args, name="nope"))["nodegroups"] == []


def test_missing_cluster_is_empty(run_module, aws_moto):
    result = run_module(eks_nodegroup_info, {"cluster_name": "nope", "region": REGION})
    assert result["nodegroups"] == []
