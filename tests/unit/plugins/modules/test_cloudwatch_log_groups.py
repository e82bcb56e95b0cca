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


DR_REGION = "us-west-2"


@pytest.fixture
def calls_by_region(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(region, operation) of every CloudWatch Logs call from then on."""
    import botocore.client

    made: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "logs":
            made.append((self.meta.region_name, operation))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return made


def test_one_run_makes_the_groups_of_two_regions(run_module, logs, calls_by_region):
    dr_logs = boto3.client("logs", region_name=DR_REGION)
    args = {
        "log_groups": [
            {"name": API, "retention": 90, "tags": TAGS},
            {"name": API, "retention": 30, "region": DR_REGION},
            {"name": WORKER, "retention": 90, "tags": TAGS},
        ]
    }
    dr_api = f"{DR_REGION}:{API}"

    check = run_module(cloudwatch_log_groups, args, check_mode=True, diff=True)
    assert check["changed"] and [g["region"] for g in check["log_groups"]] == [
        REGION,
        DR_REGION,
        REGION,
    ]
    assert check["diff"]["after"] == {
        API: {"retention": 90, "tags": TAGS},
        dr_api: {"retention": 30, "tags": {}},
        WORKER: {"retention": 90, "tags": TAGS},
    }
    # One DescribeLogGroups per directory per region, nothing else.
    assert sorted(calls_by_region) == sorted(
        [(REGION, "DescribeLogGroups"), (DR_REGION, "DescribeLogGroups")]
    )
    assert logs.describe_log_groups()["logGroups"] == []
    assert dr_logs.describe_log_groups()["logGroups"] == []

    result = run_module(cloudwatch_log_groups, args)
    primary, dr, worker = result["log_groups"]
    assert result["changed"] and primary["changed"] and dr["changed"] and worker["changed"]
    assert f":{REGION}:" in primary["arn"] and f":{DR_REGION}:" in dr["arn"]
    assert group(logs, API)["retentionInDays"] == 90 and tags(logs, API) == TAGS
    assert group(dr_logs, API)["retentionInDays"] == 30 and tags(dr_logs, API) == {}
    assert [g["logGroupName"] for g in dr_logs.describe_log_groups()["logGroups"]] == [API]

    calls_by_region.clear()
    again = run_module(cloudwatch_log_groups, args, diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    assert [g["arn"] for g in again["log_groups"]] == [primary["arn"], dr["arn"], worker["arn"]]
    assert sorted(calls_by_region) == sorted(
        [(REGION, "DescribeLogGroups"), (DR_REGION, "DescribeLogGroups")]
        + [(REGION, "ListTagsForResource")] * 2
        + [(DR_REGION, "ListTagsForResource")]
    )

    # Drift in the DR region only is reported under region:name and fixed there.
    dr_logs.put_retention_policy(logGroupName=API, retentionInDays=1)
    fixed = run_module(cloudwatch_log_groups, args, diff=True)
    assert [g["changed"] for g in fixed["log_groups"]] == [False, True, False]
    assert fixed["diff"]["before"] == {dr_api: {"retention": 1, "tags": {}}}
    assert group(dr_logs, API)["retentionInDays"] == 30
    assert group(logs, API)["retentionInDays"] == 90


def test_the_module_region_is_the_default_of_each_group(run_module, logs):
    args = {"region": DR_REGION, "log_groups": [{"name": API}, {"name": WORKER, "region": REGION}]}
    result = run_module(cloudwatch_log_groups, args, diff=True)
    assert [g["region"] for g in result["log_groups"]] == [DR_REGION, REGION]
    # The diff key is the bare name in the module's region, region:name elsewhere.
    assert set(result["diff"]["after"]) == {API, f"{REGION}:{WORKER}"}
    assert group(boto3.client("logs", region_name=DR_REGION), API)
    assert [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]] == [WORKER]


def test_absent_deletes_in_the_group_s_region_only(run_module, logs):
    dr_logs = boto3.client("logs", region_name=DR_REGION)
    run_module(
        cloudwatch_log_groups, {"log_groups": [{"name": API}, {"name": API, "region": DR_REGION}]}
    )
    args = {"log_groups": [{"name": API, "region": DR_REGION}], "state": "absent"}
    result = run_module(cloudwatch_log_groups, args, diff=True)
    assert result["changed"] and result["log_groups"][0]["region"] == DR_REGION
    assert result["diff"]["before"] == {f"{DR_REGION}:{API}": {"exists": True}}
    assert dr_logs.describe_log_groups()["logGroups"] == []
    assert group(logs, API)
    assert not run_module(cloudwatch_log_groups, args)["changed"]


def test_same_name_twice_in_one_region_is_refused_before_any_call(run_module, logs, calls):
    groups = [{"name": API, "region": DR_REGION}, {"name": API}, {"name": API, "region": DR_REGION}]
    result = run_module(cloudwatch_log_groups, {"log_groups": groups})
    assert result["failed"] and f"Duplicate log group names: {API} ({DR_REGION})" in result["msg"]
    assert f"{API} ({REGION})" not in result["msg"]
    assert calls == []


def test_a_group_without_any_region_fails_naming_it(run_module, logs, calls, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    groups = [{"name": API, "region": DR_REGION}, {"name": WORKER}]
    result = run_module(cloudwatch_log_groups, {"log_groups": groups})
    assert result["failed"] and result["msg"].startswith(f"{WORKER}: no region")
    assert calls == []
