"""The network layer end to end against the embedded AWS: check mode, apply, rerun, teardown,
bad configs refused before any call, and NAT gateways under the realistic-latency profile."""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import run_playbook

ROOT = Path(__file__).resolve().parents[2]
LOCAL = yaml.safe_load((ROOT / "inventories/local/group_vars/all/platform.yml").read_text())[
    "platform"
]
PREFIX = f"{LOCAL['name']}-{LOCAL['environment']}"
STACK = [{"Name": "tag:plinth:stack", "Values": [PREFIX]}]


def _unit_config_cases() -> Any:
    """The unit tests' valid config, bad-config cases and patch helper: one source of truth."""
    path = ROOT / "tests/unit/plugins/module_utils/test_config.py"
    spec = importlib.util.spec_from_file_location("plinth_test_config_cases", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = _unit_config_cases()


def _dr_network_state(aws: Any) -> dict[str, Any]:
    ec2 = aws.client("ec2", LOCAL["dr_region"])
    stack = [{"Name": "tag:plinth:stack", "Values": [f"{PREFIX}-dr"]}]
    vpc_ids = [v["VpcId"] for v in ec2.describe_vpcs(Filters=stack)["Vpcs"]]
    return {
        "vpcs": ec2.describe_vpcs(Filters=stack)["Vpcs"],
        "subnets": ec2.describe_subnets(Filters=stack)["Subnets"],
        "sgs": ec2.describe_security_groups(Filters=stack)["SecurityGroups"],
        "nats": [
            n
            for n in ec2.describe_nat_gateways()["NatGateways"]
            if n["VpcId"] in vpc_ids and n["State"] != "deleted"
        ],
        "eips": ec2.describe_addresses(Filters=stack)["Addresses"],
        "flow_logs": (
            ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": vpc_ids}])["FlowLogs"]
            if vpc_ids
            else []
        ),
    }


def _network_state(aws: Any) -> dict[str, Any]:
    ec2 = aws.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=STACK)["Vpcs"]
    vpc_ids = [v["VpcId"] for v in vpcs]
    in_vpc = [{"Name": "vpc-id", "Values": vpc_ids}] if vpc_ids else None
    nats = ec2.describe_nat_gateways(Filters=in_vpc)["NatGateways"] if in_vpc else []
    return {
        "vpcs": vpcs,
        "subnets": ec2.describe_subnets(Filters=in_vpc)["Subnets"] if in_vpc else [],
        "nats": [n for n in nats if n["State"] not in ("deleted", "deleting")],
        "eips": ec2.describe_addresses(Filters=STACK)["Addresses"],
        "sgs": ec2.describe_security_groups(Filters=STACK)["SecurityGroups"],
        "route_tables": ec2.describe_route_tables(Filters=in_vpc)["RouteTables"] if in_vpc else [],
        "endpoints": ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"] if in_vpc else [],
        "flow_logs": (
            ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": vpc_ids}])["FlowLogs"]
            if vpc_ids
            else []
        ),
    }


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_check_apply_rerun_teardown(aws: Any) -> None:
    check = run_playbook("network.yml", endpoint_port=aws.port, check=True)
    assert check.rc == 0, check.failure_messages() or check.stderr
    assert check.changed > 0, "check mode on an empty account must report what it would create"
    assert "Ensure the VPC" in " ".join(check.changed_tasks())
    assert aws.write_calls() == [], "check mode must not write"
    assert _network_state(aws)["vpcs"] == []

    apply = run_playbook("network.yml", endpoint_port=aws.port)
    assert apply.rc == 0, apply.failure_messages() or apply.stderr
    state = _network_state(aws)

    (vpc,) = state["vpcs"]
    assert vpc["CidrBlock"] == LOCAL["network"]["cidr"]
    tags = _tags(vpc)
    assert tags["Name"] == PREFIX and tags["ManagedBy"] == "plinth"
    assert tags["Environment"] == LOCAL["environment"] and tags["Project"] == "plinth-local"

    tiers: dict[str, list[tuple[str, str]]] = {}
    for subnet in state["subnets"]:
        tiers.setdefault(_tags(subnet)["plinth:tier"], []).append(
            (subnet["AvailabilityZone"], subnet["CidrBlock"])
        )
    assert sorted(tiers) == ["database", "private", "public"]
    for tier in tiers.values():
        assert sorted(az for az, _ in tier) == LOCAL["availability_zones"]
    public = [s for s in state["subnets"] if _tags(s)["plinth:tier"] == "public"]
    assert all(s["MapPublicIpOnLaunch"] for s in public)
    assert all(_tags(s)["kubernetes.io/role/elb"] == "1" for s in public)

    # nat: single -> one gateway and one tagged address
    assert len(state["nats"]) == 1 and len(state["eips"]) == 1
    assert (
        state["nats"][0]["NatGatewayAddresses"][0]["AllocationId"]
        == state["eips"][0]["AllocationId"]
    )

    sgs = {_tags(g)["plinth:role"]: g for g in state["sgs"]}
    assert sorted(sgs) == ["alb", "cache", "database", "nodes"]
    nodes_id = sgs["nodes"]["GroupId"]
    for role, port in (("database", 5432), ("cache", 6379)):
        (rule,) = sgs[role]["IpPermissions"]
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", port, port)
        assert [p["GroupId"] for p in rule["UserIdGroupPairs"]] == [nodes_id]
        assert rule["IpRanges"] == [], f"{role} must not be reachable from any CIDR"
        assert sgs[role]["IpPermissionsEgress"] == [], f"{role} needs no egress"
    (alb_rule,) = [r for r in sgs["alb"]["IpPermissions"] if r["FromPort"] == 80] or [None]
    assert alb_rule is not None
    node_sources = {
        p["GroupId"] for r in sgs["nodes"]["IpPermissions"] for p in r["UserIdGroupPairs"]
    }
    assert node_sources == {sgs["alb"]["GroupId"], nodes_id}

    routes = {_tags(t).get("Name"): t for t in state["route_tables"]}
    default = {
        name: [r for r in t["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        for name, t in routes.items()
    }
    assert default[f"{PREFIX}-public"][0]["GatewayId"].startswith("igw-")
    assert default[f"{PREFIX}-private"][0]["NatGatewayId"] == state["nats"][0]["NatGatewayId"]
    assert default[f"{PREFIX}-database"] == [], "the database tier has no way out"

    (endpoint,) = state["endpoints"]
    assert endpoint["ServiceName"] == "com.amazonaws.us-east-1.s3"
    assert sorted(endpoint["RouteTableIds"]) == sorted(
        routes[n]["RouteTableId"] for n in (f"{PREFIX}-private", f"{PREFIX}-database")
    )
    (flow_log,) = state["flow_logs"]
    assert flow_log["LogGroupName"] == f"/plinth/{PREFIX}/vpc-flow-logs"
    assert flow_log["TrafficType"] == "ALL"

    # The DR network (the local inventory has a DR replica): its own VPC in dr_region, three
    # tiers in the DR zones, the security-group chain, no NAT, its own flow logs and role.
    dr = _dr_network_state(aws)
    (dr_vpc,) = dr["vpcs"]
    assert dr_vpc["CidrBlock"] == LOCAL["network"]["dr"]["cidr"]
    assert _tags(dr_vpc)["Name"] == f"{PREFIX}-dr"
    dr_zones = [LOCAL["dr_region"] + z[-1] for z in LOCAL["availability_zones"]]
    dr_tiers: dict[str, list[str]] = {}
    for subnet in dr["subnets"]:
        dr_tiers.setdefault(_tags(subnet)["plinth:tier"], []).append(subnet["AvailabilityZone"])
    assert {tier: sorted(zones) for tier, zones in dr_tiers.items()} == {
        tier: dr_zones for tier in ("database", "private", "public")
    }
    assert sorted(_tags(g)["plinth:role"] for g in dr["sgs"]) == [
        "alb",
        "cache",
        "database",
        "nodes",
    ]
    assert dr["nats"] == [] and dr["eips"] == []
    (dr_flow_log,) = dr["flow_logs"]
    assert dr_flow_log["LogGroupName"] == f"/plinth/{PREFIX}-dr/vpc-flow-logs"
    assert dr_flow_log["DeliverLogsPermissionArn"].endswith(f"role/{PREFIX}-dr-vpc-flow-logs")

    rerun = run_playbook("network.yml", endpoint_port=aws.port)
    assert rerun.rc == 0, rerun.failure_messages()
    assert rerun.changed == 0, f"rerun changed: {rerun.changed_tasks()}"

    teardown = run_playbook("teardown.yml", endpoint_port=aws.port)
    assert teardown.rc == 0, teardown.failure_messages() or teardown.stderr
    after = _network_state(aws)
    assert after["vpcs"] == [] and after["eips"] == [] and after["sgs"] == []
    nats = aws.client("ec2").describe_nat_gateways()["NatGateways"]
    assert all(n["State"] == "deleted" for n in nats)
    assert aws.client("logs").describe_log_groups(logGroupNamePrefix="/plinth/")["logGroups"] == []
    dr_after = _dr_network_state(aws)
    assert dr_after["vpcs"] == [] and dr_after["sgs"] == [] and dr_after["subnets"] == []
    dr_logs = aws.client("logs", LOCAL["dr_region"])
    assert dr_logs.describe_log_groups(logGroupNamePrefix="/plinth/")["logGroups"] == []
    roles = aws.client("iam").list_roles()["Roles"]
    assert not [r for r in roles if r["RoleName"].endswith("-vpc-flow-logs")]

    again = run_playbook("teardown.yml", endpoint_port=aws.port)
    assert again.rc == 0, again.failure_messages()
    assert again.changed == 0, again.changed_tasks()


# The first sixteen cases cover every network and top-level rule; all 48 run as unit tests.
@pytest.mark.parametrize(
    "case", CASES.BAD_CONFIGS[:16], ids=[c["description"] for c in CASES.BAD_CONFIGS[:16]]
)
def test_bad_config_fails_before_any_aws_call(
    aws: Any, case: dict[str, Any], tmp_path: Path
) -> None:
    config = CASES.apply_patch(CASES.VALID, case)
    run = run_playbook("network.yml", endpoint_port=aws.port, platform=config, tmp_path=tmp_path)
    assert run.rc != 0
    messages = "\n".join(run.failure_messages())
    assert case["path"] in messages and case["match"] in messages, messages
    assert aws.recorded_requests() == [], "validation must fail before any AWS call"


def test_production_teardown_needs_the_name(aws: Any, tmp_path: Path) -> None:
    production = dict(LOCAL, environment="production")
    refused = run_playbook(
        "teardown.yml", endpoint_port=aws.port, platform=production, tmp_path=tmp_path
    )
    assert refused.rc != 0
    assert "plinth_confirm_teardown=plinth" in "\n".join(refused.failure_messages())
    assert aws.recorded_requests() == []

    confirmed = run_playbook(
        "teardown.yml",
        endpoint_port=aws.port,
        platform=production,
        extra_vars={"plinth_confirm_teardown": LOCAL["name"]},
        tmp_path=tmp_path,
    )
    assert confirmed.rc == 0, confirmed.failure_messages()


@pytest.mark.latency
def test_nat_gateways_pass_through_pending_under_latency(aws_latency: Any, tmp_path: Path) -> None:
    per_az = dict(LOCAL, network=dict(LOCAL["network"], nat="per_az"))
    ec2 = aws_latency.client("ec2")
    seen: dict[str, list[str]] = {}
    most_pending_at_once = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal most_pending_at_once
        while not done.is_set():
            nats = ec2.describe_nat_gateways()["NatGateways"]
            for nat in nats:
                states = seen.setdefault(nat["NatGatewayId"], [])
                if not states or states[-1] != nat["State"]:
                    states.append(nat["State"])
            pending = sum(n["State"] == "pending" for n in nats)
            most_pending_at_once = max(most_pending_at_once, pending)
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        apply = run_playbook(
            "network.yml", endpoint_port=aws_latency.port, platform=per_az, tmp_path=tmp_path
        )
    finally:
        done.set()
        watcher.join()
    assert apply.rc == 0, apply.failure_messages() or apply.stderr
    assert len(seen) == 3
    for states in seen.values():
        assert states[0] == "pending" and states[-1] == "available", seen
    # Waited on together, not one after another: serial waits never have two pending at once.
    # (All three at once depends on how fast this machine forks the async jobs.)
    assert most_pending_at_once >= 2, seen
    rerun = run_playbook(
        "network.yml", endpoint_port=aws_latency.port, platform=per_az, tmp_path=tmp_path
    )
    assert rerun.rc == 0 and rerun.changed == 0, rerun.changed_tasks()
