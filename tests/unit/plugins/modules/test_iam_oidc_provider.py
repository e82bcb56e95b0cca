"""Unit tests for plinth.platform.iam_oidc_provider and iam_oidc_provider_info.

moto implements creating, describing, listing, deleting, tagging and re-thumbprinting OIDC
providers, so those run against in-process ``mock_aws``. It does not implement adding or removing
client IDs; that path is tested with a botocore Stubber, and a live moto test documents the gap
and runs by itself once moto implements it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import moto
import pytest
from ansible_collections.plinth.platform.plugins.modules import (
    iam_oidc_provider,
    iam_oidc_provider_info,
)
from moto import mock_aws

REGION = "us-east-1"
HOST_PATH = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
URL = f"https://{HOST_PATH}"
ARN = f"arn:aws:iam::123456789012:oidc-provider/{HOST_PATH}"
THUMB_A = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
THUMB_B = "6938fd4d98bab03faadb97b34396831e3780aea1"
ARGS = {"url": URL, "region": REGION}


@pytest.fixture
def iam(aws_moto):
    """IAM in conftest's in-process moto, which the module under test reaches too."""
    return boto3.client("iam", region_name=REGION)


def provider(iam_client) -> dict:
    return iam_client.get_open_id_connect_provider(OpenIDConnectProviderArn=ARN)


# --- create / idempotence (moto) ---------------------------------------------------------------


def test_create_then_rerun_is_not_changed(run_module, iam):
    created = run_module(iam_oidc_provider, dict(ARGS, tags={"cluster": "prod"}), diff=True)

    assert created["changed"] is True
    assert created["oidc_provider"]["arn"] == ARN
    assert created["oidc_provider"]["url"] == URL
    assert created["oidc_provider"]["client_ids"] == ["sts.amazonaws.com"]
    assert created["oidc_provider"]["thumbprints"] == []
    assert created["oidc_provider"]["tags"] == {"cluster": "prod"}
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"]["url"] == URL
    assert provider(iam)["ClientIDList"] == ["sts.amazonaws.com"]

    rerun = run_module(iam_oidc_provider, dict(ARGS, tags={"cluster": "prod"}))
    assert rerun["changed"] is False
    assert rerun["oidc_provider"] == created["oidc_provider"]


def test_url_without_scheme_or_with_trailing_slash_is_the_same_provider(run_module, iam):
    run_module(iam_oidc_provider, ARGS)

    for url in (HOST_PATH, URL + "/"):
        result = run_module(iam_oidc_provider, dict(ARGS, url=url))
        assert result["changed"] is False
        assert result["oidc_provider"]["arn"] == ARN
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


def test_create_with_client_ids_and_thumbprints(run_module, iam):
    result = run_module(
        iam_oidc_provider,
        dict(ARGS, client_ids=["b", "a", "a"], thumbprints=[THUMB_A.upper()]),
    )

    assert result["changed"] is True
    assert result["oidc_provider"]["client_ids"] == ["a", "b"]
    assert result["oidc_provider"]["thumbprints"] == [THUMB_A]
    assert sorted(provider(iam)["ClientIDList"]) == ["a", "b"]


def test_check_mode_create_writes_nothing(run_module, iam):
    result = run_module(iam_oidc_provider, dict(ARGS, tags={"a": "b"}), check_mode=True, diff=True)

    assert result["changed"] is True
    assert result["oidc_provider"] == {}
    assert result["diff"]["after"]["client_ids"] == ["sts.amazonaws.com"]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


# --- update (moto) -----------------------------------------------------------------------------


def test_update_thumbprints_and_tags_with_diff(run_module, iam):
    run_module(iam_oidc_provider, dict(ARGS, thumbprints=[THUMB_A], tags={"a": "1", "b": "2"}))

    result = run_module(
        iam_oidc_provider,
        dict(ARGS, thumbprints=[THUMB_B.upper()], tags={"a": "1", "c": "3"}),
        diff=True,
    )

    assert result["changed"] is True
    assert result["oidc_provider"]["thumbprints"] == [THUMB_B]
    assert result["oidc_provider"]["tags"] == {"a": "1", "c": "3"}
    assert result["diff"]["before"]["thumbprints"] == [THUMB_A]
    assert result["diff"]["after"]["thumbprints"] == [THUMB_B]
    assert result["diff"]["before"]["tags"] == {"a": "1", "b": "2"}
    assert result["diff"]["after"]["tags"] == {"a": "1", "c": "3"}
    stored = provider(iam)
    assert stored["ThumbprintList"] == [THUMB_B]
    assert {t["Key"]: t["Value"] for t in stored["Tags"]} == {"a": "1", "c": "3"}

    again = run_module(
        iam_oidc_provider, dict(ARGS, thumbprints=[THUMB_B], tags={"a": "1", "c": "3"})
    )
    assert again["changed"] is False


def test_omitted_thumbprints_and_tags_are_left_alone(run_module, iam):
    run_module(iam_oidc_provider, dict(ARGS, thumbprints=[THUMB_A], tags={"a": "1"}))

    result = run_module(iam_oidc_provider, ARGS)

    assert result["changed"] is False
    assert result["oidc_provider"]["thumbprints"] == [THUMB_A]
    assert result["oidc_provider"]["tags"] == {"a": "1"}


def test_tags_without_purge_only_add(run_module, iam):
    run_module(iam_oidc_provider, dict(ARGS, tags={"a": "1"}))

    result = run_module(iam_oidc_provider, dict(ARGS, tags={"b": "2"}, purge_tags=False))

    assert result["changed"] is True
    assert result["oidc_provider"]["tags"] == {"a": "1", "b": "2"}


def test_check_mode_update_writes_nothing(run_module, iam):
    run_module(iam_oidc_provider, dict(ARGS, thumbprints=[THUMB_A], tags={"a": "1"}))

    result = run_module(
        iam_oidc_provider,
        dict(ARGS, thumbprints=[THUMB_B], tags={}),
        check_mode=True,
        diff=True,
    )

    assert result["changed"] is True
    assert result["oidc_provider"]["thumbprints"] == [THUMB_A]
    assert result["diff"]["after"]["thumbprints"] == [THUMB_B]
    assert result["diff"]["after"]["tags"] == {}
    stored = provider(iam)
    assert stored["ThumbprintList"] == [THUMB_A]
    assert stored["Tags"] == [{"Key": "a", "Value": "1"}]


# --- absent (moto) -----------------------------------------------------------------------------


def test_absent_then_absent_again(run_module, iam):
    run_module(iam_oidc_provider, ARGS)

    check = run_module(iam_oidc_provider, dict(ARGS, state="absent"), check_mode=True)
    assert check["changed"] is True
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1

    deleted = run_module(iam_oidc_provider, dict(ARGS, state="absent"), diff=True)
    assert deleted["changed"] is True
    assert deleted["oidc_provider"] == {}
    assert deleted["diff"]["before"]["url"] == URL
    assert deleted["diff"]["after"] == {}
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []

    again = run_module(iam_oidc_provider, dict(ARGS, state="absent"))
    assert again["changed"] is False


# --- iam_oidc_provider_info (moto) -------------------------------------------------------------


def test_info_lists_all_or_one(run_module, iam):
    other = "https://token.actions.githubusercontent.com"
    run_module(iam_oidc_provider, dict(ARGS, tags={"cluster": "prod"}))
    run_module(iam_oidc_provider, dict(ARGS, url=other))

    everything = run_module(iam_oidc_provider_info, {"region": REGION})
    one = run_module(iam_oidc_provider_info, dict(ARGS, url=HOST_PATH))
    missing = run_module(iam_oidc_provider_info, dict(ARGS, url="https://example.invalid/x"))

    assert everything["changed"] is False
    assert [p["url"] for p in everything["oidc_providers"]] == sorted([URL, other])
    assert [(p["arn"], p["tags"]) for p in one["oidc_providers"]] == [(ARN, {"cluster": "prod"})]
    assert missing["oidc_providers"] == []


# --- client IDs (Stubber: moto lacks Add/RemoveClientID) ----------------------------------------


@pytest.fixture
def stub(stubbed_client):
    """A Stubber on the IAM client every module instance gets; all stubs must be consumed."""
    return stubbed_client("iam")


def expect_lookup(stub, client_ids) -> None:
    stub.add_response(
        "list_open_id_connect_providers", {"OpenIDConnectProviderList": [{"Arn": ARN}]}, {}
    )
    stub.add_response(
        "get_open_id_connect_provider",
        {
            "Url": HOST_PATH,
            "ClientIDList": client_ids,
            "ThumbprintList": [],
            "CreateDate": datetime(2026, 1, 1, tzinfo=UTC),
            "Tags": [],
        },
        {"OpenIDConnectProviderArn": ARN},
    )


def test_client_ids_are_added_before_removed(run_module, stub):
    expect_lookup(stub, ["sts.amazonaws.com", "legacy"])
    stub.add_response(
        "add_client_id_to_open_id_connect_provider",
        {},
        {"OpenIDConnectProviderArn": ARN, "ClientID": "argocd"},
    )
    stub.add_response(
        "remove_client_id_from_open_id_connect_provider",
        {},
        {"OpenIDConnectProviderArn": ARN, "ClientID": "legacy"},
    )
    stub.add_response(
        "get_open_id_connect_provider",
        {"Url": HOST_PATH, "ClientIDList": ["sts.amazonaws.com", "argocd"], "ThumbprintList": []},
        {"OpenIDConnectProviderArn": ARN},
    )

    result = run_module(
        iam_oidc_provider, dict(ARGS, client_ids=["sts.amazonaws.com", "argocd"]), diff=True
    )

    assert result["changed"] is True
    assert result["oidc_provider"]["client_ids"] == ["argocd", "sts.amazonaws.com"]
    assert result["diff"]["before"]["client_ids"] == ["legacy", "sts.amazonaws.com"]
    assert result["diff"]["after"]["client_ids"] == ["argocd", "sts.amazonaws.com"]


def test_check_mode_client_id_change_writes_nothing(run_module, stub):
    expect_lookup(stub, ["legacy"])

    result = run_module(iam_oidc_provider, ARGS, check_mode=True, diff=True)

    assert result["changed"] is True
    assert result["oidc_provider"]["client_ids"] == ["legacy"]
    assert result["diff"]["after"]["client_ids"] == ["sts.amazonaws.com"]


def test_api_error_fails_with_aws_details(run_module, stub):
    stub.add_client_error(
        "list_open_id_connect_providers",
        service_error_code="AccessDenied",
        service_message="nope",
        http_status_code=403,
    )

    result = run_module(iam_oidc_provider, ARGS)

    assert result["failed"] is True
    assert f"Failed to manage IAM OIDC provider {URL}" in result["msg"]
    assert result["error"]["code"] == "AccessDenied"


def moto_client_id_gap() -> str | None:
    """moto's error for AddClientIDToOpenIDConnectProvider, or None once moto implements it."""
    with mock_aws():
        # Explicit endpoint and keys: a developer's AWS_ENDPOINT_URL must not divert the probe.
        client = boto3.client(
            "iam",
            region_name=REGION,
            endpoint_url="https://iam.amazonaws.com",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        arn = client.create_open_id_connect_provider(Url=URL, ClientIDList=["a"])[
            "OpenIDConnectProviderArn"
        ]
        try:
            client.add_client_id_to_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, ClientID="b"
            )
        except NotImplementedError as e:
            return str(e)
    return None


MOTO_CLIENT_ID_GAP = moto_client_id_gap()


def moto_gap(reason: str | None):
    """Skip (and label) a live test while moto lacks the API; run it as soon as moto has it."""

    def mark(test):
        if reason:
            test = pytest.mark.moto_gap(reason=reason)(test)
            test = pytest.mark.skip(reason=f"moto {moto.__version__}: {reason}")(test)
        return test

    return mark


@moto_gap(MOTO_CLIENT_ID_GAP)
def test_live_client_id_update_against_moto(run_module, iam):
    run_module(iam_oidc_provider, dict(ARGS, client_ids=["sts.amazonaws.com", "legacy"]))

    result = run_module(iam_oidc_provider, dict(ARGS, client_ids=["sts.amazonaws.com", "argocd"]))
    again = run_module(iam_oidc_provider, dict(ARGS, client_ids=["sts.amazonaws.com", "argocd"]))

    assert result["changed"] is True
    assert sorted(provider(iam)["ClientIDList"]) == ["argocd", "sts.amazonaws.com"]
    assert again["changed"] is False
