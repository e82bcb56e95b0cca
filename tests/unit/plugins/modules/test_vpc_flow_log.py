"""Unit tests for plinth.platform.vpc_flow_log, run against moto's in-process mock_aws."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import vpc_flow_log

REGION = "us-east-1"
LOG_GROUP = "/plinth/vpc/flow-logs"
CUSTOM_FORMAT = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${action}"


@pytest.fixture
def ec2(aws_moto):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def env(aws_moto, ec2) -> dict[str, str]:
    """A VPC with a subnet, a log group and an IAM role for publishing to it."""
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=LOG_GROUP)
    iam = boto3.client("iam", region_name=REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    roles = [
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        for name in ("flow-logs", "flow-logs-2")
    ]
    return {"vpc_id": vpc_id, "subnet_id": subnet_id, "role": roles[0], "role2": roles[1]}


@pytest.fixture
def args(env) -> dict[str, Any]:
    return {
        "resource_id": env["vpc_id"],
        "traffic_type": "REJECT",
        "log_group_name": LOG_GROUP,
        "deliver_logs_permission_arn": env["role"],
        "tags": {"Environment": "test"},
    }


def flow_logs(ec2) -> list[dict[str, Any]]:
    return ec2.describe_flow_logs()["FlowLogs"]


def tags_of(flow_log: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in flow_log.get("Tags", [])}


def test_create_then_rerun_is_idempotent(run_module, ec2, env, args):
    result = run_module(vpc_flow_log, args)

    assert result["changed"] is True
    flow_log = result["flow_log"]
    assert flow_log["flow_log_id"].startswith("fl-")
    assert flow_log["resource_id"] == env["vpc_id"]
    assert flow_log["traffic_type"] == "REJECT"
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    assert flow_log["log_group_name"] == LOG_GROUP
    assert flow_log["deliver_logs_permission_arn"] == env["role"]
    assert flow_log["tags"] == {"Environment": "test"}
    assert isinstance(flow_log["creation_time"], str)
    [created] = flow_logs(ec2)
    assert created["FlowLogId"] == flow_log["flow_log_id"]
    assert tags_of(created) == {"Environment": "test"}

    again = run_module(vpc_flow_log, args)

    assert again["changed"] is False
    assert again["flow_log"]["flow_log_id"] == flow_log["flow_log_id"]
    assert len(flow_logs(ec2)) == 1


def test_create_with_format_and_interval(run_module, ec2, args):
    args = dict(args, log_format=CUSTOM_FORMAT, max_aggregation_interval=60)

    result = run_module(vpc_flow_log, args)

    assert result["changed"] is True
    assert result["flow_log"]["log_format"] == CUSTOM_FORMAT
    assert result["flow_log"]["max_aggregation_interval"] == 60
    [created] = flow_logs(ec2)
    assert created["LogFormat"] == CUSTOM_FORMAT
    assert created["MaxAggregationInterval"] == 60
    assert run_module(vpc_flow_log, args)["changed"] is False


def test_check_mode_on_empty_state_creates_nothing(run_module, ec2, env, args):
    result = run_module(vpc_flow_log, args, check_mode=True)

    assert result["changed"] is True
    assert "flow_log_id" not in result["flow_log"]
    assert result["flow_log"]["resource_id"] == env["vpc_id"]
    assert result["flow_log"]["tags"] == {"Environment": "test"}
    assert flow_logs(ec2) == []


def test_tags_change(run_module, ec2, args):
    flow_log_id = run_module(vpc_flow_log, args)["flow_log"]["flow_log_id"]

    checked = run_module(vpc_flow_log, dict(args, tags={"Team": "platform"}), check_mode=True)
    assert checked["changed"] is True
    assert checked["flow_log"]["tags"] == {"Team": "platform"}
    assert tags_of(flow_logs(ec2)[0]) == {"Environment": "test"}

    result = run_module(vpc_flow_log, dict(args, tags={"Team": "platform"}))
    assert result["changed"] is True
    assert result["flow_log"]["flow_log_id"] == flow_log_id
    assert result["flow_log"]["tags"] == {"Team": "platform"}
    assert tags_of(flow_logs(ec2)[0]) == {"Team": "platform"}

    kept = run_module(vpc_flow_log, dict(args, tags={"Owner": "sre"}, purge_tags=False))
    assert kept["changed"] is True
    assert kept["flow_log"]["tags"] == {"Team": "platform", "Owner": "sre"}

    untouched = run_module(vpc_flow_log, {k: v for k, v in args.items() if k != "tags"})
    assert untouched["changed"] is False
    assert untouched["flow_log"]["tags"] == {"Team": "platform", "Owner": "sre"}


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_aggregation_interval", 60),
        ("log_format", CUSTOM_FORMAT),
        ("deliver_logs_permission_arn", "role2"),
    ],
)
def test_immutable_change_without_replace_fails(run_module, ec2, env, args, option, value):
    original = run_module(vpc_flow_log, args)["flow_log"]
    value = env[value] if value == "role2" else value

    result = run_module(vpc_flow_log, dict(args, **{option: value}))

    assert result["failed"] is True
    assert f"{option} ({original[option]!r} -> {value!r})" in result["msg"]
    assert "replace=true" in result["msg"]
    assert result["differing_attributes"] == [option]
    [unchanged] = flow_logs(ec2)
    assert unchanged["FlowLogId"] == original["flow_log_id"]


def test_immutable_change_with_replace(run_module, ec2, args):
    original = run_module(vpc_flow_log, args)["flow_log"]
    changed_args = dict(args, max_aggregation_interval=60, replace=True)
    del changed_args["tags"]  # the replacement keeps the old flow log's tags

    checked = run_module(vpc_flow_log, changed_args, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["diff"]["before"]["max_aggregation_interval"] == 600
    assert checked["diff"]["after"]["max_aggregation_interval"] == 60
    assert [fl["FlowLogId"] for fl in flow_logs(ec2)] == [original["flow_log_id"]]

    result = run_module(vpc_flow_log, changed_args)

    assert result["changed"] is True
    new = result["flow_log"]
    assert new["flow_log_id"] != original["flow_log_id"]
    assert new["max_aggregation_interval"] == 60
    assert new["tags"] == {"Environment": "test"}
    [replaced] = flow_logs(ec2)
    assert replaced["FlowLogId"] == new["flow_log_id"]
    assert replaced["MaxAggregationInterval"] == 60
    assert tags_of(replaced) == {"Environment": "test"}
    assert run_module(vpc_flow_log, changed_args)["changed"] is False


def test_absent(run_module, ec2, args):
    created = run_module(vpc_flow_log, args)["flow_log"]
    absent_args = dict(args, state="absent")

    checked = run_module(vpc_flow_log, absent_args, check_mode=True)
    assert checked["changed"] is True
    assert checked["flow_log"]["flow_log_id"] == created["flow_log_id"]
    assert len(flow_logs(ec2)) == 1

    result = run_module(vpc_flow_log, absent_args)
    assert result["changed"] is True
    assert result["flow_log"]["flow_log_id"] == created["flow_log_id"]
    assert flow_logs(ec2) == []

    again = run_module(vpc_flow_log, absent_args)
    assert again["changed"] is False
    assert again["flow_log"] == {}


def test_existing_flow_log_is_addressed_without_the_role(run_module, ec2, args):
    flow_log_id = run_module(vpc_flow_log, args)["flow_log"]["flow_log_id"]
    args = {k: v for k, v in args.items() if k != "deliver_logs_permission_arn"}

    result = run_module(vpc_flow_log, dict(args, tags={"Team": "platform"}))

    assert result["changed"] is True
    assert result["flow_log"]["flow_log_id"] == flow_log_id
    assert tags_of(flow_logs(ec2)[0]) == {"Team": "platform"}


def test_absent_only_matches_its_traffic_type(run_module, ec2, args):
    run_module(vpc_flow_log, args)

    result = run_module(vpc_flow_log, dict(args, traffic_type="ALL", state="absent"))

    assert result["changed"] is False
    assert len(flow_logs(ec2)) == 1


def test_diff(run_module, env, args):
    created = run_module(vpc_flow_log, args, diff=True)
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"] == {
        "resource_id": env["vpc_id"],
        "traffic_type": "REJECT",
        "log_destination_type": "cloud-watch-logs",
        "log_group_name": LOG_GROUP,
        "deliver_logs_permission_arn": env["role"],
        "log_format": created["flow_log"]["log_format"],
        "max_aggregation_interval": 600,
        "tags": {"Environment": "test"},
    }

    retagged = run_module(vpc_flow_log, dict(args, tags={"Team": "platform"}), diff=True)
    assert retagged["diff"]["before"]["tags"] == {"Environment": "test"}
    assert retagged["diff"]["after"]["tags"] == {"Team": "platform"}
    assert {k: v for k, v in retagged["diff"]["before"].items() if k != "tags"} == {
        k: v for k, v in retagged["diff"]["after"].items() if k != "tags"
    }

    deleted = run_module(vpc_flow_log, dict(args, state="absent"), diff=True)
    assert deleted["diff"]["before"]["tags"] == {"Team": "platform"}
    assert deleted["diff"]["after"] == {}

    assert "diff" not in run_module(vpc_flow_log, dict(args, state="absent"))


def test_subnet_flow_log(run_module, ec2, env, args):
    args = dict(args, resource_id=env["subnet_id"], resource_type="Subnet", traffic_type="ALL")

    result = run_module(vpc_flow_log, args)

    assert result["changed"] is True
    assert flow_logs(ec2)[0]["ResourceId"] == env["subnet_id"]
    assert run_module(vpc_flow_log, args)["changed"] is False


def test_s3_destination(run_module, ec2, env):
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="plinth-flow-logs")
    args = {
        "resource_id": env["vpc_id"],
        "traffic_type": "ALL",
        "log_destination_type": "s3",
        "log_destination": "arn:aws:s3:::plinth-flow-logs",
    }

    result = run_module(vpc_flow_log, args)

    assert result["changed"] is True
    assert result["flow_log"]["log_destination"] == "arn:aws:s3:::plinth-flow-logs"
    assert run_module(vpc_flow_log, args)["changed"] is False


def test_create_failure_is_reported(run_module, ec2, env):
    # CreateFlowLogs reports a missing S3 bucket in "Unsuccessful" rather than raising.
    result = run_module(
        vpc_flow_log,
        {
            "resource_id": env["vpc_id"],
            "traffic_type": "ALL",
            "log_destination_type": "s3",
            "log_destination": "arn:aws:s3:::no-such-bucket",
        },
    )

    assert result["failed"] is True
    assert "no-such-bucket" in result["msg"]
    assert flow_logs(ec2) == []


def test_missing_resource_fails(run_module, args):
    result = run_module(vpc_flow_log, dict(args, resource_id="vpc-00000000000000000"))

    assert result["failed"] is True
    assert "Failed to create flow log" in result["msg"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"deliver_logs_permission_arn": None},
            "deliver_logs_permission_arn is required to create",
        ),
        ({"log_destination": "arn:aws:s3:::bucket"}, "mutually exclusive"),
        ({"log_group_name": None}, "one of the following is required"),
        ({"log_destination_type": "s3"}, "log_destination_type is s3"),
    ],
)
def test_argument_validation(run_module, ec2, args, overrides, message):
    args = {k: v for k, v in dict(args, **overrides).items() if v is not None}

    result = run_module(vpc_flow_log, args)

    assert result["failed"] is True
    assert message in result["msg"]
    assert flow_logs(ec2) == []
