"""Unit tests for plinth.platform.cloudwatch_dashboard (moto in-process)."""

from __future__ import annotations

import json

import boto3
from ansible_collections.plinth.platform.plugins.modules import cloudwatch_dashboard

REGION = "us-east-1"
NAME = "demo-production"


def body(title: str = "RDS CPU") -> dict:
    return {
        "widgets": [
            {
                "type": "metric",
                "x": 0,
                "y": 0,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": REGION,
                    "metrics": [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "demo"]],
                },
            }
        ]
    }


def stored() -> dict:
    client = boto3.client("cloudwatch", region_name=REGION)
    return json.loads(client.get_dashboard(DashboardName=NAME)["DashboardBody"])


def names() -> list[str]:
    client = boto3.client("cloudwatch", region_name=REGION)
    return [d["DashboardName"] for d in client.list_dashboards()["DashboardEntries"]]


def test_check_mode_creates_nothing(aws_moto, run_module):
    result = run_module(cloudwatch_dashboard, {"name": NAME, "body": body()}, check_mode=True)
    assert result["changed"]
    assert names() == []


def test_create_rerun_and_key_order(aws_moto, run_module):
    result = run_module(cloudwatch_dashboard, {"name": NAME, "body": body()})
    assert result["changed"]
    assert result["dashboard"]["body"] == body()
    assert stored() == body()
    # The same content as a JSON string with other key order and spacing is no change.
    text = json.dumps(body(), sort_keys=True, indent=4)
    again = run_module(cloudwatch_dashboard, {"name": NAME, "body": text})
    assert not again["changed"]


def test_body_change_is_detected_and_diffed(aws_moto, run_module):
    run_module(cloudwatch_dashboard, {"name": NAME, "body": body()})
    result = run_module(cloudwatch_dashboard, {"name": NAME, "body": body("DB CPU")}, diff=True)
    assert result["changed"]
    assert '"title": "RDS CPU"' in result["diff"]["before"]
    assert '"title": "DB CPU"' in result["diff"]["after"]
    assert stored()["widgets"][0]["properties"]["title"] == "DB CPU"


def test_check_mode_reports_a_change_without_putting_it(aws_moto, run_module):
    run_module(cloudwatch_dashboard, {"name": NAME, "body": body()})
    result = run_module(
        cloudwatch_dashboard, {"name": NAME, "body": body("DB CPU")}, check_mode=True, diff=True
    )
    assert result["changed"] and '"DB CPU"' in result["diff"]["after"]
    assert stored() == body()


def test_absent(aws_moto, run_module):
    run_module(cloudwatch_dashboard, {"name": NAME, "body": body()})
    assert run_module(cloudwatch_dashboard, {"name": NAME, "state": "absent"})["changed"]
    assert names() == []
    assert not run_module(cloudwatch_dashboard, {"name": NAME, "state": "absent"})["changed"]


def test_bad_body_is_refused(aws_moto, run_module):
    result = run_module(cloudwatch_dashboard, {"name": NAME, "body": "{not json"})
    assert result["failed"] and "not valid JSON" in result["msg"]
    result = run_module(cloudwatch_dashboard, {"name": NAME, "body": {"widgets": {}}})
    assert result["failed"] and "'widgets' is a list" in result["msg"]
    assert names() == []
