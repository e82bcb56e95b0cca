"""Unit tests for plinth.platform.vpc, run against moto's in-process mock_aws."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import vpc

REGION = "us-east-1"
WRITES = ("Create", "Modify", "Attach", "Delete")


@pytest.fixture
def ec2(aws_moto):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def args() -> dict[str, Any]:
    return {
        "name": "demo",
        "cidr_block": "10.20.0.0/16",
        "internet_gateway": True,
        "tags": {"plinth:stack": "demo", "Environment": "test"},
    }


def tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def vpcs(ec2) -> list[dict[str, Any]]:
    return ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["demo"]}])["Vpcs"]


def attribute(ec2, vpc_id: str, name: str) -> bool:
    key = name[0].upper() + name[1:]
    return ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)[key]["Value"]


def igws(ec2, vpc_id: str) -> list[dict[str, Any]]:
    filters = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    return ec2.describe_internet_gateways(Filters=filters)["InternetGateways"]


def test_create_then_rerun_makes_no_write(run_module, ec2, args, api_calls):
    result = run_module(vpc, args, diff=True)
    assert result["changed"]
    (found,) = vpcs(ec2)
    vpc_id = found["VpcId"]
    assert result["vpc_id"] == result["vpc"]["id"] == vpc_id
    assert result["cidr_block"] == "10.20.0.0/16"
    assert tags(found) == {"Name": "demo", "plinth:stack": "demo", "Environment": "test"}
    assert attribute(ec2, vpc_id, "enableDnsSupport")
    assert attribute(ec2, vpc_id, "enableDnsHostnames")
    (igw,) = igws(ec2, vpc_id)
    assert result["internet_gateway_id"] == igw["InternetGatewayId"]
    assert tags(igw) == tags(found)
    assert result["diff"]["before"] == {}
    assert set(result["diff"]["after"]) == {"vpc", "internet_gateway"}

    calls = api_calls("ec2")
    again = run_module(vpc, args, diff=True)
    assert not again["changed"]
    assert again["vpc_id"] == vpc_id
    assert again["internet_gateway_id"] == igw["InternetGatewayId"]
    assert again["diff"] == {"before": {}, "after": {}}
    assert sorted(calls) == [
        "DescribeInternetGateways",
        "DescribeVpcAttribute",
        "DescribeVpcAttribute",
        "DescribeVpcs",
    ]


def test_adopts_a_vpc_made_by_ec2_vpc_net(run_module, ec2, args):
    made = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[made], Tags=[{"Key": "Name", "Value": "demo"}])
    # Same name, other CIDR block: another VPC, left alone.
    ec2.create_vpc(
        CidrBlock="10.30.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "demo"}]}],
    )
    result = run_module(vpc, args)
    assert result["vpc_id"] == made
    assert len(vpcs(ec2)) == 2
    assert tags(ec2.describe_vpcs(VpcIds=[made])["Vpcs"][0])["plinth:stack"] == "demo"


def test_check_mode_creates_nothing(run_module, ec2, args):
    result = run_module(vpc, args, check_mode=True)
    assert result["changed"]
    assert result["vpc_id"] is None and result["internet_gateway_id"] is None
    assert result["vpc"]["tags"]["Name"] == "demo"
    assert vpcs(ec2) == []
    assert ec2.describe_internet_gateways()["InternetGateways"] == []


def test_updates_tags_and_attributes(run_module, ec2, args):
    vpc_id = run_module(vpc, args)["vpc_id"]
    igw_id = igws(ec2, vpc_id)[0]["InternetGatewayId"]
    ec2.create_tags(Resources=[vpc_id, igw_id], Tags=[{"Key": "stray", "Value": "x"}])
    args.update(dns_hostnames=False, tags={"plinth:stack": "demo", "Environment": "prod"})

    check = run_module(vpc, args, check_mode=True, diff=True)
    assert check["changed"]
    assert check["diff"]["after"]["vpc"]["dns_hostnames"] is False
    assert check["diff"]["after"]["vpc"]["tags"]["Environment"] == "prod"
    assert "stray" not in check["diff"]["after"]["internet_gateway"]["tags"]
    assert attribute(ec2, vpc_id, "enableDnsHostnames")

    result = run_module(vpc, args)
    assert result["changed"] and result["vpc_id"] == vpc_id
    assert not attribute(ec2, vpc_id, "enableDnsHostnames")
    (found,) = vpcs(ec2)
    assert tags(found) == {"Name": "demo", "plinth:stack": "demo", "Environment": "prod"}
    (igw,) = igws(ec2, vpc_id)
    assert igw["InternetGatewayId"] == igw_id and "stray" not in tags(igw)
    assert not run_module(vpc, args)["changed"]


def test_attaches_a_gateway_to_an_existing_vpc(run_module, ec2, args):
    vpc_id = run_module(vpc, dict(args, internet_gateway=False))["vpc_id"]
    assert igws(ec2, vpc_id) == []
    result = run_module(vpc, dict(args, internet_gateway_tags={"Name": "gw"}))
    assert result["changed"]
    (igw,) = igws(ec2, vpc_id)
    assert tags(igw) == {"Name": "gw"}


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"cidr_block": "10.20.0.0"}, "cidr_block"),
        ({"cidr_block": "10.20.0.1/16"}, "cidr_block"),
        ({"cidr_block": "10.0.0.0/8"}, "/16 to /28"),
        ({"dns_support": False}, "dns_hostnames needs dns_support"),
        ({"name": ""}, "name must not be empty"),
    ],
)
def test_refuses_bad_input_before_any_call(run_module, args, api_calls, bad, message):
    calls = api_calls("ec2")
    result = run_module(vpc, dict(args, **bad))
    assert result["failed"] and message in result["msg"]
    assert calls == []
