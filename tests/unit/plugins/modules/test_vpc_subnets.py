"""Unit tests for plinth.platform.vpc_subnets, run against moto's in-process mock_aws."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import vpc_subnets

REGION = "us-east-1"


@pytest.fixture
def ec2(aws_moto):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def vpc_id(ec2) -> str:
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def args(vpc_id) -> dict[str, Any]:
    return {
        "vpc_id": vpc_id,
        "tags": {"plinth:stack": "demo", "Environment": "test"},
        "subnets": [
            {"cidr": "10.0.1.0/24", "az": "us-east-1a", "map_public": True, "tags": {"Name": "a"}},
            {"cidr": "10.0.2.0/24", "az": "us-east-1b", "tags": {"Name": "b"}},
        ],
    }


def subnets(ec2, vpc_id: str) -> dict[str, dict[str, Any]]:
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return {
        s["CidrBlock"]: dict(s, Tags={t["Key"]: t["Value"] for t in s.get("Tags", [])})
        for s in found
    }


def test_create_then_rerun_is_noop(run_module, ec2, vpc_id, args):
    result = run_module(vpc_subnets, args, diff=True)
    assert result["changed"]
    found = subnets(ec2, vpc_id)
    assert set(found) == {"10.0.1.0/24", "10.0.2.0/24"}
    assert found["10.0.1.0/24"]["MapPublicIpOnLaunch"] is True
    assert found["10.0.2.0/24"]["MapPublicIpOnLaunch"] is False
    assert found["10.0.1.0/24"]["Tags"] == {
        "plinth:stack": "demo",
        "Environment": "test",
        "Name": "a",
    }
    assert result["subnet_ids"] == {c: found[c]["SubnetId"] for c in found}
    assert [s["availability_zone"] for s in result["subnets"]] == ["us-east-1a", "us-east-1b"]
    assert set(result["diff"]["after"]) == {"10.0.1.0/24", "10.0.2.0/24"}
    assert result["diff"]["before"] == {}

    again = run_module(vpc_subnets, args, diff=True)
    assert not again["changed"]
    assert again["subnet_ids"] == result["subnet_ids"]
    assert again["diff"] == {"before": {}, "after": {}}


def test_check_mode_creates_nothing_and_reports(run_module, ec2, vpc_id, args):
    result = run_module(vpc_subnets, args, check_mode=True)
    assert result["changed"]
    assert result["subnet_ids"] == {"10.0.1.0/24": None, "10.0.2.0/24": None}
    assert subnets(ec2, vpc_id) == {}


def test_updates_only_what_differs(run_module, ec2, vpc_id, args):
    run_module(vpc_subnets, args)
    subnet_id = subnets(ec2, vpc_id)["10.0.2.0/24"]["SubnetId"]
    ec2.create_tags(Resources=[subnet_id], Tags=[{"Key": "stray", "Value": "x"}])
    args["subnets"][0]["map_public"] = False

    check = run_module(vpc_subnets, args, check_mode=True, diff=True)
    assert check["changed"]
    assert set(check["diff"]["before"]) == {"10.0.1.0/24", "10.0.2.0/24"}
    assert check["diff"]["after"]["10.0.1.0/24"]["map_public_ip_on_launch"] is False
    assert "stray" not in check["diff"]["after"]["10.0.2.0/24"]["tags"]
    assert subnets(ec2, vpc_id)["10.0.1.0/24"]["MapPublicIpOnLaunch"] is True

    result = run_module(vpc_subnets, args)
    assert result["changed"]
    found = subnets(ec2, vpc_id)
    assert found["10.0.1.0/24"]["MapPublicIpOnLaunch"] is False
    assert "stray" not in found["10.0.2.0/24"]["Tags"]
    assert found["10.0.2.0/24"]["SubnetId"] == subnet_id


def test_keeps_unrequested_tags_without_purge(run_module, ec2, vpc_id, args):
    run_module(vpc_subnets, args)
    subnet_id = subnets(ec2, vpc_id)["10.0.2.0/24"]["SubnetId"]
    ec2.create_tags(Resources=[subnet_id], Tags=[{"Key": "stray", "Value": "x"}])
    result = run_module(vpc_subnets, dict(args, purge_tags=False))
    assert not result["changed"]
    assert subnets(ec2, vpc_id)["10.0.2.0/24"]["Tags"]["stray"] == "x"


def test_az_of_existing_subnet_cannot_change(run_module, args):
    run_module(vpc_subnets, args)
    args["subnets"][1]["az"] = "us-east-1c"
    result = run_module(vpc_subnets, args)
    assert result["failed"]
    assert "10.0.2.0/24" in result["msg"] and "us-east-1c" in result["msg"]


def test_purge_deletes_only_matching_unlisted_subnets(run_module, ec2, vpc_id, args):
    run_module(vpc_subnets, args)
    foreign = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.9.0/24")["Subnet"]["SubnetId"]
    args["subnets"] = args["subnets"][:1]
    args.update(purge_subnets=True, purge_match_tags={"plinth:stack": "demo"})

    check = run_module(vpc_subnets, args, check_mode=True)
    assert check["changed"] and len(check["purged_subnets"]) == 1
    assert "10.0.2.0/24" in subnets(ec2, vpc_id)

    result = run_module(vpc_subnets, args)
    assert result["changed"]
    assert set(subnets(ec2, vpc_id)) == {"10.0.1.0/24", "10.0.9.0/24"}
    assert foreign not in result["purged_subnets"]


def test_absent_deletes_listed_subnets(run_module, ec2, vpc_id, args):
    run_module(vpc_subnets, args)
    absent = {"vpc_id": vpc_id, "subnets": [{"cidr": "10.0.2.0/24"}], "state": "absent"}
    result = run_module(vpc_subnets, absent)
    assert result["changed"]
    assert set(subnets(ec2, vpc_id)) == {"10.0.1.0/24"}
    assert not run_module(vpc_subnets, absent)["changed"]


def test_refuses_duplicate_cidrs_and_missing_az(run_module, vpc_id):
    duplicate = {"vpc_id": vpc_id, "subnets": [{"cidr": "10.0.1.0/24", "az": "us-east-1a"}] * 2}
    assert "10.0.1.0/24" in run_module(vpc_subnets, duplicate)["msg"]
    missing_az = {"vpc_id": vpc_id, "subnets": [{"cidr": "10.0.1.0/24"}]}
    result = run_module(vpc_subnets, missing_az)
    assert result["failed"] and "az is required" in result["msg"]
