"""The request recorder lets a test prove that no AWS write call was made."""

from __future__ import annotations

from typing import Any


def test_only_describes_record_no_write(aws: Any) -> None:
    aws.client("ec2").describe_vpcs()
    aws.client("rds").describe_db_instances()
    aws.client("eks").list_clusters()
    aws.client("sts").get_caller_identity()
    recorded = aws.recorded_requests()
    assert [r.operation for r in recorded] == [
        "DescribeVpcs",
        "DescribeDBInstances",
        "GET /clusters",
        "GetCallerIdentity",
    ]
    assert aws.write_calls() == []


def test_write_call_is_seen(aws: Any) -> None:
    ec2 = aws.client("ec2")
    ec2.describe_vpcs()
    ec2.create_vpc(CidrBlock="10.0.0.0/16")
    aws.client("eks").create_cluster(
        name="c",
        roleArn="arn:aws:iam::123456789012:role/r",
        resourcesVpcConfig={"subnetIds": []},
    )
    writes = aws.write_calls()
    assert [(w.service, w.region, w.operation) for w in writes] == [
        ("ec2", "us-east-1", "CreateVpc"),
        ("eks", "us-east-1", "POST /clusters"),
    ]


def test_reset_clears_the_recording(aws: Any) -> None:
    aws.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")
    assert aws.write_calls()
    aws.reset()
    assert aws.recorded_requests() == []
