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
                    if r.get("Origin") == "CreateRoute" and r.get("DestinationCidrBlock")
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


S3 = "com.amazonaws.us-east-1.s3"


def endpoints(ec2, vpc_id: str) -> list[dict[str, Any]]:
    found = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    return [e for e in found["VpcEndpoints"] if e["State"].lower() in ("pending", "available")]


@pytest.fixture
def with_endpoint(args) -> dict[str, Any]:
    endpoint = {"service": S3, "route_tables": ["demo-database"], "tags": {"Name": "demo-s3"}}
    return dict(args, gateway_endpoints=[endpoint])


def test_gateway_endpoint_created_then_rerun_is_one_more_describe(
    run_module, ec2, env, with_endpoint, api_calls
):
    result = run_module(vpc_route_tables, with_endpoint)
    assert result["changed"]
    (endpoint,) = endpoints(ec2, env["vpc_id"])
    found = tables(ec2, env["vpc_id"])
    assert endpoint["ServiceName"] == S3 and endpoint["VpcEndpointType"] == "Gateway"
    assert endpoint["RouteTableIds"] == [found["demo-database"]["id"]]
    assert {t["Key"]: t["Value"] for t in endpoint["Tags"]} == {
        "plinth:stack": "demo",
        "Name": "demo-s3",
    }
    assert result["gateway_endpoint_ids"] == {S3: endpoint["VpcEndpointId"]}

    calls = api_calls("ec2")
    again = run_module(vpc_route_tables, with_endpoint, diff=True)
    assert not again["changed"], again["diff"]
    assert again["gateway_endpoint_ids"] == result["gateway_endpoint_ids"]
    assert sorted(calls) == ["DescribeRouteTables", "DescribeVpcEndpoints"]


def test_gateway_endpoint_check_mode_creates_nothing(run_module, ec2, env, with_endpoint):
    result = run_module(vpc_route_tables, with_endpoint, check_mode=True, diff=True)
    assert result["changed"]
    assert result["gateway_endpoint_ids"] == {S3: None}
    assert f"endpoint:{S3}" in result["diff"]["after"]
    assert endpoints(ec2, env["vpc_id"]) == []


def test_gateway_endpoint_follows_its_tables_in_place(run_module, ec2, env, with_endpoint):
    first = run_module(vpc_route_tables, with_endpoint)
    endpoint_id = first["gateway_endpoint_ids"][S3]
    with_endpoint["gateway_endpoints"][0].update(
        route_tables=["demo-public"], tags={"Name": "demo-s3", "Owner": "ops"}
    )
    check = run_module(vpc_route_tables, with_endpoint, check_mode=True, diff=True)
    assert check["changed"]
    assert check["diff"]["after"][f"endpoint:{S3}"]["tags"]["Owner"] == "ops"

    result = run_module(vpc_route_tables, with_endpoint)
    assert result["changed"]
    (endpoint,) = endpoints(ec2, env["vpc_id"])
    assert endpoint["VpcEndpointId"] == endpoint_id, "the endpoint is modified, not duplicated"
    assert endpoint["RouteTableIds"] == [tables(ec2, env["vpc_id"])["demo-public"]["id"]]
    assert {t["Key"]: t["Value"] for t in endpoint["Tags"]}["Owner"] == "ops"
    assert not run_module(vpc_route_tables, with_endpoint)["changed"]


@pytest.mark.parametrize(
    "endpoints_arg, extra, message",
    [
        ([{"service": S3, "route_tables": ["nope"]}], {}, "not in route_tables"),
        ([{"service": S3}, {"service": S3}], {}, "services listed more than once"),
        ([{"service": S3}], {"state": "absent"}, "only with state=present"),
    ],
)
def test_gateway_endpoint_bad_input_refused_before_any_call(
    run_module, args, api_calls, endpoints_arg, extra, message
):
    calls = api_calls("ec2")
    result = run_module(vpc_route_tables, dict(args, gateway_endpoints=endpoints_arg, **extra))
    assert result["failed"] and message in result["msg"]
    assert calls == []
