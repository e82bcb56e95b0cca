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


def test_rest_read_sent_as_post_is_no_write(aws: Any) -> None:
    route53 = aws.client("route53")
    config = {"Type": "TCP", "FullyQualifiedDomainName": "db.example.com", "Port": 5432}
    check = route53.create_health_check(CallerReference="c", HealthCheckConfig=config)
    aws.clear_recording()
    # ListTagsForResources is POST /2013-04-01/tags/healthcheck: a read all the same.
    route53.list_tags_for_resources(
        ResourceType="healthcheck", ResourceIds=[check["HealthCheck"]["Id"]]
    )
    assert [r.operation for r in aws.recorded_requests()] == ["POST /2013-04-01/tags/healthcheck"]
    assert aws.write_calls() == []
    route53.change_tags_for_resource(
        ResourceType="healthcheck",
        ResourceId=check["HealthCheck"]["Id"],
        AddTags=[{"Key": "Name", "Value": "x"}],
    )
    assert [w.operation for w in aws.write_calls()] == [
        f"POST /2013-04-01/tags/healthcheck/{check['HealthCheck']['Id']}"
    ]


def test_reset_clears_the_recording(aws: Any) -> None:
    aws.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")
    assert aws.write_calls()
    aws.reset()
    assert aws.recorded_requests() == []
