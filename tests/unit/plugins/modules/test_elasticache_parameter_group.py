"""Unit tests for plinth.platform.elasticache_parameter_group.

moto 5.2.5 implements none of the cache parameter group API, so the module runs against a botocore
Stubber that asserts every request; the live moto test documents the gap and runs by itself once
moto gains the API.
"""

from __future__ import annotations

import pytest
from ansible_collections.plinth.platform.plugins.modules import elasticache_parameter_group

REGION = "us-east-1"
NAME = "plinth-dev-sessions"
ARN = f"arn:aws:elasticache:{REGION}:123456789012:parametergroup:{NAME}"
BASE = {"name": NAME, "region": REGION}


@pytest.fixture
def stub(stubbed_client):
    """A Stubber on the ElastiCache client every module instance gets; all stubs must be used."""
    return stubbed_client("elasticache")


def group(family: str = "redis7") -> dict:
    return {
        "CacheParameterGroupName": NAME,
        "CacheParameterGroupFamily": family,
        "Description": NAME,
        "IsGlobal": False,
        "ARN": ARN,
    }


def param(name: str, value: str, source: str = "system") -> dict:
    return {
        "ParameterName": name,
        "ParameterValue": value,
        "Source": source,
        "DataType": "string",
        "IsModifiable": True,
    }


DEFAULTS = [param("maxmemory-policy", "volatile-lru"), param("notify-keyspace-events", "")]


def expect_group(stub, family: str = "redis7") -> None:
    stub.add_response(
        "describe_cache_parameter_groups",
        {"CacheParameterGroups": [group(family)]},
        {"CacheParameterGroupName": NAME},
    )


def expect_missing(stub) -> None:
    stub.add_client_error(
        "describe_cache_parameter_groups",
        service_error_code="CacheParameterGroupNotFound",
        http_status_code=404,
        expected_params={"CacheParameterGroupName": NAME},
    )


def expect_params(stub, params: list[dict]) -> None:
    stub.add_response(
        "describe_cache_parameters", {"Parameters": params}, {"CacheParameterGroupName": NAME}
    )


def test_create_with_parameters(stub, run_module):
    expect_missing(stub)
    stub.add_response(
        "create_cache_parameter_group",
        {"CacheParameterGroup": group()},
        {
            "CacheParameterGroupName": NAME,
            "CacheParameterGroupFamily": "redis7",
            "Description": NAME,
        },
    )
    expect_group(stub)
    expect_params(stub, DEFAULTS)
    stub.add_response(
        "modify_cache_parameter_group",
        {"CacheParameterGroupName": NAME},
        {
            "CacheParameterGroupName": NAME,
            "ParameterNameValues": [
                {"ParameterName": "maxmemory-policy", "ParameterValue": "noeviction"}
            ],
        },
    )
    expect_group(stub)
    expect_params(stub, [param("maxmemory-policy", "noeviction", "user"), DEFAULTS[1]])
    result = run_module(
        elasticache_parameter_group,
        dict(BASE, family="redis7", parameters={"maxmemory-policy": "noeviction"}),
        diff=True,
    )
    assert result["changed"] is True
    assert result["cache_parameter_group"]["parameters"] == {"maxmemory-policy": "noeviction"}
    assert result["diff"] == {
        "before": {},
        "after": {"family": "redis7", "parameters": {"maxmemory-policy": "noeviction"}},
    }


def test_create_in_check_mode_writes_nothing(stub, run_module):
    expect_missing(stub)
    result = run_module(
        elasticache_parameter_group,
        dict(BASE, family="valkey8", parameters={"cluster-enabled": "yes"}),
        check_mode=True,
    )
    assert result["changed"] is True and result["cache_parameter_group"] == {}


def test_unchanged_is_idempotent(stub, run_module):
    expect_group(stub)
    expect_params(stub, [param("maxmemory-policy", "noeviction", "user"), DEFAULTS[1]])
    result = run_module(
        elasticache_parameter_group,
        dict(BASE, family="redis7", parameters={"maxmemory-policy": "noeviction"}),
    )
    assert result["changed"] is False
    assert result["cache_parameter_group"]["family"] == "redis7"


def test_change_and_purge(stub, run_module):
    expect_group(stub)
    expect_params(stub, [param("maxmemory-policy", "noeviction", "user"), DEFAULTS[1]])
    stub.add_response(
        "modify_cache_parameter_group",
        {"CacheParameterGroupName": NAME},
        {
            "CacheParameterGroupName": NAME,
            "ParameterNameValues": [
                {"ParameterName": "notify-keyspace-events", "ParameterValue": "Ex"}
            ],
        },
    )
    stub.add_response(
        "reset_cache_parameter_group",
        {"CacheParameterGroupName": NAME},
        {
            "CacheParameterGroupName": NAME,
            "ResetAllParameters": False,
            "ParameterNameValues": [{"ParameterName": "maxmemory-policy"}],
        },
    )
    expect_group(stub)
    expect_params(stub, [DEFAULTS[0], param("notify-keyspace-events", "Ex", "user")])
    result = run_module(
        elasticache_parameter_group,
        dict(BASE, parameters={"notify-keyspace-events": "Ex"}),
        diff=True,
    )
    assert result["changed"] is True
    assert result["diff"]["before"]["parameters"] == {"maxmemory-policy": "noeviction"}
    assert result["diff"]["after"]["parameters"] == {"notify-keyspace-events": "Ex"}


def test_change_in_check_mode_writes_nothing(stub, run_module):
    expect_group(stub)
    expect_params(stub, DEFAULTS)
    result = run_module(
        elasticache_parameter_group,
        dict(BASE, parameters={"maxmemory-policy": "noeviction"}),
        check_mode=True,
    )
    assert result["changed"] is True


def test_more_than_twenty_parameters_are_sent_in_batches(stub, run_module):
    names = [f"p{i:02d}" for i in range(25)]
    expect_group(stub)
    expect_params(stub, [param(n, "0") for n in names])
    for batch in (names[:20], names[20:]):
        stub.add_response(
            "modify_cache_parameter_group",
            {"CacheParameterGroupName": NAME},
            {
                "CacheParameterGroupName": NAME,
                "ParameterNameValues": [{"ParameterName": n, "ParameterValue": "1"} for n in batch],
            },
        )
    expect_group(stub)
    expect_params(stub, [param(n, "1", "user") for n in names])
    result = run_module(elasticache_parameter_group, dict(BASE, parameters=dict.fromkeys(names, 1)))
    assert result["changed"] is True


def test_unknown_parameter_and_family_change_are_refused(stub, run_module):
    expect_group(stub)
    expect_params(stub, DEFAULTS)
    result = run_module(elasticache_parameter_group, dict(BASE, parameters={"no-such": "1"}))
    assert result["failed"] and "has no parameter(s): no-such" in result["msg"]

    expect_group(stub)
    result = run_module(elasticache_parameter_group, dict(BASE, family="valkey8"))
    assert result["failed"] and "the family cannot be changed" in result["msg"]


def test_create_needs_a_family(stub, run_module):
    expect_missing(stub)
    result = run_module(elasticache_parameter_group, BASE)
    assert result["failed"] and "family is required" in result["msg"]


def test_delete_and_delete_again(stub, run_module):
    expect_group(stub)
    stub.add_response("delete_cache_parameter_group", {}, {"CacheParameterGroupName": NAME})
    assert run_module(elasticache_parameter_group, dict(BASE, state="absent"))["changed"] is True
    expect_missing(stub)
    assert run_module(elasticache_parameter_group, dict(BASE, state="absent"))["changed"] is False


def test_moto_lacks_the_api(aws_moto, run_module):
    """Live against moto: runs the real path once moto implements cache parameter groups."""
    from moto.elasticache.responses import ElastiCacheResponse

    if not hasattr(ElastiCacheResponse, "create_cache_parameter_group"):
        pytest.skip("moto 5.2.5 does not implement CreateCacheParameterGroup (module notes)")
    args = dict(BASE, family="redis7", parameters={"maxmemory-policy": "noeviction"})
    assert run_module(elasticache_parameter_group, args)["changed"] is True
    assert run_module(elasticache_parameter_group, args)["changed"] is False
