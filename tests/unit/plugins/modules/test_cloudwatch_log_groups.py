"""Unit tests for plinth.platform.cloudwatch_log_groups, run against moto's in-process mock_aws."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import cloudwatch_log_groups

REGION = "us-east-1"
TAGS = {"Environment": "test"}
API, WORKER, EKS = "/plinth/t/apps/api", "/plinth/t/apps/worker", "/aws/eks/t/cluster"
ARGS = {
    "log_groups": [
        {"name": API, "retention": 90, "tags": TAGS},
        {"name": WORKER, "retention": 90, "tags": TAGS},
        {"name": EKS, "retention": 30, "tags": TAGS},
    ]
}


@pytest.fixture
def logs(aws_moto: None) -> Any:
    return boto3.client("logs", region_name=REGION)


@pytest.fixture
def calls(api_calls: Any) -> list[str]:
    return api_calls("logs")


def group(logs: Any, name: str) -> dict[str, Any]:
    (found,) = [
        g
        for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        if g["logGroupName"] == name
    ]
    return found


def tags(logs: Any, name: str) -> dict[str, str]:
    arn = group(logs, name)["arn"].removesuffix(":*")
    return logs.list_tags_for_resource(resourceArn=arn)["tags"]


def test_check_mode_on_empty_account_reports_without_writing(run_module, logs, calls):
    result = run_module(cloudwatch_log_groups, ARGS, check_mode=True, diff=True)
    assert result["changed"] and all(g["changed"] for g in result["log_groups"])
    assert result["diff"]["after"][API] == {"retention": 90, "tags": TAGS}
    assert set(calls) == {"DescribeLogGroups"} and len(calls) == 2  # two directories
    assert logs.describe_log_groups()["logGroups"] == []


def test_creates_then_a_rerun_reads_once_per_directory_and_group(run_module, logs, calls):
    result = run_module(cloudwatch_log_groups, ARGS)
    assert result["changed"]
    for name, days in ((API, 90), (WORKER, 90), (EKS, 30)):
        assert group(logs, name)["retentionInDays"] == days
        assert tags(logs, name) == TAGS
    assert result["log_groups"][0]["arn"].endswith(f"log-group:{API}")

    calls.clear()
    again = run_module(cloudwatch_log_groups, ARGS, diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    assert sorted(calls) == sorted(["DescribeLogGroups"] * 2 + ["ListTagsForResource"] * 3)


def test_drift_is_reported_in_check_mode_then_corrected(run_module, logs):
    run_module(cloudwatch_log_groups, ARGS)
    logs.put_retention_policy(logGroupName=API, retentionInDays=1)
    arn = group(logs, API)["arn"].removesuffix(":*")
    logs.tag_resource(resourceArn=arn, tags={"Extra": "x"})

    check = run_module(cloudwatch_log_groups, ARGS, check_mode=True, diff=True)
    assert check["changed"]
    assert check["diff"]["before"][API] == {"retention": 1, "tags": dict(TAGS, Extra="x")}
    assert check["diff"]["after"][API] == {"retention": 90, "tags": TAGS}
    assert group(logs, API)["retentionInDays"] == 1

    assert run_module(cloudwatch_log_groups, ARGS)["changed"]
    assert group(logs, API)["retentionInDays"] == 90 and tags(logs, API) == TAGS
    assert not run_module(cloudwatch_log_groups, ARGS)["changed"]


def test_absent_deletes_once(run_module, logs):
    run_module(cloudwatch_log_groups, ARGS)
    args = {"log_groups": [{"name": API}, {"name": "/plinth/t/apps/gone"}], "state": "absent"}
    result = run_module(cloudwatch_log_groups, args)
    assert [g["changed"] for g in result["log_groups"]] == [True, False]
    names = {g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]}
    assert names == {WORKER, EKS}
    assert not run_module(cloudwatch_log_groups, args)["changed"]


def test_duplicate_names_fail_before_any_call(run_module, logs, calls):
    result = run_module(cloudwatch_log_groups, {"log_groups": [{"name": API}, {"name": API}]})
    assert result["failed"] and f"Duplicate log group names: {API}" in result["msg"]
    assert calls == []
