"""Unit tests for plinth.platform.vpc_route_tables, run against moto's in-process mock_aws."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import vpc_route_tables

REGION = "us-east-1"


@pytest.fixture
def ec2(aws_moto):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def env(ec2) -> dict[str, Any]:
    """A VPC with an attached internet gateway and three subnets."""
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.0.{n}.0/24")["Subnet"]["SubnetId"]
        for n in (1, 2, 3)
    ]
    return {"vpc_id": vpc_id, "igw": igw, "subnets": subnets}


@pytest.fixture
def args(env) -> dict[str, Any]:
    return {
        "vpc_id": env["vpc_id"],
        "tags": {"plinth:stack": "demo"},
        "route_tables": [
            {
                "name": "demo-public",
                "subnets": env["subnets"][:2],
                "routes": [{"dest": "0.0.0.0/0", "gateway_id": env["igw"]}],
            },
            {"name": "demo-database", "subnets": env["subnets"][2:], "tags": {"tier": "db"}},
        ],
    }


def tables(ec2, vpc_id: str) -> dict[str, dict[str, Any]]:
    found = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    out = {}
    for table in found["RouteTables"]:
        tags = {t["Key"]: t["Value"] for t in table.get("Tags", [])}
        if "Name" in tags:
            out[tags["Name"]] = {
                "id": table["RouteTableId"],
                "tags": tags,
                "subnets": sorted(
                    a["SubnetId"] for a in table["Associations"] if a.get("SubnetId")
                ),
                "routes": {
                    r["DestinationCidrBlock"]: r.get("GatewayId") or r.get("NatGatewayId")
                    for r in table["Routes"]
                    if r.get("Origin") == "CreateRoute"
                },
            }
    return out


def test_create_then_rerun_is_noop(run_module, ec2, env, args):
    result = run_module(vpc_route_tables, args, diff=True)
    assert result["changed"]
    found = tables(ec2, env["vpc_id"])
    assert found["demo-public"]["subnets"] == sorted(env["subnets"][:2])
    assert found["demo-public"]["routes"] == {"0.0.0.0/0": env["igw"]}
    assert found["demo-database"]["routes"] == {}
    assert found["demo-database"]["tags"] == {
        "Name": "demo-database",
        "plinth:stack": "demo",
        "tier": "db",
    }
    assert result["route_table_ids"] == {name: t["id"] for name, t in found.items()}
    assert set(result["diff"]["after"]) == {"demo-public", "demo-database"}

    again = run_module(vpc_route_tables, args, diff=True)
    assert not again["changed"], again["diff"]
    assert again["route_table_ids"] == result["route_table_ids"]
    assert again["route_tables"][0]["routes"] == [{"dest": "0.0.0.0/0", "gateway_id": env["igw"]}]


def test_check_mode_creates_nothing_and_reports(run_module, ec2, env, args):
    result = run_module(vpc_route_tables, args, check_mode=True, diff=True)
    assert result["changed"]
    assert result["route_table_ids"] == {"demo-public": None, "demo-database": None}
    assert set(result["diff"]["after"]) == {"demo-public", "demo-database"}
    assert tables(ec2, env["vpc_id"]) == {}


def test_moves_subnets_replaces_and_purges_routes(run_module, ec2, env, args):
    run_module(vpc_route_tables, args)
    public_id = tables(ec2, env["vpc_id"])["demo-public"]["id"]
    ec2.create_route(
        RouteTableId=public_id, DestinationCidrBlock="192.168.0.0/16", GatewayId=env["igw"]
    )
    # Subnet 2 moves from the public table to the database table.
    args["route_tables"][0]["subnets"] = env["subnets"][:1]
    args["route_tables"][1]["subnets"] = env["subnets"][1:]

    check = run_module(vpc_route_tables, args, check_mode=True, diff=True)
    assert check["changed"]
    assert check["diff"]["before"]["demo-public"]["subnets"] == sorted(env["subnets"][:2])
    assert tables(ec2, env["vpc_id"])["demo-public"]["subnets"] == sorted(env["subnets"][:2])

    result = run_module(vpc_route_tables, args)
    assert result["changed"]
    found = tables(ec2, env["vpc_id"])
    assert found["demo-public"]["subnets"] == env["subnets"][:1]
    assert found["demo-database"]["subnets"] == sorted(env["subnets"][1:])
    assert found["demo-public"]["routes"] == {"0.0.0.0/0": env["igw"]}
    assert not run_module(vpc_route_tables, args)["changed"]


def test_without_purge_keeps_extra_routes_and_subnets(run_module, ec2, env, args):
    run_module(vpc_route_tables, args)
    args["route_tables"][0]["subnets"] = env["subnets"][:1]
    args["route_tables"][0]["routes"] = []
    result = run_module(vpc_route_tables, dict(args, purge_routes=False, purge_subnets=False))
    assert not result["changed"]
    found = tables(ec2, env["vpc_id"])["demo-public"]
    assert found["subnets"] == sorted(env["subnets"][:2])
    assert found["routes"] == {"0.0.0.0/0": env["igw"]}


def test_absent_disassociates_and_deletes(run_module, ec2, env, args):
    run_module(vpc_route_tables, args)
    absent = {"vpc_id": env["vpc_id"], "route_tables": [{"name": "demo-public"}], "state": "absent"}
    assert run_module(vpc_route_tables, absent, check_mode=True)["changed"]
    assert "demo-public" in tables(ec2, env["vpc_id"])
    assert run_module(vpc_route_tables, absent)["changed"]
    assert set(tables(ec2, env["vpc_id"])) == {"demo-database"}
    assert not run_module(vpc_route_tables, absent)["changed"]


def test_refuses_ambiguous_names_and_duplicate_subnets(run_module, ec2, env, args):
    for _n in range(2):
        ec2.create_route_table(
            VpcId=env["vpc_id"],
            TagSpecifications=[
                {"ResourceType": "route-table", "Tags": [{"Key": "Name", "Value": "demo-public"}]}
            ],
        )
    result = run_module(vpc_route_tables, args)
    assert result["failed"] and "More than one route table" in result["msg"]
    args["route_tables"][1]["subnets"] = env["subnets"][:1]
    result = run_module(vpc_route_tables, args)
    assert result["failed"] and env["subnets"][0] in result["msg"]
