"""plinth.platform.blue_green_alb against the embedded AWS: weighted steps on a listener rule and
on a listener's default action, idempotency (no write once the slot has all the traffic), check
mode, abort, the healthy-target gate and the rollback of a step whose analysis fails.

moto keeps weighted ``ForwardConfig`` (target groups, weights, stickiness) through CreateRule,
ModifyRule and ModifyListener and reports registered targets as healthy, which is all this
module uses; it has no real traffic, so the HTTP analysis runs against a local test server.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.plinth.platform.plugins.modules import blue_green_alb

from tests.support.emulator_fixture import FAKE_KEY, EmulatorHandle
from tests.support.http_server import status_server

REGION = "us-east-1"


def run(
    aws: EmulatorHandle, check_mode: bool = False, diff: bool = False, **args: Any
) -> dict[str, Any]:
    module_args = {
        "endpoint_url": aws.endpoint_url,
        "access_key": FAKE_KEY,
        "secret_key": FAKE_KEY,
        "region": REGION,
        **args,
        "_ansible_check_mode": check_mode,
        "_ansible_diff": diff,
    }
    out = io.StringIO()
    with patch_module_args(module_args), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        blue_green_alb.main()
    return json.loads(out.getvalue())


@pytest.fixture
def alb(aws: EmulatorHandle) -> dict[str, Any]:
    """An ALB with a listener, a rule forwarding all to blue, and two target groups."""
    ec2, elb = aws.client("ec2", REGION), aws.client("elbv2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    lb = elb.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]
    groups = {
        slot: elb.create_target_group(
            Name=f"shop-{slot}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for slot in ("blue", "green")
    }
    for slot, ip in (("blue", "10.9.1.10"), ("green", "10.9.1.20")):
        elb.register_targets(TargetGroupArn=groups[slot], Targets=[{"Id": ip, "Port": 8080}])
    listener = elb.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups["blue"]}],
    )["Listeners"][0]["ListenerArn"]
    rule = elb.create_rule(
        ListenerArn=listener,
        Priority=10,
        Conditions=[{"Field": "host-header", "Values": ["shop.example.com"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": groups["blue"]}],
    )["Rules"][0]["RuleArn"]
    return {"elb": elb, "listener": listener, "rule": rule, "groups": groups, "vpc": vpc}


def rule_weights(alb: dict[str, Any]) -> dict[str, int]:
    action = alb["elb"].describe_rules(RuleArns=[alb["rule"]])["Rules"][0]["Actions"][0]
    if "ForwardConfig" not in action:  # moto echoes a plain TargetGroupArn without ForwardConfig
        return {slot: int(arn == action["TargetGroupArn"]) for slot, arn in alb["groups"].items()}
    by_arn = {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
    return {slot: by_arn.get(arn, 0) for slot, arn in alb["groups"].items()}


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    """A test HTTP server on 127.0.0.1: /ok answers 200, anything else 500."""
    with status_server() as url:
        yield url


def test_steps_idempotency_check_mode_and_abort(
    aws: EmulatorHandle, alb: dict[str, Any], http_server: str
) -> None:
    args = {
        "listener_arn": alb["listener"],
        "rule_arn": alb["rule"],
        "target_groups": alb["groups"],
        "slot": "green",
    }
    planned = run(aws, check_mode=True, diff=True, steps=[10, 50], **args)
    assert planned["changed"] and planned["plan"] == [10, 50, 100]
    assert planned["diff"]["after"]["weights"] == {"blue": 0, "green": 100}
    assert rule_weights(alb) == {"blue": 1, "green": 0}  # the plain TargetGroupArn: untouched

    checks = {"http_checks": [{"url": f"{http_server}/ok", "tries": 2, "interval": 0}]}
    aws.clear_recording()
    shifted = run(aws, steps=[10, 50], analysis=checks, **args)
    assert not shifted.get("failed"), shifted.get("msg")
    assert shifted["changed"] and [s["share"] for s in shifted["steps"]] == [10, 50, 100]
    assert all(s["analysis"]["passed"] for s in shifted["steps"])
    assert shifted["weights"] == {"blue": 0, "green": 100} and shifted["active_slot"] == "green"
    assert shifted["previous_weights"] == {"blue": 100, "green": 0}
    assert rule_weights(alb) == {"blue": 0, "green": 100}
    assert [c.operation for c in aws.write_calls()] == ["ModifyRule"] * 3

    aws.clear_recording()
    again = run(aws, steps=[10, 50], analysis=checks, **args)
    assert again["changed"] is False and again["plan"] == []
    assert aws.write_calls() == []

    aborted = run(aws, state="aborted", **args)
    assert aborted["changed"] and aborted["weights"] == {"blue": 100, "green": 0}
    assert rule_weights(alb) == {"blue": 100, "green": 0}
    assert run(aws, state="aborted", **args)["changed"] is False


def test_failed_step_restores_the_weights(
    aws: EmulatorHandle, alb: dict[str, Any], http_server: str
) -> None:
    checks = {"http_checks": [{"url": f"{http_server}/errors", "tries": 2, "interval": 0}]}
    result = run(
        aws,
        listener_arn=alb["listener"],
        rule_arn=alb["rule"],
        target_groups=alb["groups"],
        slot="green",
        steps=[20, 60],
        analysis=checks,
    )
    assert result["failed"] and result["rolled_back"]
    assert "analysis failed at 20% for slot green" in result["msg"]
    assert [s["share"] for s in result["steps"]] == [20]
    assert rule_weights(alb) == {"blue": 100, "green": 0}


def test_listener_default_action_and_the_healthy_target_gate(
    aws: EmulatorHandle, alb: dict[str, Any]
) -> None:
    elb = alb["elb"]
    empty = elb.create_target_group(
        Name="shop-empty", Protocol="HTTP", Port=8080, VpcId=alb["vpc"], TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    refused = run(
        aws,
        listener_arn=alb["listener"],
        target_groups={"blue": alb["groups"]["blue"], "green": empty},
        slot="green",
    )
    assert refused["failed"] and "no registered targets" in refused["msg"]

    moved = run(aws, listener_arn=alb["listener"], target_groups=alb["groups"], slot="green")
    assert moved["changed"] and moved["weights"] == {"blue": 0, "green": 100}
    action = elb.describe_listeners(ListenerArns=[alb["listener"]])["Listeners"][0][
        "DefaultActions"
    ][0]
    weights = {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
    assert weights == {alb["groups"]["blue"]: 0, alb["groups"]["green"]: 100}
    assert (
        run(aws, listener_arn=alb["listener"], target_groups=alb["groups"], slot="green")["changed"]
        is False
    )
