"""route53_dr_records against moto in-process: zone, health checks and one change batch, flipped
and flipped back, idempotent, in check mode."""

from __future__ import annotations

from typing import Any

import boto3
from ansible_collections.plinth.platform.plugins.modules import route53_dr_records

WEST = {"address": "x-main-dr.abc.us-west-2.rds.amazonaws.com", "port": 5432, "region": "us-west-2"}
EAST = {"address": "x-main.abc.us-east-1.rds.amazonaws.com", "port": 5432, "region": "us-east-1"}


def _args(writer: dict, standby: dict | None, **extra: Any) -> dict[str, Any]:
    record = {"name": "main", "record": "main.db.example.com", "writer": writer, "standby": standby}
    return {"zone": "db.example.com", "ttl": 60, "records": [record], "poll_interval": 1, **extra}


def _records() -> dict[str, dict[str, Any]]:
    route53 = boto3.client("route53")
    zone = route53.list_hosted_zones_by_name(DNSName="db.example.com.")["HostedZones"][0]["Id"]
    sets = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {s.get("SetIdentifier", "-"): s for s in sets if s["Type"] == "CNAME"}


def test_check_mode_on_nothing_plans_everything(aws_moto: None, run_module: Any) -> None:
    result = run_module(route53_dr_records, _args(WEST, EAST), check_mode=True)
    assert result["changed"] and result["zone_id"] is None
    assert result["plan"] == [
        "create hosted zone db.example.com.",
        "create health check main.db.example.com-us-west-2",
        "create health check main.db.example.com-us-east-1",
        "upsert main.db.example.com. (main-primary), main.db.example.com. (main-secondary)",
    ]
    assert boto3.client("route53").list_hosted_zones()["HostedZones"] == []


def test_failover_flip_and_back_in_one_batch_each(aws_moto: None, run_module: Any) -> None:
    result = run_module(route53_dr_records, _args(WEST, EAST))
    assert result["changed"] and result["changed_records"] == {"main": True}
    checks = result["health_checks"]["main"]
    records = _records()
    assert records["main-primary"]["Failover"] == "PRIMARY"
    assert records["main-primary"]["ResourceRecords"] == [{"Value": WEST["address"]}]
    assert records["main-primary"]["HealthCheckId"] == checks["writer"]
    assert records["main-secondary"]["ResourceRecords"] == [{"Value": EAST["address"]}]
    assert records["main-secondary"]["HealthCheckId"] == checks["standby"]

    again = run_module(route53_dr_records, _args(WEST, EAST), check_mode=True)
    assert (
        not again["changed"]
        and again["changes"] == []
        and again["health_checks"] == {"main": checks}
    )

    back = run_module(route53_dr_records, _args(EAST, WEST), diff=True)
    assert back["changed"] and len(back["changes"]) == 2
    assert back["diff"]["before"][0]["ResourceRecords"] == [{"Value": WEST["address"]}]
    records = _records()
    assert records["main-primary"]["ResourceRecords"] == [{"Value": EAST["address"]}]
    # The same two health checks, swapped between the records.
    assert records["main-primary"]["HealthCheckId"] == checks["standby"]
    assert len(boto3.client("route53").list_health_checks()["HealthChecks"]) == 2


def test_weighted_and_cname(aws_moto: None, run_module: Any) -> None:
    run_module(route53_dr_records, _args(WEST, EAST, mode="weighted"))
    records = _records()
    assert records["main-us-west-2"]["Weight"] == 100 and records["main-us-east-1"]["Weight"] == 0
    plain = _args(WEST, None, mode="cname", zone="other.example.com")
    plain["records"][0]["record"] = "main.other.example.com"
    result = run_module(route53_dr_records, plain)
    assert result["changed"] and result["health_checks"] == {}
    assert [c["ResourceRecordSet"].get("SetIdentifier") for c in result["changes"]] == [None]


def test_missing_private_zone_fails(aws_moto: None, run_module: Any) -> None:
    result = run_module(route53_dr_records, _args(WEST, EAST, private_zone=True))
    assert result["failed"] and "Private hosted zone db.example.com. not found" in result["msg"]
