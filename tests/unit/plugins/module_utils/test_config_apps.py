"""The apps section of the environment config (platform.apps, platform.apps_prune)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.plinth.platform.plugins.module_utils.config import (
    cpu_millis,
    memory_bytes,
    secret_env_name,
    validate_platform,
)
from test_config import VALID

APP: dict[str, Any] = {
    "name": "research-api",
    "namespace": "bioinvest-api",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/research-api:1.4.2",
    "replicas": 3,
    "node_group": "general",
    "port": 8000,
    "health_path": "/health",
    "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1"}},
    "env": {"LOG_LEVEL": "info"},
    "database": "main",
    "cache": "sessions",
    "secrets": ["api/signing-key"],
    "iam_policy_arns": ["arn:aws:iam::123456789012:policy/research-read"],
    "ingress": {"host": "api.bioinvest.ai", "certificate_arn": None},
    "autoscaling": {"max_replicas": 20, "memory_target": 80},
    "disruption": {"min_available": 1},
    "allow_from": [{"namespace": "monitoring"}, {"app": "web"}],
    "slo": {"availability": 99.9, "p95_latency_ms": 100},
    "blue_green": {"enabled": False},
}


def config_with(*apps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    config = copy.deepcopy(VALID)
    config["caches"] = {"sessions": {"node_type": "cache.r6g.large"}}
    config["secrets"] = [{"name": "api/signing-key", "generate": {"length": 48}}]
    config["apps"] = [copy.deepcopy(app) for app in apps]
    config.update(extra)
    return config


def errors_of(*apps: dict[str, Any], **extra: Any) -> list[str]:
    return validate_platform(config_with(*apps, **extra))[1]


def app(**changes: Any) -> dict[str, Any]:
    entry = copy.deepcopy(APP)
    entry.update(changes)
    return entry


def test_valid_app_is_normalised_with_defaults():
    config, errors = validate_platform(config_with(APP, {**APP, "name": "web", "ingress": None}))
    assert errors == []
    first = config["apps"][0]
    assert first["readiness_path"] == "/health"  # defaults to health_path
    assert first["resources"]["limits"] == {"cpu": "1"}
    assert first["autoscaling"] == {
        "min_replicas": 3,  # from replicas
        "max_replicas": 20,
        "cpu_target": 70,
        "memory_target": 80,
        "scale_up_window_seconds": 0,
        "scale_down_window_seconds": 300,
    }
    assert first["ingress"]["path"] == "/" and first["ingress"]["scheme"] == "internet-facing"
    assert first["allow_from"][1] == {"namespace": None, "app": "web"}
    assert first["blue_green"]["preview_replicas"] == 1
    assert config["apps_prune"] is False


def test_minimal_app_gets_every_default():
    config, errors = validate_platform(
        config_with(
            {"name": "web", "namespace": "site", "image": "nginx:1.27", "node_group": "gpu"}
        )
    )
    assert errors == []
    web = config["apps"][0]
    assert (web["replicas"], web["port"], web["health_path"]) == (2, 8080, "/health")
    assert web["resources"]["requests"] == {"cpu": "100m", "memory": "128Mi"}
    for key in ("database", "cache", "ingress", "autoscaling", "disruption", "slo"):
        assert web[key] is None
    assert web["secrets"] == [] and web["allow_from"] == [] and web["env"] == {}


@pytest.mark.parametrize(
    ("apps", "path", "fragment"),
    [
        ([APP, APP], "platform.apps[1].name", "is a duplicate of platform.apps[0]"),
        ([app(name="Research_API")], "platform.apps[0].name", "DNS-1035 label"),
        ([app(name="a" * 41)], "platform.apps[0].name", "at most 40"),
        ([app(namespace="kube-system")], "platform.apps[0].namespace", "not default, kube-system"),
        ([app(namespace="-api")], "platform.apps[0].namespace", "DNS-1123 label"),
        ([app(image="Research-API:1.0")], "platform.apps[0].image", "is not an image reference"),
        ([app(image="nginx")], "platform.apps[0].image", "has no tag or digest"),
        ([app(image="repo/app:1.0 ")], "platform.apps[0].image", "is not an image reference"),
        ([app(replicas=-1)], "platform.apps[0].replicas", "out of range, expected at least 0"),
        ([app(replicas="3")], "platform.apps[0].replicas", "expected an integer"),
        ([app(node_group="batch")], "platform.apps[0].node_group", "expected one of: general, gpu"),
        (
            [app(database="analytics")],
            "platform.apps[0].database",
            "not a key of platform.databases",
        ),
        ([app(cache="queue")], "platform.apps[0].cache", "not a key of platform.caches"),
        (
            [app(secrets=["api/other"])],
            "platform.apps[0].secrets[0]",
            "not a name of platform.secrets",
        ),
        ([app(port=70000)], "platform.apps[0].port", "out of range"),
        ([app(health_path="health")], "platform.apps[0].health_path", "starting with /"),
        (
            [app(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1500m"}})],
            "platform.apps[0].resources.requests.cpu",
            "above the limit",
        ),
        (
            [app(resources={"requests": {"memory": "1gb"}})],
            "platform.apps[0].resources.requests.memory",
            "memory quantity",
        ),
        ([app(env={"DATABASE_URL": "x"})], "platform.apps[0].env.DATABASE_URL", "set by Plinth"),
        ([app(env={"LOG_LEVEL": 3})], "platform.apps[0].env.LOG_LEVEL", 'quote it: "3"'),
        (
            [app(env={"API_SIGNING_KEY": "x"})],
            "platform.apps[0].secrets[0]",
            "becomes the key API_SIGNING_KEY",
        ),
        (
            [app(iam_policy_arns=["AmazonS3ReadOnlyAccess"])],
            "platform.apps[0].iam_policy_arns[0]",
            "IAM policy ARN",
        ),
        ([app(ingress={"path": "/"})], "platform.apps[0].ingress.host", "is required"),
        (
            [app(ingress={"host": "api.bioinvest.ai", "certificate_arn": "arn:aws:acm:x"})],
            "platform.apps[0].ingress.certificate_arn",
            "ACM certificate ARN",
        ),
        (
            [app(autoscaling={"min_replicas": 5, "max_replicas": 2})],
            "platform.apps[0].autoscaling.min_replicas",
            "greater than max_replicas",
        ),
        (
            [app(autoscaling={"max_replicas": 2})],
            "platform.apps[0].autoscaling.max_replicas",
            "below replicas (3)",
        ),
        (
            [app(disruption={"min_available": 1, "max_unavailable": 1})],
            "platform.apps[0].disruption",
            "exactly one",
        ),
        (
            [app(disruption={"min_available": "150%"})],
            "platform.apps[0].disruption.min_available",
            "percentage",
        ),
        (
            [app(autoscaling=None, disruption={"min_available": 3})],
            "platform.apps[0].disruption.min_available",
            "no pod could ever be evicted",
        ),
        ([app(allow_from=[{}])], "platform.apps[0].allow_from[0]", "give namespace, app or both"),
        ([app(slo={"availability": 100})], "platform.apps[0].slo.availability", "out of range"),
        ([app(slo={"p99": 3})], "platform.apps[0].slo.p99", "unknown key"),
        ([app(replica=3)], "platform.apps[0].replica", "unknown key"),
        (
            [
                app(namespace_labels={"tier": "api"}),
                app(name="web", namespace_labels={"tier": "web"}),
            ],
            "platform.apps[1].namespace_labels.tier",
            "conflicts with 'api'",
        ),
    ],
)
def test_bad_app_is_refused_naming_the_key(apps, path, fragment):
    errors = errors_of(*apps)
    matching = [e for e in errors if e.startswith(path + ": ")]
    assert matching, f"no error for {path} in {errors}"
    assert any(fragment in e for e in matching), f"{fragment!r} not in {matching}"


def test_apps_need_an_eks_node_group():
    errors = errors_of(APP, eks=None)
    assert errors == [
        "platform.apps[0].node_group: 'general' is not a node group of platform.eks.node_groups,"
        " expected one of: none (platform.eks has no node_groups)"
    ]


def test_apps_prune_is_a_boolean():
    assert errors_of(APP, apps_prune="yes") == [
        "platform.apps_prune: 'yes' is a string, expected a boolean"
    ]


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.27",
        "library/nginx:1.27-alpine",
        "localhost:5000/team/app:v1",
        "registry.example.com:443/a/b/c:2024.01.01",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/research-api:1.4.2",
        "ghcr.io/org/app@sha256:" + "a" * 64,
        "ghcr.io/org/app:1.0@sha256:" + "b" * 64,
    ],
)
def test_valid_image_references(image):
    assert errors_of(app(image=image)) == []


def test_quantities_and_secret_keys():
    assert cpu_millis("250m") == 250 and cpu_millis("1") == 1000 and cpu_millis("0.5") == 500
    assert memory_bytes("512Mi") == 512 * 2**20 and memory_bytes("1G") == 10**9
    assert secret_env_name("api/signing-key") == "API_SIGNING_KEY"


INVENTORIES = sorted(
    Path(__file__).resolve().parents[4].glob("inventories/*/group_vars/all/platform.yml")
)


@pytest.mark.parametrize("path", INVENTORIES, ids=[p.parts[-5] for p in INVENTORIES])
def test_every_inventory_declares_valid_apps(path):
    config, errors = validate_platform(yaml.safe_load(path.read_text())["platform"])
    assert errors == []
    assert "apps" in yaml.safe_load(path.read_text())["platform"]
    if config["eks"]:
        assert config["apps"], "an environment with a cluster declares the apps it runs"
