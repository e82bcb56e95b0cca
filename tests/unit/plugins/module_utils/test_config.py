"""Unit tests for module_utils/config.py: the schema engine, the Plinth schema, subnet planning."""

from __future__ import annotations

import contextlib
import copy
import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.plinth.platform.plugins.module_utils.config import (
    result_for,
    validate_platform,
)

BAD_CONFIGS = yaml.safe_load((Path(__file__).parent / "bad_configs.yml").read_text())

# A complete, valid production config: 3 AZs, DR region, two node groups (the second tainted).
VALID: dict[str, Any] = {
    "name": "bioinvest",
    "environment": "production",
    "region": "us-east-1",
    "dr_region": "us-west-2",
    "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
    "tags": {"cost-centre": "research"},
    "network": {
        "cidr": "10.0.0.0/16",
        "alb_ingress_cidrs": ["0.0.0.0/0"],
        "flow_logs": {"enabled": True, "traffic_type": "ALL", "retention_days": 30},
        "s3_endpoint": True,
    },
    "eks": {
        "version": "1.33",
        "node_groups": [
            {
                "name": "general",
                "instance_types": ["m5.xlarge"],
                "capacity_type": "ON_DEMAND",
                "min_size": 2,
                "desired_size": 3,
                "max_size": 10,
                "disk_size": 50,
                "labels": {"workload": "general"},
            },
            {
                "name": "gpu",
                "instance_types": ["g5.xlarge", "g5.2xlarge"],
                "capacity_type": "SPOT",
                "min_size": 0,
                "max_size": 4,
                "ami_type": "AL2023_x86_64_NVIDIA",
                "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
            },
        ],
    },
    "databases": {"main": {"engine": "postgres"}},
    "caches": {},
    "buckets": [{"name": "uploads"}],
    "monitoring": {},
    "apps": [],
}

AZS = ["us-east-1a", "us-east-1b", "us-east-1c"]


def plan(*cidrs: str) -> list[dict[str, str]]:
    return [{"az": az, "cidr": cidr} for az, cidr in zip(AZS, cidrs, strict=True)]


def valid(**changes: Any) -> dict[str, Any]:
    config = copy.deepcopy(VALID)
    config.update(changes)
    return config


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else key for key, index in _STEP.findall(path)]


def apply_patch(base: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """Apply a bad_configs.yml patch: ``set`` paths (creating mappings), ``delete`` paths."""
    config = copy.deepcopy(base)
    for path, value in (case.get("set") or {}).items():
        *parents, last = _steps(path)
        node: Any = config
        for step in parents:
            node = node.setdefault(step, {}) if isinstance(step, str) else node[step]
        node[last] = value
    for path in case.get("delete") or []:
        *parents, last = _steps(path)
        node = config
        for step in parents:
            node = node[step]
        del node[last]
    return config


def ok(raw: Any) -> dict[str, Any]:
    config, errors = validate_platform(raw)
    assert errors == []
    return config


def test_valid_config_plans_documented_subnets():
    config = ok(VALID)
    assert config["network"]["subnets"] == {
        "private": plan("10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"),
        "public": plan("10.0.48.0/24", "10.0.49.0/24", "10.0.50.0/24"),
        "database": plan("10.0.51.0/24", "10.0.52.0/24", "10.0.53.0/24"),
    }


def test_valid_config_fills_defaults_and_keeps_given_values():
    config = ok(VALID)
    assert config["network"]["nat"] == "per_az"
    assert config["tags"] == {"cost-centre": "research"}
    general, gpu = config["eks"]["node_groups"]
    assert general == {
        "name": "general",
        "instance_types": ["m5.xlarge"],
        "capacity_type": "ON_DEMAND",
        "min_size": 2,
        "desired_size": 3,
        "max_size": 10,
        "disk_size": 50,
        "ami_type": "AL2023_x86_64_STANDARD",
        "labels": {"workload": "general"},
        "taints": [],
        "max_unavailable": 1,
    }
    assert gpu["desired_size"] == 0  # defaults to min_size
    assert gpu["ami_type"] == "AL2023_x86_64_NVIDIA"
    assert gpu["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert config["eks"]["log_types"] == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]
    assert config["eks"]["addons"] == ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"]
    # Databases get every default (production: Multi-AZ and deletion protection on).
    assert config["databases"]["main"] == {
        "engine": "postgres",
        "engine_version": "16.4",
        "instance_class": "db.r6g.large",
        "allocated_storage": 100,
        "max_allocated_storage": None,
        "storage_type": "gp3",
        "iops": None,
        "storage_throughput": None,
        "multi_az": True,  # production
        "backup_retention_days": 7,
        "backup_window": "03:00-04:00",
        "maintenance_window": "sun:04:30-sun:05:30",
        "performance_insights": True,
        "log_exports": ["postgresql", "upgrade"],
        "deletion_protection": True,  # production
        "database_name": "app",
        "master_username": "plinth_admin",
        "parameters": {},
        "read_replicas": 0,
        "replica_instance_class": "db.r6g.large",
        "dr_replica": {"enabled": False, "instance_class": "db.r6g.large"},
    }
    assert config["buckets"] == [
        {
            "name": "uploads",
            "versioning": True,
            "kms_key": "storage",
            "lifecycle": [],
            "replicate_to_dr": False,
        }
    ]
    assert config["kms_keys"] == [] and config["secrets"] == []


def test_minimal_config_gets_every_default():
    minimal = {
        "name": "demo",
        "environment": "development",
        "region": "eu-west-1",
        "availability_zones": ["eu-west-1a"],
        "network": {"cidr": "10.20.0.0/16"},
    }
    assert ok(minimal) == {
        "name": "demo",
        "environment": "development",
        "region": "eu-west-1",
        "dr_region": None,
        "availability_zones": ["eu-west-1a"],
        "tags": {},
        "network": {
            "cidr": "10.20.0.0/16",
            "subnets": {
                "private": [{"az": "eu-west-1a", "cidr": "10.20.0.0/20"}],
                "public": [{"az": "eu-west-1a", "cidr": "10.20.16.0/24"}],
                "database": [{"az": "eu-west-1a", "cidr": "10.20.17.0/24"}],
            },
            "nat": "single",
            "alb_ingress_cidrs": ["0.0.0.0/0"],
            "flow_logs": {"enabled": True, "traffic_type": "ALL", "retention_days": 30},
            "s3_endpoint": True,
            "dr": None,
        },
        "eks": None,
        "databases": {},
        "caches": {},
        "kms_keys": [],
        "buckets": [],
        "secrets": [],
        "monitoring": None,
        "dr": {
            "rpo_seconds": 300,
            "rto_seconds": 3600,
            "databases": [],
            "fence": True,
            "reprotect": True,
            "reprotect_wait": True,
            "multi_az_after_promotion": False,
            "backup_retention": None,
            "check_pending_maintenance": True,
            "wait_timeout": 3600,
            "poll_interval": 5,
            "route53": None,
            "repoint_apps": True,
            "drill": {"namespace": "plinth-dr-drill", "instance_class": None},
            "report_dir": "reports",
        },
        "apps": [],
        "apps_prune": False,
    }


def test_empty_eks_section_gets_defaults():
    eks = ok(valid(eks={}))["eks"]
    assert eks == {
        "version": "1.33",
        "endpoint_public_access": True,
        "endpoint_private_access": True,
        "public_access_cidrs": ["0.0.0.0/0"],
        "log_types": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
        "addons": ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"],
        "node_groups": [],
    }


@pytest.mark.parametrize(
    ("environment", "nat"),
    [("production", "per_az"), ("staging", "single"), ("development", "single")],
)
def test_nat_default_depends_on_environment(environment, nat):
    assert ok(valid(environment=environment))["network"]["nat"] == nat


def test_explicit_nat_is_honoured_in_production():
    config = valid()
    config["network"]["nat"] = "none"
    assert ok(config)["network"]["nat"] == "none"


def test_prefix_overrides_are_honoured():
    config = valid()
    config["network"]["subnets"] = {"private": {"prefix": 19}, "public": {"prefix": 26}}
    assert ok(config)["network"]["subnets"] == {
        "private": plan("10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"),
        "public": plan("10.0.96.0/26", "10.0.96.64/26", "10.0.96.128/26"),
        # The next free /24 after the last public /26 starts a new /24 boundary.
        "database": plan("10.0.97.0/24", "10.0.98.0/24", "10.0.99.0/24"),
    }


def test_explicit_cidrs_are_honoured_and_planned_tiers_avoid_them():
    config = valid()
    config["network"]["subnets"] = {
        "public": {"cidrs": ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]},
        "database": {"cidrs": ["10.0.200.0/24", "10.0.201.0/24", "10.0.202.0/24"]},
    }
    subnets = ok(config)["network"]["subnets"]
    assert subnets["public"] == plan("10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24")
    assert subnets["database"] == plan("10.0.200.0/24", "10.0.201.0/24", "10.0.202.0/24")
    # 10.0.0.0/20 holds the explicit public subnets, so private starts at the next free /20.
    assert subnets["private"] == plan("10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20")


def test_empty_cidrs_list_counts_as_not_given():
    config = valid()
    config["network"]["subnets"] = {"public": {"prefix": 24, "cidrs": []}}
    assert ok(config)["network"]["subnets"]["public"] == plan(
        "10.0.48.0/24", "10.0.49.0/24", "10.0.50.0/24"
    )


def test_small_vpc_uses_capped_default_prefixes():
    subnets = ok(valid(network={"cidr": "10.0.0.0/24"}))["network"]["subnets"]
    assert subnets["private"] == plan("10.0.0.0/28", "10.0.0.16/28", "10.0.0.32/28")
    assert subnets["public"] == plan("10.0.0.48/28", "10.0.0.64/28", "10.0.0.80/28")
    assert subnets["database"] == plan("10.0.0.96/28", "10.0.0.112/28", "10.0.0.128/28")


def test_six_azs_fit_a_slash_16():
    zones = [f"us-east-1{letter}" for letter in "abcdef"]
    subnets = ok(valid(availability_zones=zones))["network"]["subnets"]
    assert [s["cidr"] for s in subnets["private"]][-1] == "10.0.80.0/20"
    assert [s["cidr"] for s in subnets["database"]][-1] == "10.0.107.0/24"


def test_input_is_not_modified():
    config = valid()
    before = copy.deepcopy(config)
    ok(config)
    assert config == before


def test_null_dr_region_means_none():
    assert ok(valid(dr_region=None))["dr_region"] is None


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=[case["description"] for case in BAD_CONFIGS])
def test_bad_config(case):
    _config, errors = validate_platform(apply_patch(VALID, case))
    matching = [e for e in errors if e.startswith(case["path"] + ": ")]
    assert matching, f"no error for {case['path']} in {errors}"
    assert any(case["match"] in e for e in matching), f"{case['match']!r} not in {matching}"
    # One mistake, one message: rules skip values that already failed, so nothing cascades.
    assert len(errors) == 1, errors


def test_at_least_twenty_bad_configs():
    assert len(BAD_CONFIGS) >= 20


def test_error_message_format():
    _config, errors = validate_platform(valid(network={"cidr": "10.0.0.0/33"}))
    assert errors == ["platform.network.cidr: '10.0.0.0/33' is not a valid CIDR"]


def test_all_errors_are_collected():
    config = valid(name="Bad Name", environment="prod", typo=1)
    config["network"]["nat"] = "always"
    config["network"]["flow_logs"]["retention_days"] = 45
    config["eks"]["node_groups"][0]["min_size"] = 11
    config["eks"]["node_groups"][1]["taints"][0]["effect"] = "NoSchedule"
    config["availability_zones"] = ["us-east-1a", "us-west-2b", "us-east-1c"]
    _config, errors = validate_platform(config)
    paths = {error.split(": ", 1)[0] for error in errors}
    assert paths == {
        "platform.typo",
        "platform.name",
        "platform.environment",
        "platform.availability_zones[1]",
        "platform.network.nat",
        "platform.network.flow_logs.retention_days",
        "platform.eks.node_groups[0].min_size",
        "platform.eks.node_groups[1].taints[0].effect",
    }
    assert len(errors) == len(paths)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "platform: is required"),
        ("name: x", "platform: 'name: x' is a string, expected a mapping"),
        ([], "platform: [] is a list, expected a mapping"),
    ],
)
def test_platform_must_be_a_mapping(raw, expected):
    config, errors = validate_platform(raw)
    assert config == {}
    assert errors[0].startswith(expected)


def test_result_shape():
    good = result_for(VALID)
    assert set(good) == {"changed", "config", "subnets"}
    assert good["changed"] is False
    assert good["subnets"] is good["config"]["network"]["subnets"]
    bad = result_for(valid(region="nowhere", name="X"))
    assert set(bad) == {"failed", "changed", "msg", "errors"}
    assert bad["failed"] is True and bad["changed"] is False
    assert bad["msg"].splitlines() == [
        "The environment config is invalid (2 errors):",
        *bad["errors"],
    ]


GARBAGE = [None, True, 0, -1, 1.5, "", "x", "10.0.0.0/29", [], [None], {}, {"a": 1}, 99999]


def _leaf_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    if isinstance(node, dict):
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    else:
        return [prefix]
    return [prefix] + [p for key, sub in children for p in _leaf_paths(sub, (*prefix, key))]


def test_garbage_anywhere_is_reported_never_raised():
    """validate_platform reports errors, it never raises: replace random values with garbage."""
    rng = random.Random(20261123)
    paths = [path for path in _leaf_paths(VALID) if path]
    for _round in range(200):
        config = copy.deepcopy(VALID)
        for path in rng.sample(paths, 3):
            # An earlier replacement may have removed this path's parents: then skip it.
            with contextlib.suppress(KeyError, IndexError, TypeError):
                node: Any = config
                for step in path[:-1]:
                    node = node[step]
                node[path[-1]] = copy.deepcopy(rng.choice(GARBAGE))
        _config, errors = validate_platform(config)
        assert all(error.startswith("platform") for error in errors), errors


def test_storage_sections_fill_defaults():
    config = ok(
        valid(
            kms_keys=[{"name": "analytics", "description": "Analytics data"}],
            buckets=[
                {
                    "name": "raw",
                    "kms_key": "analytics",
                    "replicate_to_dr": True,
                    "lifecycle": [
                        {
                            "id": "tiers",
                            "transitions": [
                                {"days": 365, "storage_class": "DEEP_ARCHIVE"},
                                {"days": 30, "storage_class": "STANDARD_IA"},
                                {"days": 90, "storage_class": "GLACIER_IR"},
                            ],
                            "noncurrent_expiration_days": 30,
                        }
                    ],
                }
            ],
            secrets=[{"name": "db/master", "generate": {}}, {"name": "api", "value_from": "x"}],
        )
    )
    assert config["kms_keys"] == [
        {"name": "analytics", "description": "Analytics data", "rotation": True}
    ]
    rule = config["buckets"][0]["lifecycle"][0]
    assert rule["prefix"] == "" and rule["expiration_days"] is None
    assert rule["abort_incomplete_multipart_days"] == 7
    assert config["secrets"][0]["generate"] == {"length": 32, "exclude_punctuation": False}
    assert config["secrets"][0]["kms_key"] == "storage" and config["secrets"][1]["generate"] is None


def test_monitoring_defaults():
    monitoring = ok(valid(monitoring={}))["monitoring"]
    assert monitoring["topics"] == {
        severity: {"email": [], "https": []} for severity in ("critical", "warning", "info")
    }
    assert monitoring["sla"] == {
        "availability": 99.9,
        "p95_latency_ms": 100,
        "error_rate_percent": 0.1,
    }
    assert monitoring["alarms"]["rds_cpu_percent"] == 80
    assert monitoring["log_retention_days"] == 30
    assert monitoring["in_cluster"] is True  # VALID has an eks section
    assert monitoring["budgets"] == []


def test_monitoring_budget_defaults_to_the_reference_thresholds():
    budgets = ok(valid(monitoring={"budgets": [{"limit_usd": 5000}]}))["monitoring"]["budgets"]
    assert budgets == [
        {
            "name": "monthly",
            "limit_usd": 5000,
            "time_unit": "MONTHLY",
            "thresholds": [
                {"percent": 50, "type": "FORECASTED", "severity": "info"},
                {"percent": 80, "type": "FORECASTED", "severity": "warning"},
                {"percent": 90, "type": "ACTUAL", "severity": "critical"},
            ],
        }
    ]


def test_monitoring_error_rate_follows_availability():
    sla = ok(valid(monitoring={"sla": {"availability": 99.5}}))["monitoring"]["sla"]
    assert sla == {"availability": 99.5, "p95_latency_ms": 100, "error_rate_percent": 0.5}


def with_dr_replica(**network_dr: Any) -> dict[str, Any]:
    config = valid(databases={"main": {"engine": "postgres", "dr_replica": {"enabled": True}}})
    if network_dr:
        config["network"]["dr"] = network_dr
    return config


def test_dr_network_defaults_next_to_the_primary_in_the_dr_region():
    dr = ok(with_dr_replica())["network"]["dr"]
    assert dr == {
        "cidr": "10.1.0.0/16",
        "availability_zones": ["us-west-2a", "us-west-2b", "us-west-2c"],
        "nat": "none",
        "flow_logs": {"enabled": True, "traffic_type": "ALL", "retention_days": 30},
        "alb_ingress_cidrs": ["0.0.0.0/0"],
        "s3_endpoint": True,
        "subnets": {
            "private": [
                {"az": "us-west-2a", "cidr": "10.1.0.0/20"},
                {"az": "us-west-2b", "cidr": "10.1.16.0/20"},
                {"az": "us-west-2c", "cidr": "10.1.32.0/20"},
            ],
            "public": [
                {"az": "us-west-2a", "cidr": "10.1.48.0/24"},
                {"az": "us-west-2b", "cidr": "10.1.49.0/24"},
                {"az": "us-west-2c", "cidr": "10.1.50.0/24"},
            ],
            "database": [
                {"az": "us-west-2a", "cidr": "10.1.51.0/24"},
                {"az": "us-west-2b", "cidr": "10.1.52.0/24"},
                {"az": "us-west-2c", "cidr": "10.1.53.0/24"},
            ],
        },
    }


def test_dr_network_honours_given_values():
    config = with_dr_replica(cidr="172.20.0.0/20", availability_zones=["us-west-2b", "us-west-2d"])
    dr = ok(config)["network"]["dr"]
    assert dr["cidr"] == "172.20.0.0/20"
    assert [s["az"] for s in dr["subnets"]["database"]] == ["us-west-2b", "us-west-2d"]
    assert all(s["cidr"].startswith("172.20.") for s in dr["subnets"]["database"])


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(valid(), id="no DR replica"),
        pytest.param(
            valid(dr_region=None, network={"cidr": "10.0.0.0/16", "dr": {"cidr": "10.9.0.0/16"}}),
            id="no dr_region",
        ),
    ],
)
def test_no_dr_network_without_a_dr_replica(config):
    assert ok(config)["network"]["dr"] is None


@pytest.mark.parametrize(
    ("network_dr", "path", "match"),
    [
        ({"cidr": "10.0.128.0/17"}, "platform.network.dr.cidr", "overlaps platform.network.cidr"),
        ({"cidr": "10.0.0.0/8"}, "platform.network.dr.cidr", "expected /16../24"),
        (
            {"availability_zones": ["us-west-2a", "us-east-1b"]},
            "platform.network.dr.availability_zones[1]",
            "is not in platform.dr_region 'us-west-2'",
        ),
        ({"nat": "always"}, "platform.network.dr.nat", "one of"),
        ({"vpc": "x"}, "platform.network.dr.vpc", "unknown key"),
    ],
)
def test_bad_dr_network_is_refused_naming_the_key(network_dr, path, match):
    _config, errors = validate_platform(with_dr_replica(**network_dr))
    assert len(errors) == 1, errors
    assert errors[0].startswith(path + ": ") and match in errors[0], errors
