"""Unit tests for plinth.platform.vpc_nat_gateways, run against moto's in-process mock_aws."""

from __future__ import annotations

import threading
from typing import Any

import boto3
import botocore.client
import pytest
from ansible_collections.plinth.platform.plugins.modules import vpc_nat_gateways

REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture
def ec2(aws_moto):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def args(moto_vpc) -> dict[str, Any]:
    a, b = moto_vpc["subnets"]
    return {
        "tags": {"plinth:stack": "demo", "Environment": "test"},
        "eip_tags": {"plinth:role": "nat"},
        "nat_gateways": [
            {"name": "demo-nat-a", "subnet_id": a},
            {"name": "demo-nat-b", "subnet_id": b},
        ],
    }


def tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def live_nats(ec2) -> list[dict[str, Any]]:
    nats = ec2.describe_nat_gateways()["NatGateways"]
    return [n for n in nats if n["State"] in ("pending", "available")]


def addresses(ec2) -> list[dict[str, Any]]:
    return ec2.describe_addresses()["Addresses"]


def moto_nat(nat_id: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[ACCOUNT][REGION].nat_gateways[nat_id]


def test_create_then_rerun_makes_no_write(run_module, ec2, args, api_calls):
    result = run_module(vpc_nat_gateways, args, diff=True)
    assert result["changed"]
    nats = {tags(n)["Name"]: n for n in live_nats(ec2)}
    assert set(nats) == {"demo-nat-a", "demo-nat-b"}
    eips = {tags(a)["Name"]: a for a in addresses(ec2)}
    assert set(eips) == {"demo-nat-a", "demo-nat-b"}
    assert tags(eips["demo-nat-a"]) == {
        "Name": "demo-nat-a",
        "plinth:stack": "demo",
        "Environment": "test",
        "plinth:role": "nat",
    }
    assert tags(nats["demo-nat-a"]) == {
        "Name": "demo-nat-a",
        "plinth:stack": "demo",
        "Environment": "test",
    }
    for name, nat in nats.items():
        assert nat["NatGatewayAddresses"][0]["AllocationId"] == eips[name]["AllocationId"]
        assert result["nat_gateway_ids"][name] == nat["NatGatewayId"]
        assert result["allocation_ids"][name] == eips[name]["AllocationId"]
    assert [n["state"] for n in result["nat_gateways"]] == ["available", "available"]
    assert set(result["diff"]["after"]) == {"demo-nat-a", "demo-nat-b"}

    calls = api_calls("ec2")
    again = run_module(vpc_nat_gateways, args, diff=True)
    assert not again["changed"]
    assert again["nat_gateway_ids"] == result["nat_gateway_ids"]
    assert again["allocation_ids"] == result["allocation_ids"]
    assert again["diff"] == {"before": {}, "after": {}}
    assert sorted(calls) == ["DescribeAddresses", "DescribeNatGateways"]
    assert len(addresses(ec2)) == 2


def test_check_mode_creates_nothing(run_module, ec2, args):
    result = run_module(vpc_nat_gateways, args, check_mode=True)
    assert result["changed"]
    assert result["nat_gateway_ids"] == {"demo-nat-a": None, "demo-nat-b": None}
    assert live_nats(ec2) == [] and addresses(ec2) == []


def test_uses_the_named_address_instead_of_allocating(run_module, ec2, args):
    named = ec2.allocate_address(
        Domain="vpc",
        TagSpecifications=[
            {"ResourceType": "elastic-ip", "Tags": [{"Key": "Name", "Value": "demo-nat-a"}]}
        ],
    )["AllocationId"]
    result = run_module(vpc_nat_gateways, args)
    assert result["allocation_ids"]["demo-nat-a"] == named
    assert len(addresses(ec2)) == 2
    (eip,) = [a for a in addresses(ec2) if a["AllocationId"] == named]
    assert tags(eip)["plinth:role"] == "nat"


def test_updates_tags_without_a_new_address(run_module, ec2, args):
    first = run_module(vpc_nat_gateways, args)
    args["tags"] = {"plinth:stack": "demo", "Environment": "prod"}
    args["nat_gateways"][0]["tags"] = {"Owner": "ops"}

    check = run_module(vpc_nat_gateways, args, check_mode=True, diff=True)
    assert check["changed"]
    assert check["diff"]["after"]["demo-nat-a"]["tags"]["Owner"] == "ops"
    assert all(tags(n)["Environment"] == "test" for n in live_nats(ec2))

    result = run_module(vpc_nat_gateways, args)
    assert result["changed"]
    assert result["nat_gateway_ids"] == first["nat_gateway_ids"]
    assert result["allocation_ids"] == first["allocation_ids"]
    nats = {tags(n)["Name"]: tags(n) for n in live_nats(ec2)}
    assert nats["demo-nat-a"] == {
        "Name": "demo-nat-a",
        "plinth:stack": "demo",
        "Environment": "prod",
        "Owner": "ops",
    }
    assert nats["demo-nat-b"]["Environment"] == "prod"
    eips = {tags(a)["Name"]: tags(a) for a in addresses(ec2)}
    assert len(eips) == 2 and eips["demo-nat-a"]["Owner"] == "ops"
    assert eips["demo-nat-b"]["Environment"] == "prod"
    assert not run_module(vpc_nat_gateways, args)["changed"]


@pytest.mark.parametrize("state", ["failed", "deleted"])
def test_replaces_a_failed_or_deleted_gateway_with_the_same_address(run_module, ec2, args, state):
    first = run_module(vpc_nat_gateways, args)
    old = first["nat_gateway_ids"]["demo-nat-a"]
    moto_nat(old).state = state
    # AWS releases the address of a failed or deleted gateway; moto needs to be told.
    (eip,) = ec2.describe_addresses(AllocationIds=[first["allocation_ids"]["demo-nat-a"]])[
        "Addresses"
    ]
    if eip.get("AssociationId"):
        ec2.disassociate_address(AssociationId=eip["AssociationId"])
    result = run_module(vpc_nat_gateways, args)
    assert result["changed"]
    new = result["nat_gateway_ids"]["demo-nat-a"]
    assert new != old
    assert result["nat_gateway_ids"]["demo-nat-b"] == first["nat_gateway_ids"]["demo-nat-b"]
    assert result["allocation_ids"] == first["allocation_ids"]
    assert len(addresses(ec2)) == 2
    assert len(live_nats(ec2)) == 2


def test_adopts_the_address_of_an_existing_gateway(run_module, ec2, args):
    first = run_module(vpc_nat_gateways, args)
    allocation = first["allocation_ids"]["demo-nat-a"]
    ec2.delete_tags(Resources=[allocation], Tags=[{"Key": "Name"}])
    result = run_module(vpc_nat_gateways, args)
    assert result["changed"]
    assert result["allocation_ids"]["demo-nat-a"] == allocation
    assert len(addresses(ec2)) == 2
    (eip,) = [a for a in addresses(ec2) if a["AllocationId"] == allocation]
    assert tags(eip)["Name"] == "demo-nat-a"


def test_waits_for_pending_gateways_together(run_module, ec2, args, monkeypatch):
    first = run_module(vpc_nat_gateways, args)
    nat_ids = list(first["nat_gateway_ids"].values())
    for nat_id in nat_ids:
        moto_nat(nat_id).state = "pending"
    monkeypatch.setattr(vpc_nat_gateways, "WAIT_DELAY", 0.1)

    def become_available() -> None:
        for nat_id in nat_ids:
            moto_nat(nat_id).state = "available"

    timer = threading.Timer(0.5, become_available)
    timer.start()
    try:
        result = run_module(vpc_nat_gateways, args)
    finally:
        timer.cancel()
    assert not result["changed"]
    assert [n["state"] for n in result["nat_gateways"]] == ["available", "available"]


def test_a_gateway_that_fails_while_waited_for_fails_the_run(run_module, args, monkeypatch):
    first = run_module(vpc_nat_gateways, args)
    nat_id = first["nat_gateway_ids"]["demo-nat-a"]
    moto_nat(nat_id).state = "pending"
    monkeypatch.setattr(vpc_nat_gateways, "WAIT_DELAY", 0.1)
    original = botocore.client.BaseClient._make_api_call

    def fail_once_seen(self: Any, operation: str, params: dict[str, Any]) -> Any:
        response = original(self, operation, params)
        if operation == "DescribeNatGateways":
            moto_nat(nat_id).state = "failed"  # after the module's own describe saw it pending
        return response

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", fail_once_seen)
    result = run_module(vpc_nat_gateways, args)
    assert result["failed"] and nat_id in result["msg"]


@pytest.mark.parametrize(
    "bad, message",
    [
        ([{"name": "x", "subnet_id": "subnet-1"}] * 2, "name listed more than once"),
        (
            [{"name": "x", "subnet_id": "subnet-1"}, {"name": "y", "subnet_id": "subnet-1"}],
            "subnet_id listed more than once",
        ),
        ([{"name": "", "subnet_id": "subnet-1"}], "must not be empty"),
    ],
)
def test_refuses_bad_input_before_any_call(run_module, aws_moto, api_calls, bad, message):
    calls = api_calls("ec2")
    result = run_module(vpc_nat_gateways, {"nat_gateways": bad})
    assert result["failed"] and message in result["msg"]
    assert calls == []
