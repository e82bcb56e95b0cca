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
