"""The platform.dr section: defaults, and bad values refused with their key path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible_collections.plinth.platform.plugins.module_utils.config import validate_platform

BASE: dict[str, Any] = {
    "name": "plinth",
    "environment": "production",
    "region": "us-east-1",
    "dr_region": "us-west-2",
    "availability_zones": ["us-east-1a", "us-east-1b"],
    "network": {"cidr": "10.42.0.0/16"},
    "databases": {
        "main": {"dr_replica": {"enabled": True}},
        "reports": {},
    },
}


def test_defaults() -> None:
    config, errors = validate_platform(copy.deepcopy(BASE))
    assert errors == []
    assert config["dr"] == {
        "rpo_seconds": 300,
        "rto_seconds": 3600,
        "databases": ["main"],  # only databases with a DR replica
        "fence": True,
        "reprotect": True,
        "reprotect_wait": True,
        "multi_az_after_promotion": True,  # production
        "backup_retention": None,
        "check_pending_maintenance": True,
        "wait_timeout": 3600,
        "poll_interval": 5,
        "route53": None,
        "repoint_apps": True,
        "drill": {"namespace": "plinth-dr-drill", "instance_class": None},
        "report_dir": "reports",
    }


def test_route53_defaults() -> None:
    platform = dict(copy.deepcopy(BASE), dr={"route53": {"zone": "db.example.com"}})
    config, errors = validate_platform(platform)
    assert errors == []
    assert config["dr"]["route53"] == {
        "zone": "db.example.com",
        "private_zone": False,
        "records": {},
        "ttl": 60,
        "mode": "failover",
        "health_check": {
            "enabled": True,
            "type": "TCP",
            "port": None,
            "resource_path": None,
            "request_interval": 30,
            "failure_threshold": 3,
        },
    }


@pytest.mark.parametrize(
    ("dr", "path", "fragment"),
    [
        ({"rpo_seconds": 0}, "platform.dr.rpo_seconds", "expected at least 1"),
        ({"rto_seconds": "1h"}, "platform.dr.rto_seconds", "expected an integer"),
        ({"databases": ["reports"]}, "platform.dr.databases[0]", "not a database with dr_replica"),
        ({"route53": {"zone": "db.example.com", "mode": "geo"}}, "platform.dr.route53.mode", "geo"),
        ({"route53": {"ttl": 60}}, "platform.dr.route53.zone", "is required"),
        ({"route53": {"zone": "not a zone"}}, "platform.dr.route53.zone", "DNS zone name"),
        (
            {"route53": {"zone": "db.example.com", "records": {"reports": "r.db.example.com"}}},
            "platform.dr.route53.records.reports",
            "names no database",
        ),
        (
            {"route53": {"zone": "db.example.com", "health_check": {"request_interval": 5}}},
            "platform.dr.route53.health_check.request_interval",
            "not one of",
        ),
        ({"drill": {"namespace": "Drill_NS"}}, "platform.dr.drill.namespace", "DNS-1123"),
        ({"backup_retention": 0}, "platform.dr.backup_retention", "between 1 and 35"),
        ({"poll_interval": 0}, "platform.dr.poll_interval", "between 1 and 60"),
        ({"reprotect_wait": "later"}, "platform.dr.reprotect_wait", "boolean"),
        ({"failover": True}, "platform.dr.failover", "unknown key"),
    ],
)
def test_bad_dr_config_names_the_key(dr: dict, path: str, fragment: str) -> None:
    _config, errors = validate_platform(dict(copy.deepcopy(BASE), dr=dr))
    assert any(e.startswith(path + ":") and fragment in e for e in errors), errors
