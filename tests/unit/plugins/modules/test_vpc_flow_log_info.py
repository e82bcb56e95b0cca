"""Unit tests for plinth.platform.vpc_flow_log_info, run against moto's in-process mock_aws."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import vpc_flow_log_info

REGION = "us-east-1"
LOG_GROUP = "/plinth/vpc/flow-logs"


@pytest.fixture
def flow_logs(aws_moto) -> dict[str, dict[str, str]]:
    """Two VPCs, the first with a REJECT flow log tagged team=a, the second ALL tagged team=b."""
    ec2 = boto3.client("ec2", region_name=REGION)
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=LOG_GROUP)
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="flow-logs", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    created = {}
    for team, traffic_type in (("a", "REJECT"), ("b", "ALL")):
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        [flow_log_id] = ec2.create_flow_logs(
            ResourceIds=[vpc_id],
            ResourceType="VPC",
            TrafficType=traffic_type,
            LogGroupName=LOG_GROUP,
            DeliverLogsPermissionArn=role,
            TagSpecifications=[
                {"ResourceType": "vpc-flow-log", "Tags": [{"Key": "team", "Value": team}]}
            ],
        )["FlowLogIds"]
        created[team] = {"vpc_id": vpc_id, "flow_log_id": flow_log_id}
    return created


def ids(result: dict) -> set[str]:
    return {flow_log["flow_log_id"] for flow_log in result["flow_logs"]}


def test_lists_all(run_module, flow_logs):
    result = run_module(vpc_flow_log_info, {})

    assert result["changed"] is False
    assert ids(result) == {flow_logs["a"]["flow_log_id"], flow_logs["b"]["flow_log_id"]}


def test_by_resource_id(run_module, flow_logs):
    result = run_module(vpc_flow_log_info, {"resource_id": flow_logs["a"]["vpc_id"]})

    [flow_log] = result["flow_logs"]
    assert flow_log["flow_log_id"] == flow_logs["a"]["flow_log_id"]
    assert flow_log["resource_id"] == flow_logs["a"]["vpc_id"]
    assert flow_log["traffic_type"] == "REJECT"
    assert flow_log["log_group_name"] == LOG_GROUP
    assert flow_log["tags"] == {"team": "a"}
    assert isinstance(flow_log["creation_time"], str)


def test_by_flow_log_ids(run_module, flow_logs):
    result = run_module(vpc_flow_log_info, {"flow_log_ids": [flow_logs["b"]["flow_log_id"]]})

    assert ids(result) == {flow_logs["b"]["flow_log_id"]}


@pytest.mark.parametrize(
    ("filters", "team"),
    [({"tag:team": "b"}, "b"), ({"traffic-type": "REJECT"}, "a")],
)
def test_by_filters(run_module, flow_logs, filters, team):
    result = run_module(vpc_flow_log_info, {"filters": filters})

    assert ids(result) == {flow_logs[team]["flow_log_id"]}


def test_selections_combine(run_module, flow_logs):
    result = run_module(
        vpc_flow_log_info,
        {"resource_ids": [flow_logs["a"]["vpc_id"]], "filters": {"tag:team": "b"}},
    )

    assert result["flow_logs"] == []


def test_check_mode(run_module, flow_logs):
    result = run_module(vpc_flow_log_info, {}, check_mode=True)

    assert len(result["flow_logs"]) == 2
