"""rds_parameter_group against moto's in-process RDS, and with Stubber for what moto lacks."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import (
    AWSRetry,
    RetryingBotoClientWrapper,
)
from ansible_collections.plinth.platform.plugins.modules import rds_parameter_group
from botocore.stub import Stubber

NAME = "plinth-dev-main"


@pytest.fixture
def rds(aws_moto):
    return boto3.client("rds", region_name="us-east-1")


@pytest.fixture
def args() -> dict[str, Any]:
    return {
        "name": NAME,
        "family": "postgres16",
        "description": "main database",
        "parameters": {"log_min_duration_statement": 500, "rds.force_ssl": "1"},
        "tags": {"Environment": "development"},
    }


def user_parameters(rds) -> dict[str, str]:
    listing = rds.describe_db_parameters(DBParameterGroupName=NAME, Source="user")["Parameters"]
    return {p["ParameterName"]: p["ParameterValue"] for p in listing}


def test_create_applies_parameters_then_rerun_is_idempotent(run_module, rds, args):
    result = run_module(rds_parameter_group, args)
    assert result["changed"]
    group = result["parameter_group"]
    assert group["db_parameter_group_family"] == "postgres16"
    assert group["parameters"] == {"log_min_duration_statement": "500", "rds.force_ssl": "1"}
    assert user_parameters(rds) == {"log_min_duration_statement": "500", "rds.force_ssl": "1"}
    arn = rds.describe_db_parameter_groups(DBParameterGroupName=NAME)["DBParameterGroups"][0][
        "DBParameterGroupArn"
    ]
    tags = rds.list_tags_for_resource(ResourceName=arn)["TagList"]
    assert tags == [{"Key": "Environment", "Value": "development"}]

    again = run_module(rds_parameter_group, args)
    assert not again["changed"]
    assert again["parameter_group"]["tags"] == {"Environment": "development"}


def test_check_mode_on_empty_state_creates_nothing(run_module, rds, args):
    result = run_module(rds_parameter_group, args, check_mode=True, diff=True)
    assert result["changed"]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["parameters"]["log_min_duration_statement"] == "500"
    assert rds.describe_db_parameter_groups()["DBParameterGroups"] == []


def test_changed_value_is_applied_with_diff(run_module, rds, args):
    run_module(rds_parameter_group, args)
    args["parameters"]["log_min_duration_statement"] = "1000"
    result = run_module(rds_parameter_group, args, diff=True)
    assert result["changed"]
    assert result["diff"]["before"]["parameters"]["log_min_duration_statement"] == "500"
    assert result["diff"]["after"]["parameters"]["log_min_duration_statement"] == "1000"
    assert user_parameters(rds)["log_min_duration_statement"] == "1000"


def test_tag_change(run_module, rds, args):
    run_module(rds_parameter_group, args)
    args["tags"] = {"Environment": "staging"}
    result = run_module(rds_parameter_group, args)
    assert result["changed"]
    assert result["parameter_group"]["tags"] == {"Environment": "staging"}


def test_family_cannot_change(run_module, rds, args):
    run_module(rds_parameter_group, args)
    args["family"] = "postgres17"
    result = run_module(rds_parameter_group, args)
    assert result["failed"]
    assert "has family postgres16, not postgres17" in result["msg"]


def test_create_needs_family(run_module, rds, args):
    del args["family"]
    result = run_module(rds_parameter_group, args)
    assert result["failed"] and "family is required" in result["msg"]


def test_absent(run_module, rds, args):
    run_module(rds_parameter_group, args)
    result = run_module(rds_parameter_group, {"name": NAME, "state": "absent"})
    assert result["changed"]
    assert result["parameter_group"]["db_parameter_group_name"] == NAME
    assert rds.describe_db_parameter_groups()["DBParameterGroups"] == []
    assert not run_module(rds_parameter_group, {"name": NAME, "state": "absent"})["changed"]


class _FakeModule:
    """Just enough of AnsibleAWSModule for ParameterGroupManager.plan_parameters."""

    check_mode = False

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def client(self, *_args: Any, **_kwargs: Any) -> Any:
        return RetryingBotoClientWrapper(
            boto3.client("rds", region_name="us-east-1"), AWSRetry.jittered_backoff()
        )

    def fail_json(self, **kwargs: Any) -> None:
        raise AssertionError(kwargs["msg"])

    def fail_json_aws(self, exception: Exception, msg: str) -> None:
        raise AssertionError(f"{msg}: {exception}")


def _manager(aws_moto, **params: Any) -> rds_parameter_group.ParameterGroupManager:
    base = {"name": NAME, "parameters": {}, "purge_parameters": True}
    return rds_parameter_group.ParameterGroupManager(_FakeModule(dict(base, **params)))


# AWS lists every parameter of the family with its apply type (moto only lists those set).
AWS_LISTING = [
    {"ParameterName": "log_min_duration_statement", "ApplyType": "dynamic", "IsModifiable": True},
    {"ParameterName": "shared_preload_libraries", "ApplyType": "static", "IsModifiable": True},
    {"ParameterName": "rds.extensions", "ApplyType": "static", "IsModifiable": False},
]


def test_apply_method_follows_apply_type(aws_moto):
    manager = _manager(
        aws_moto,
        parameters={"log_min_duration_statement": 500, "shared_preload_libraries": "pg_cron"},
    )
    modify, reset = manager.plan_parameters(AWS_LISTING, {"work_mem": "4096"})
    assert modify == [
        {
            "ParameterName": "log_min_duration_statement",
            "ParameterValue": "500",
            "ApplyMethod": "immediate",
        },
        {
            "ParameterName": "shared_preload_libraries",
            "ParameterValue": "pg_cron",
            "ApplyMethod": "pending-reboot",
        },
    ]
    assert reset == ["work_mem"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [("log_min_duration", "is not a parameter"), ("rds.extensions", "is not modifiable")],
)
def test_unknown_or_fixed_parameter_fails(aws_moto, name, problem):
    manager = _manager(aws_moto, parameters={name: "1"})
    with pytest.raises(AssertionError, match=problem):
        manager.plan_parameters(AWS_LISTING, {})


def test_purge_resets_in_batches_of_twenty(aws_moto):
    # moto lacks ResetDBParameterGroup, so the call is checked with Stubber.
    manager = _manager(aws_moto)
    names = [f"p{i:02d}" for i in range(25)]
    with Stubber(manager.client.client) as stub:
        for batch in (names[:20], names[20:]):
            stub.add_response(
                "reset_db_parameter_group",
                {"DBParameterGroupName": NAME},
                {
                    "DBParameterGroupName": NAME,
                    "Parameters": [
                        {"ParameterName": n, "ApplyMethod": "pending-reboot"} for n in batch
                    ],
                },
            )
        manager.apply_parameters([], names)
        stub.assert_no_pending_responses()
    assert manager.changed


DR_REGION = "us-west-2"
WRITES = {
    "CreateDBParameterGroup",
    "ModifyDBParameterGroup",
    "ResetDBParameterGroup",
    "AddTagsToResource",
    "RemoveTagsFromResource",
    "DeleteDBParameterGroup",
}


@pytest.fixture
def calls(api_calls: Any) -> list[str]:
    return api_calls("rds")


def two_regions(args: dict[str, Any]) -> dict[str, Any]:
    group = {k: args[k] for k in ("name", "family", "description", "parameters", "tags")}
    return {"parameter_groups": [group, dict(group, region=DR_REGION, description="DR replica")]}


def test_groups_of_two_regions_in_one_run(run_module, rds, args, calls):
    dr_rds = boto3.client("rds", region_name=DR_REGION)
    bulk = two_regions(args)

    check = run_module(rds_parameter_group, bulk, check_mode=True, diff=True)
    assert check["changed"] and all(g["changed"] for g in check["parameter_groups"])
    assert [g["region"] for g in check["parameter_groups"]] == ["us-east-1", DR_REGION]
    assert set(check["diff"]["after"]) == {NAME, f"{DR_REGION}:{NAME}"}
    assert not WRITES & set(calls)
    assert rds.describe_db_parameter_groups()["DBParameterGroups"] == []
    assert dr_rds.describe_db_parameter_groups()["DBParameterGroups"] == []

    result = run_module(rds_parameter_group, bulk)
    assert result["changed"] and "parameter_group" not in result
    primary, dr = result["parameter_groups"]
    assert f":{DR_REGION}:" in dr["db_parameter_group_arn"]
    assert dr["description"] == "DR replica"
    assert user_parameters(rds) == {"log_min_duration_statement": "500", "rds.force_ssl": "1"}
    listing = dr_rds.describe_db_parameters(DBParameterGroupName=NAME, Source="user")
    assert {p["ParameterName"] for p in listing["Parameters"]} == {
        "log_min_duration_statement",
        "rds.force_ssl",
    }

    calls.clear()
    again = run_module(rds_parameter_group, bulk, diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    assert [g["db_parameter_group_arn"] for g in again["parameter_groups"]] == [
        primary["db_parameter_group_arn"],
        dr["db_parameter_group_arn"],
    ]
    per_group = ["DescribeDBParameterGroups", "DescribeDBParameters", "ListTagsForResource"]
    assert sorted(calls) == sorted(per_group * 2)  # three reads per unchanged group, no writes

    # A parameter changed in the DR region only: that group alone is corrected.
    dr_rds.modify_db_parameter_group(
        DBParameterGroupName=NAME,
        Parameters=[
            {
                "ParameterName": "log_min_duration_statement",
                "ParameterValue": "9",
                "ApplyMethod": "immediate",
            }
        ],
    )
    fixed = run_module(rds_parameter_group, bulk, diff=True)
    assert [g["changed"] for g in fixed["parameter_groups"]] == [False, True]
    assert list(fixed["diff"]["before"]) == [f"{DR_REGION}:{NAME}"]


def test_groups_absent_in_two_regions(run_module, rds, args):
    bulk = two_regions(args)
    run_module(rds_parameter_group, bulk)
    result = run_module(rds_parameter_group, dict(bulk, state="absent"))
    assert [g["changed"] for g in result["parameter_groups"]] == [True, True]
    assert rds.describe_db_parameter_groups()["DBParameterGroups"] == []
    assert not run_module(rds_parameter_group, dict(bulk, state="absent"))["changed"]


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ([{"name": NAME}, {"name": "other"}, {"name": NAME}], "Duplicate parameter group names"),
        ([{"name": NAME, "region": DR_REGION}, {"name": NAME, "region": DR_REGION}], DR_REGION),
    ],
)
def test_duplicate_groups_fail_before_any_call(run_module, rds, calls, groups, message):
    result = run_module(rds_parameter_group, {"parameter_groups": groups})
    assert result["failed"] and message in result["msg"]
    assert calls == []
