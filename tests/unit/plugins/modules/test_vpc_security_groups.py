"""Unit tests for plinth.platform.vpc_security_groups, run against moto's in-process mock_aws."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import vpc_security_groups

REGION = "us-east-1"


@pytest.fixture
def ec2(aws_moto):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def vpc_id(ec2) -> str:
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def args(vpc_id) -> dict[str, Any]:
    """The network role's chain: ALB <- nodes <- database, nodes talk to each other."""
    return {
        "vpc_id": vpc_id,
        "tags": {"plinth:stack": "demo"},
        "security_groups": [
            {
                "name": "demo-alb",
                "description": "ALB",
                "rules": [
                    {
                        "proto": "tcp",
                        "ports": [80, 443],
                        "cidr_ip": ["0.0.0.0/0"],
                        "rule_desc": "HTTP(S)",
                    }
                ],
                "rules_egress": [{"proto": "all", "cidr_ip": ["0.0.0.0/0"]}],
                "tags": {"Name": "demo-alb"},
            },
            {
                "name": "demo-nodes",
                "description": "Nodes",
                "rules": [
                    {"proto": "all", "group_name": "demo-alb", "rule_desc": "From ALB"},
                    {"proto": "all", "group_name": "demo-nodes"},
                ],
                "rules_egress": [{"proto": "all", "cidr_ip": ["0.0.0.0/0"]}],
            },
            {
                "name": "demo-database",
                "description": "DB",
                "rules": [{"proto": "tcp", "ports": ["5432"], "group_name": "demo-nodes"}],
            },
        ],
    }


def groups(ec2, vpc_id: str) -> dict[str, dict[str, Any]]:
    found = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    return {g["GroupName"]: g for g in found["SecurityGroups"] if g["GroupName"] != "default"}


def test_create_chain_then_rerun_is_noop(run_module, ec2, vpc_id, args):
    result = run_module(vpc_security_groups, args, diff=True)
    assert result["changed"]
    found = groups(ec2, vpc_id)
    assert set(found) == {"demo-alb", "demo-nodes", "demo-database"}
    ids = {name: g["GroupId"] for name, g in found.items()}
    assert result["group_ids"] == ids
    alb_ports = sorted((p["FromPort"], p["ToPort"]) for p in found["demo-alb"]["IpPermissions"])
    assert alb_ports == [(80, 80), (443, 443)]
    node_peers = {
        pair["GroupId"]
        for p in found["demo-nodes"]["IpPermissions"]
        for pair in p["UserIdGroupPairs"]
    }
    assert node_peers == {ids["demo-alb"], ids["demo-nodes"]}
    # No egress at all for the database: the default rule is gone.
    assert found["demo-database"]["IpPermissionsEgress"] == []
    db_rule = found["demo-database"]["IpPermissions"][0]
    assert (db_rule["FromPort"], db_rule["UserIdGroupPairs"][0]["GroupId"]) == (
        5432,
        ids["demo-nodes"],
    )
    tags = {t["Key"]: t["Value"] for t in found["demo-alb"]["Tags"]}
    assert tags == {"plinth:stack": "demo", "Name": "demo-alb"}

    again = run_module(vpc_security_groups, args, diff=True)
    assert not again["changed"], again["diff"]
    assert again["group_ids"] == ids


def test_check_mode_creates_nothing_and_reports(run_module, ec2, vpc_id, args):
    result = run_module(vpc_security_groups, args, check_mode=True, diff=True)
    assert result["changed"]
    assert result["group_ids"] == {"demo-alb": None, "demo-nodes": None, "demo-database": None}
    assert set(result["diff"]["after"]) == {"demo-alb", "demo-nodes", "demo-database"}
    assert groups(ec2, vpc_id) == {}


def test_reconciles_only_differences(run_module, ec2, vpc_id, args):
    run_module(vpc_security_groups, args)
    alb = groups(ec2, vpc_id)["demo-alb"]["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=alb,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "1.2.3.4/32"}],
            }
        ],
    )
    args["security_groups"][0]["rules"][0]["ports"] = [443]
    args["security_groups"][0]["rules"][0]["rule_desc"] = "HTTPS"

    check = run_module(vpc_security_groups, args, check_mode=True, diff=True)
    assert check["changed"]
    assert set(check["diff"]["after"]) == {"demo-alb"}
    assert check["diff"]["after"]["demo-alb"]["rules"] == [
        {
            "proto": "tcp",
            "from_port": 443,
            "to_port": 443,
            "cidr_ip": "0.0.0.0/0",
            "rule_desc": "HTTPS",
        }
    ]
    assert len(groups(ec2, vpc_id)["demo-alb"]["IpPermissions"]) == 3

    assert run_module(vpc_security_groups, args)["changed"]
    rules = groups(ec2, vpc_id)["demo-alb"]["IpPermissions"]
    assert [(r["FromPort"], r["IpRanges"][0].get("Description")) for r in rules] == [(443, "HTTPS")]
    assert not run_module(vpc_security_groups, args)["changed"]


def test_without_purge_keeps_extra_rules(run_module, ec2, vpc_id, args):
    run_module(vpc_security_groups, args)
    args["security_groups"][0]["rules"] = []
    result = run_module(vpc_security_groups, dict(args, purge_rules=False))
    assert not result["changed"]
    assert len(groups(ec2, vpc_id)["demo-alb"]["IpPermissions"]) == 2


def test_absent_removes_groups_that_reference_each_other(run_module, ec2, vpc_id, args):
    run_module(vpc_security_groups, args)
    absent = {
        "vpc_id": vpc_id,
        "security_groups": [{"name": n} for n in ("demo-alb", "demo-nodes", "demo-database")],
        "state": "absent",
    }
    assert run_module(vpc_security_groups, absent, check_mode=True)["changed"]
    assert len(groups(ec2, vpc_id)) == 3
    assert run_module(vpc_security_groups, absent)["changed"]
    assert groups(ec2, vpc_id) == {}
    assert not run_module(vpc_security_groups, absent)["changed"]


def test_refuses_unknown_group_and_bad_port(run_module, vpc_id, args):
    args["security_groups"][2]["rules"][0]["group_name"] = "nope"
    result = run_module(vpc_security_groups, args)
    assert result["failed"] and "nope" in result["msg"]
    args["security_groups"][2]["rules"][0]["ports"] = ["http"]
    result = run_module(vpc_security_groups, args)
    assert result["failed"] and "'http'" in result["msg"]
