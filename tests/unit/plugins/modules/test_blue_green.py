"""Unit tests for plinth.platform.blue_green's building blocks (plugins/module_utils/blue_green.py)
and the argument checks of blue_green and blue_green_alb. The releases themselves run against a
real control plane in tests/kube/test_blue_green.py and the ALB on the emulator in
tests/integration/test_blue_green_alb.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.module_utils import blue_green as bg
from ansible_collections.plinth.platform.plugins.modules import blue_green, blue_green_alb

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def spec(**overrides: Any) -> bg.AppSpec:
    values: dict[str, Any] = {
        "name": "api",
        "namespace": "ns",
        "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1.0.0",
        "version": "1.1.0",
        "replicas": 3,
        "port": 8000,
        "node_selector": {"eks.amazonaws.com/nodegroup": "general"},
        "labels": {"plinth.dev/environment": "production"},
    }
    return bg.AppSpec(**{**values, **overrides})


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("repo/api:1.0", "repo/api:2.0"),
        ("repo/api", "repo/api:2.0"),
        ("registry.local:5000/api", "registry.local:5000/api:2.0"),
        ("registry.local:5000/api:1.0", "registry.local:5000/api:2.0"),
        ("repo/api@sha256:" + "a" * 64, "repo/api:2.0"),
    ],
)
def test_image_ref_replaces_tag_or_digest(image: str, expected: str) -> None:
    assert bg.image_ref(image, "2.0") == expected


def test_deployment_renders_the_slot_and_the_hardened_pod() -> None:
    deployment = spec().deployment("green", 1)
    assert deployment["metadata"]["name"] == "api-green"
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "api",
        "plinth.dev/slot": "green",
    }
    template = deployment["spec"]["template"]
    labels = template["metadata"]["labels"]
    assert labels["plinth.dev/slot"] == "green" and labels["app.kubernetes.io/version"] == "1.1.0"
    assert labels["app.kubernetes.io/managed-by"] == "plinth"
    assert labels["plinth.dev/environment"] == "production"
    container = template["spec"]["containers"][0]
    assert container["image"].endswith("/api:1.1.0")
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert template["spec"]["nodeSelector"] == {"eks.amazonaws.com/nodegroup": "general"}
    hash_ = spec().template_hash()
    assert template["metadata"]["annotations"][bg.HASH_ANNOTATION] == hash_
    assert deployment["metadata"]["annotations"][bg.HASH_ANNOTATION] == hash_


def test_template_hash_names_the_release_not_the_slot() -> None:
    assert spec().template_hash() == spec().template_hash()
    assert spec(version="1.2.0").template_hash() != spec().template_hash()
    assert spec(resources={"limits": {"cpu": "1"}}).template_hash() != spec().template_hash()
    assert spec(replicas=5).template_hash() == spec().template_hash()


def test_service_selects_one_slot() -> None:
    service = spec().service("api", "blue", {bg.VERSION_ANNOTATION: "1.1.0"})
    assert service["spec"]["selector"] == {
        "app.kubernetes.io/name": "api",
        "plinth.dev/slot": "blue",
    }
    assert service["spec"]["ports"][0] == {
        "name": "http",
        "port": 80,
        "targetPort": "http",
        "protocol": "TCP",
    }


def pod(name: str, hash_: str, ready_for: float | None, deleting: bool = False) -> dict[str, Any]:
    conditions = []
    if ready_for is None:
        conditions.append({"type": "Ready", "status": "False", "reason": "ContainersNotReady"})
    else:
        since = (NOW - timedelta(seconds=ready_for)).strftime("%Y-%m-%dT%H:%M:%SZ")
        conditions.append({"type": "Ready", "status": "True", "lastTransitionTime": since})
    meta: dict[str, Any] = {"name": name, "annotations": {bg.HASH_ANNOTATION: hash_}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T11:59:59Z"
    return {"metadata": meta, "status": {"conditions": conditions}}


def test_slot_readiness() -> None:
    ready = bg.slot_readiness([pod("a", "h", 30), pod("b", "h", 30)], "h", 2, 10, NOW)
    assert ready.ready and ready.ready_pods == 2

    young = bg.slot_readiness([pod("a", "h", 30), pod("b", "h", 3)], "h", 2, 10, NOW)
    assert not young.ready and young.unready_pods == {"b": "Ready for less than 10s"}

    unready = bg.slot_readiness([pod("a", "h", 30), pod("b", "h", None)], "h", 2, 10, NOW)
    assert not unready.ready and unready.unready_pods == {"b": "ContainersNotReady"}

    missing = bg.slot_readiness([pod("a", "h", 30)], "h", 2, 10, NOW)
    assert not missing.ready and missing.reason == "1 of 2 pods exist"

    stale = bg.slot_readiness([pod("a", "h", 30), pod("old", "g", 30)], "h", 1, 10, NOW)
    assert not stale.ready and "earlier release" in stale.reason

    # A terminating pod is no longer an endpoint: it does not count.
    going = bg.slot_readiness(
        [pod("a", "h", 30), pod("old", "g", 30, deleting=True)], "h", 1, 10, NOW
    )
    assert going.ready


class _Handler(BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        _Handler.calls.append(self.path)
        if self.path.startswith("/api/v1/query"):
            body: dict[str, Any]
            if "empty" in self.path:
                body = {"status": "success", "data": {"resultType": "vector", "result": []}}
            else:
                body = {
                    "status": "success",
                    "data": {
                        "resultType": "vector",
                        "result": [{"metric": {}, "value": [0, "0.5"]}],
                    },
                }
            payload = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        # /flaky answers 500 every other call
        status = (
            200
            if self.path == "/ok" or (self.path == "/flaky" and len(_Handler.calls) % 2)
            else 500
        )
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_http_check_ratio_and_early_stop(server: str) -> None:
    ok = bg.http_check({"url": f"{server}/ok", "tries": 3}, sleep=lambda s: None)
    assert ok["passed"] and ok["statuses"] == [200, 200, 200] and ok["success_ratio"] == 1.0

    _Handler.calls.clear()
    flaky = bg.http_check(
        {"url": f"{server}/flaky", "tries": 4, "success_ratio": 0.5}, sleep=lambda s: None
    )
    assert flaky["passed"] and flaky["successes"] == 2

    bad = bg.http_check(
        {"url": f"{server}/bad", "tries": 10, "success_ratio": 0.8}, sleep=lambda s: None
    )
    assert not bad["passed"] and bad["tries"] == 3  # 3 failures: 80% of 10 is out of reach

    refused = bg.http_check({"url": "http://127.0.0.1:9/", "tries": 1}, sleep=lambda s: None)
    assert not refused["passed"] and str(refused["statuses"][0]).startswith("error:")


def test_prometheus_check(server: str) -> None:
    within = bg.prometheus_check({"url": server, "query": "errors", "max_value": 1})
    assert within["passed"] and within["value"] == 0.5
    above = bg.prometheus_check({"url": server, "query": "errors", "max_value": 0.1})
    assert not above["passed"]
    below = bg.prometheus_check({"url": server, "query": "up", "min_value": 1})
    assert not below["passed"]
    empty = bg.prometheus_check({"url": server, "query": "empty", "max_value": 1})
    assert not empty["passed"] and empty["error"] == "the query returned no data"
    analysis = bg.run_analysis({"prometheus": {"url": server, "query": "errors", "max_value": 0.1}})
    assert not analysis["passed"]
    assert "out of bounds" in bg.failed_checks(analysis)


def test_forward_weights_and_steps() -> None:
    plain = [{"Type": "forward", "TargetGroupArn": "b"}]
    assert bg.forward_weights(plain) == {"b": 1}
    assert bg.share(bg.forward_weights(plain), "b") == 100
    weighted = [
        {"Type": "authenticate-oidc", "Order": 1, "AuthenticateOidcConfig": {"Issuer": "x"}},
        {
            "Type": "forward",
            "Order": 2,
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": "b", "Weight": 3},
                    {"TargetGroupArn": "g", "Weight": 1},
                ],
                "TargetGroupStickinessConfig": {"Enabled": True, "DurationSeconds": 60},
            },
        },
    ]
    assert bg.share(bg.forward_weights(weighted), "g") == 25
    actions = bg.weighted_actions(weighted, {"b": 50, "g": 50})
    assert actions[0] == weighted[0]
    assert actions[1]["Order"] == 2
    assert actions[1]["ForwardConfig"]["TargetGroupStickinessConfig"]["DurationSeconds"] == 60
    assert bg.weight_steps(0, [10, 50, 100]) == [10, 50, 100]
    assert bg.weight_steps(25, [50, 10]) == [50, 100]
    assert bg.weight_steps(0, []) == [100]


def test_blue_green_refuses_bad_arguments_before_any_api_call(run_module) -> None:
    args = {
        "kubeconfig": "/nonexistent/kubeconfig",
        "name": "api",
        "namespace": "ns",
        "image": "repo/api",
        "version": "1.0",
    }
    result = run_module(blue_green, {**args, "replicas": -1})
    assert result["failed"] and result["msg"] == "replicas must be >= 0"
    bad_ratio = {"http_checks": [{"url": "http://x/", "success_ratio": 1.5}]}
    result = run_module(blue_green, {**args, "pre_analysis": bad_ratio})
    assert result["failed"] and "success_ratio within 0-1" in result["msg"]


def test_url_passwords_finds_only_embedded_passwords() -> None:
    pre = {"http_checks": [{"url": "https://ops:pw-1@a.example/health"}, {"url": "http://b/"}]}
    post = {"prometheus": {"url": "http://reader:pw-2@prom:9090", "query": "up"}}
    assert bg.url_passwords(pre, post, None) == {"pw-1", "pw-2"}
    assert bg.url_passwords({"http_checks": [{"url": "https://user@a/"}]}) == set()


def test_analysis_url_password_never_in_the_result(run_module) -> None:
    url = "https://ops:Hunter2-secret@checks.example/health"
    args = {
        "kubeconfig": "/nonexistent/kubeconfig",
        "name": "api",
        "namespace": "ns",
        "image": "repo/api",
        "version": "1.0",
        "replicas": -1,
        "post_analysis": {"http_checks": [{"url": url}]},
    }
    result = run_module(blue_green, args)
    assert result["failed"] and "checks.example" in json.dumps(result)
    assert "Hunter2-secret" not in json.dumps(result)
    alb_args = {
        "listener_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/x/1/2",
        "target_groups": {"blue": "b", "green": "g"},
        "slot": "green",
        "steps": [0],
        "analysis": {"prometheus": {"url": "http://r:Hunter2-secret@prom:9090", "query": "up"}},
    }
    result = run_module(blue_green_alb, alb_args)
    assert result["failed"] and "Hunter2-secret" not in json.dumps(result)


def test_blue_green_alb_check_mode_writes_nothing(run_module, aws_moto) -> None:
    ec2, elb = boto3.client("ec2", "us-east-1"), boto3.client("elbv2", "us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in ((1, "a"), (2, "b"))
    ]
    lb = elb.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    groups = {
        s: elb.create_target_group(Name=s, Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")[
            "TargetGroups"
        ][0]["TargetGroupArn"]
        for s in ("blue", "green")
    }
    listener = elb.create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": groups["blue"]}],
    )["Listeners"][0]["ListenerArn"]
    args = {"listener_arn": listener, "target_groups": groups, "slot": "green", "steps": [25, 75]}
    planned = run_module(blue_green_alb, args, check_mode=True)
    assert planned["changed"] and planned["plan"] == [25, 75, 100] and planned["steps"] == []
    action = elb.describe_listeners(ListenerArns=[listener])["Listeners"][0]["DefaultActions"][0]
    assert action["TargetGroupArn"] == groups["blue"] and "ForwardConfig" not in action

    refused = run_module(blue_green_alb, {**args, "steps": [0, 50]})
    assert refused["failed"] and refused["msg"] == "steps must be percentages within 1-100"


def test_hpa_scales_the_given_slot() -> None:
    hpa = spec(autoscaling={"min_replicas": 3, "max_replicas": 20, "cpu_target": 70}).hpa("green")
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["metadata"]["name"] == "api"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "api-green",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 20)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
