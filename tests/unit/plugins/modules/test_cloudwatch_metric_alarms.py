"""Unit tests for plinth.platform.cloudwatch_metric_alarms (moto in-process)."""

from __future__ import annotations

import boto3
from ansible_collections.plinth.platform.plugins.modules import cloudwatch_metric_alarms

REGION = "us-east-1"
PREFIX = "demo-production-"
TOPIC = "arn:aws:sns:us-east-1:123456789012:demo-production-alerts-warning"


def cpu(threshold: float = 80, **changes) -> dict:
    alarm = {
        "name": PREFIX + "rds-main-cpu",
        "description": "CPU above threshold",
        "namespace": "AWS/RDS",
        "metric_name": "CPUUtilization",
        "dimensions": {"DBInstanceIdentifier": "demo-production-main"},
        "statistic": "Average",
        "period": 300,
        "evaluation_periods": 3,
        "threshold": threshold,
        "comparison_operator": "GreaterThanThreshold",
        "alarm_actions": [TOPIC],
        "ok_actions": [TOPIC],
    }
    alarm.update(changes)
    return alarm


def rate() -> dict:
    def stat(metric_id: str, metric: str) -> dict:
        return {
            "id": metric_id,
            "metric_stat": {
                "metric": {
                    "namespace": "AWS/ApplicationELB",
                    "metric_name": metric,
                    "dimensions": [{"name": "LoadBalancer", "value": "app/demo/0123"}],
                },
                "period": 300,
                "stat": "Sum",
            },
            "return_data": False,
        }

    return {
        "name": PREFIX + "alb-api-5xx-rate",
        "metrics": [
            stat("errors", "HTTPCode_Target_5XX_Count"),
            stat("requests", "RequestCount"),
            {"id": "rate", "expression": "100 * errors / requests", "return_data": True},
        ],
        "evaluation_periods": 3,
        "threshold": 0.1,
        "comparison_operator": "GreaterThanThreshold",
        "treat_missing_data": "notBreaching",
    }


def args(*alarms: dict, purge: bool = False) -> dict:
    return {"region": REGION, "prefix": PREFIX, "purge": purge, "alarms": list(alarms)}


def described() -> dict:
    client = boto3.client("cloudwatch", region_name=REGION)
    return {a["AlarmName"]: a for a in client.describe_alarms()["MetricAlarms"]}


def test_check_mode_on_empty_account_reports_and_writes_nothing(aws_moto, run_module):
    result = run_module(cloudwatch_metric_alarms, args(cpu(), rate()), check_mode=True)
    assert result["changed"]
    assert result["created"] == [PREFIX + "rds-main-cpu", PREFIX + "alb-api-5xx-rate"]
    assert described() == {}


def test_create_then_rerun_is_unchanged(aws_moto, run_module):
    result = run_module(cloudwatch_metric_alarms, args(cpu(), rate()))
    assert result["changed"] and len(result["created"]) == 2
    alarms = described()
    assert alarms[PREFIX + "rds-main-cpu"]["Threshold"] == 80.0
    assert alarms[PREFIX + "rds-main-cpu"]["AlarmActions"] == [TOPIC]
    assert [m["Id"] for m in alarms[PREFIX + "alb-api-5xx-rate"]["Metrics"]] == [
        "errors",
        "requests",
        "rate",
    ]
    again = run_module(cloudwatch_metric_alarms, args(cpu(), rate()))
    assert not again["changed"], again
    assert again["created"] == again["updated"] == again["deleted"] == []


def test_changed_threshold_is_put_and_diffed(aws_moto, run_module):
    run_module(cloudwatch_metric_alarms, args(cpu()))
    result = run_module(cloudwatch_metric_alarms, args(cpu(threshold=90)), diff=True)
    assert result["updated"] == [PREFIX + "rds-main-cpu"]
    assert result["diff"]["before"] == {PREFIX + "rds-main-cpu": {"threshold": 80.0}}
    assert result["diff"]["after"] == {PREFIX + "rds-main-cpu": {"threshold": 90.0}}
    assert described()[PREFIX + "rds-main-cpu"]["Threshold"] == 90.0


def test_purge_deletes_only_unlisted_alarms_under_the_prefix(aws_moto, run_module):
    client = boto3.client("cloudwatch", region_name=REGION)
    client.put_metric_alarm(
        AlarmName="someone-else-cpu",
        Namespace="AWS/EC2",
        MetricName="CPUUtilization",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    run_module(cloudwatch_metric_alarms, args(cpu(), rate()))
    kept = run_module(cloudwatch_metric_alarms, args(cpu()))
    assert not kept["changed"]  # purge is off by default
    result = run_module(cloudwatch_metric_alarms, args(cpu(), purge=True))
    assert result["deleted"] == [PREFIX + "alb-api-5xx-rate"]
    assert set(described()) == {PREFIX + "rds-main-cpu", "someone-else-cpu"}


def test_bad_alarm_fails_before_any_call(aws_moto, run_module):
    outside = run_module(cloudwatch_metric_alarms, args(cpu(name="other-cpu")))
    assert outside["failed"] and "does not start with prefix" in outside["msg"]
    both = run_module(cloudwatch_metric_alarms, args(cpu(metrics=rate()["metrics"])))
    assert both["failed"] and "either metric_name or metrics" in both["msg"]
    twice = run_module(cloudwatch_metric_alarms, args(cpu(), cpu()))
    assert twice["failed"] and "given twice" in twice["msg"]
    assert described() == {}


DR_REGION = "us-west-2"


def described_in(region: str) -> dict:
    client = boto3.client("cloudwatch", region_name=region)
    return {a["AlarmName"]: a for a in client.describe_alarms()["MetricAlarms"]}


def test_alarms_of_two_regions_in_one_run(aws_moto, run_module, api_calls):
    calls = api_calls("cloudwatch")
    dr_key = f"{DR_REGION}:{PREFIX}rds-main-cpu"
    two = args(cpu(), rate(), cpu(region=DR_REGION), purge=True)

    check = run_module(cloudwatch_metric_alarms, two, check_mode=True, diff=True)
    assert check["changed"] and sorted(check["created"]) == sorted(
        [PREFIX + "rds-main-cpu", PREFIX + "alb-api-5xx-rate", dr_key]
    )
    assert calls == ["DescribeAlarms", "DescribeAlarms"]  # one per region, no writes
    assert described_in(REGION) == {} and described_in(DR_REGION) == {}

    assert run_module(cloudwatch_metric_alarms, two)["changed"]
    assert set(described_in(REGION)) == {PREFIX + "rds-main-cpu", PREFIX + "alb-api-5xx-rate"}
    assert set(described_in(DR_REGION)) == {PREFIX + "rds-main-cpu"}

    calls.clear()
    again = run_module(cloudwatch_metric_alarms, two, diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    assert set(again["alarms"]) == {PREFIX + "rds-main-cpu", PREFIX + "alb-api-5xx-rate", dr_key}
    assert calls == ["DescribeAlarms", "DescribeAlarms"]

    # The DR alarm alone changes; then, no longer listed but its region still managed, it goes.
    moved = run_module(cloudwatch_metric_alarms, args(cpu(), rate(), cpu(90, region=DR_REGION)))
    assert moved["updated"] == [dr_key]
    assert described_in(DR_REGION)[PREFIX + "rds-main-cpu"]["Threshold"] == 90.0
    purged = dict(args(cpu(), rate(), purge=True), regions=[REGION, DR_REGION])
    result = run_module(cloudwatch_metric_alarms, purged)
    assert result["deleted"] == [dr_key]
    assert described_in(DR_REGION) == {}
    assert set(described_in(REGION)) == {PREFIX + "rds-main-cpu", PREFIX + "alb-api-5xx-rate"}


def test_region_outside_regions_or_twice_fails_before_any_call(aws_moto, run_module, api_calls):
    calls = api_calls("cloudwatch")
    outside = dict(args(cpu(region=DR_REGION)), regions=[REGION])
    result = run_module(cloudwatch_metric_alarms, outside)
    assert result["failed"] and "is not in regions" in result["msg"]
    twice = run_module(cloudwatch_metric_alarms, args(cpu(region=DR_REGION), cpu(region=DR_REGION)))
    assert twice["failed"] and f"given twice in {DR_REGION}" in twice["msg"]
    assert run_module(cloudwatch_metric_alarms, args(cpu(), cpu(region=DR_REGION)))["changed"]
    assert calls.count("PutMetricAlarm") == 2
    assert calls[:2] == ["DescribeAlarms", "PutMetricAlarm"]
