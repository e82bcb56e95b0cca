"""Unit tests for plinth.platform.kms_keys, run against moto's in-process mock_aws."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import kms_keys

REGION = "us-east-1"
STORAGE = "alias/plinth-test-storage"
RDS = "alias/plinth-test-rds"
TAGS = {"Environment": "test", "plinth:stack": "plinth-test"}
READS = {"DescribeKey", "GetKeyRotationStatus", "ListResourceTags", "GetKeyPolicy"}


def key(alias: str, **kwargs: Any) -> dict[str, Any]:
    return dict({"alias": alias, "description": f"{alias} key", "tags": TAGS}, **kwargs)


@pytest.fixture
def kms(aws_moto: None) -> Any:
    return boto3.client("kms", region_name=REGION)


@pytest.fixture
def calls(api_calls: Any) -> list[str]:
    return api_calls("kms")


def described(kms: Any, alias: str) -> dict[str, Any]:
    return kms.describe_key(KeyId=alias)["KeyMetadata"]


def tags_of(kms: Any, alias: str) -> dict[str, str]:
    tags = kms.list_resource_tags(KeyId=described(kms, alias)["KeyId"])["Tags"]
    return {t["TagKey"]: t["TagValue"] for t in tags}


def test_check_mode_on_empty_account_reports_without_writing(run_module, kms, calls):
    result = run_module(kms_keys, {"keys": [key(STORAGE), key(RDS)]}, check_mode=True, diff=True)
    assert result["changed"]
    assert [k["alias"] for k in result["keys"]] == [STORAGE, RDS]
    assert all(k["changed"] and k["key_arn"] == "" for k in result["keys"])
    assert result["diff"]["before"] == {STORAGE: {}, RDS: {}}
    assert result["diff"]["after"][STORAGE]["enable_key_rotation"] is True
    assert set(calls) == {"DescribeKey"}
    assert kms.list_keys()["Keys"] == []


def test_creates_keys_then_a_rerun_reads_three_calls_per_key(run_module, kms, calls):
    rds_key = dict(key(RDS), alias="plinth-test-rds", enable_key_rotation=False)
    args = {"keys": [key(STORAGE), rds_key]}
    result = run_module(kms_keys, args)
    assert result["changed"]
    storage, rds = result["keys"]
    assert rds["alias"] == RDS  # the alias/ prefix is added
    for out, rotation in ((storage, True), (rds, False)):
        metadata = described(kms, out["alias"])
        assert out["key_arn"] == metadata["Arn"] and out["key_id"] == metadata["KeyId"]
        assert metadata["Description"] == f"{out['alias']} key"
        assert metadata["KeyState"] == "Enabled"
        assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
        assert kms.get_key_rotation_status(KeyId=out["key_id"])["KeyRotationEnabled"] is rotation
        assert tags_of(kms, out["alias"]) == TAGS

    calls.clear()
    again = run_module(kms_keys, args, diff=True)
    assert not again["changed"] and not any(k["changed"] for k in again["keys"])
    assert [k["key_arn"] for k in again["keys"]] == [storage["key_arn"], rds["key_arn"]]
    assert again["keys"][0]["tags"] == TAGS and again["keys"][0]["enable_key_rotation"] is True
    assert again["diff"] == {"before": {}, "after": {}}
    assert sorted(calls) == sorted(["DescribeKey", "GetKeyRotationStatus", "ListResourceTags"] * 2)


def test_drift_is_reported_in_check_mode_then_corrected(run_module, kms, calls):
    args = {"keys": [key(STORAGE)]}
    key_id = run_module(kms_keys, args)["keys"][0]["key_id"]
    kms.update_key_description(KeyId=key_id, Description="changed by hand")
    kms.disable_key_rotation(KeyId=key_id)
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "Extra", "TagValue": "x"}])
    kms.untag_resource(KeyId=key_id, TagKeys=["Environment"])
    kms.disable_key(KeyId=key_id)

    calls.clear()
    check = run_module(kms_keys, args, check_mode=True, diff=True)
    assert check["changed"] and set(calls) <= READS
    before, after = check["diff"]["before"][STORAGE], check["diff"]["after"][STORAGE]
    assert before["description"] == "changed by hand" and after["description"] == f"{STORAGE} key"
    assert (before["enabled"], after["enabled"]) == (False, True)
    assert (before["enable_key_rotation"], after["enable_key_rotation"]) == (False, True)
    assert after["tags"] == TAGS and before["tags"] == {"Extra": "x", "plinth:stack": "plinth-test"}
    assert described(kms, STORAGE)["KeyState"] == "Disabled"

    fixed = run_module(kms_keys, args)
    assert fixed["changed"] and fixed["keys"][0]["key_id"] == key_id
    metadata = described(kms, STORAGE)
    assert metadata["KeyState"] == "Enabled" and metadata["Description"] == f"{STORAGE} key"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert tags_of(kms, STORAGE) == TAGS
    assert not run_module(kms_keys, args)["changed"]


def test_purge_tags_false_keeps_other_tags(run_module, kms):
    run_module(kms_keys, {"keys": [key(STORAGE)]})
    key_id = described(kms, STORAGE)["KeyId"]
    kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": "Owner", "TagValue": "data"}])
    result = run_module(kms_keys, {"keys": [key(STORAGE)], "purge_tags": False})
    assert not result["changed"]
    assert tags_of(kms, STORAGE) == dict(TAGS, Owner="data")


def test_key_pending_deletion_is_restored(run_module, kms):
    args = {"keys": [key(STORAGE)]}
    key_id = run_module(kms_keys, args)["keys"][0]["key_id"]
    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)

    check = run_module(kms_keys, args, check_mode=True, diff=True)
    assert check["changed"]
    assert check["diff"]["before"][STORAGE]["key_state"] == "PendingDeletion"
    assert described(kms, STORAGE)["KeyState"] == "PendingDeletion"

    restored = run_module(kms_keys, args)
    assert restored["changed"] and restored["keys"][0]["key_id"] == key_id
    assert described(kms, STORAGE)["KeyState"] == "Enabled"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    assert not run_module(kms_keys, args)["changed"]


def test_policy_is_set_and_compared(run_module, kms):
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Root",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    run_module(kms_keys, {"keys": [key(STORAGE)]})
    args = {"keys": [key(STORAGE, policy=json.dumps(policy))]}
    result = run_module(kms_keys, args, diff=True)
    assert result["changed"] and result["diff"]["after"][STORAGE]["policy"] == policy
    stored = kms.get_key_policy(KeyId=described(kms, STORAGE)["KeyId"], PolicyName="default")
    assert json.loads(stored["Policy"]) == policy
    assert not run_module(kms_keys, args)["changed"]
    # Without a policy the key's policy is left alone.
    assert not run_module(kms_keys, {"keys": [key(STORAGE)]})["changed"]


def test_absent_schedules_deletion_once(run_module, kms):
    run_module(kms_keys, {"keys": [key(STORAGE)]})
    args = {"keys": [{"alias": STORAGE}, {"alias": RDS}], "state": "absent", "pending_window": 7}
    check = run_module(kms_keys, args, check_mode=True)
    assert check["changed"] and described(kms, STORAGE)["KeyState"] == "Enabled"
    result = run_module(kms_keys, args)
    assert result["changed"]
    assert [k["changed"] for k in result["keys"]] == [True, False]  # RDS never existed
    assert described(kms, STORAGE)["KeyState"] == "PendingDeletion"
    assert not run_module(kms_keys, args)["changed"]


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([key(STORAGE), key(STORAGE.removeprefix("alias/"))], "Duplicate aliases: " + STORAGE),
        ([key("alias/aws/s3")], "reserved for AWS"),
        ([key(STORAGE, key_spec="RSA_2048", key_usage="SIGN_VERIFY")], "only SYMMETRIC_DEFAULT"),
    ],
)
def test_bad_keys_fail_before_any_call(run_module, kms, calls, keys, message):
    result = run_module(kms_keys, {"keys": keys})
    assert result["failed"] and message in result["msg"]
    assert calls == []


def test_a_key_of_another_spec_is_refused(run_module, kms):
    run_module(
        kms_keys,
        {
            "keys": [
                key(
                    STORAGE, key_spec="RSA_2048", key_usage="SIGN_VERIFY", enable_key_rotation=False
                )
            ]
        },
    )
    result = run_module(kms_keys, {"keys": [key(STORAGE)]})
    assert result["failed"] and "cannot change on an existing key" in result["msg"]


DR_REGION = "us-west-2"


@pytest.fixture
def calls_by_region(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(region, operation) of every KMS call from then on."""
    import botocore.client

    made: list[tuple[str, str]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        if self.meta.service_model.service_name == "kms":
            made.append((self.meta.region_name, operation))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return made


def test_one_run_makes_the_keys_of_two_regions(run_module, kms, calls_by_region):
    dr_kms = boto3.client("kms", region_name=DR_REGION)
    args = {"keys": [key(STORAGE), key(STORAGE, region=DR_REGION, description="DR key")]}

    check = run_module(kms_keys, args, check_mode=True, diff=True)
    assert check["changed"] and [k["region"] for k in check["keys"]] == [REGION, DR_REGION]
    assert check["diff"]["before"] == {STORAGE: {}, f"{DR_REGION}:{STORAGE}": {}}
    assert {op for _region, op in calls_by_region} == {"DescribeKey"}
    assert kms.list_keys()["Keys"] == [] and dr_kms.list_keys()["Keys"] == []

    result = run_module(kms_keys, args)
    primary, dr = result["keys"]
    assert result["changed"] and primary["changed"] and dr["changed"]
    assert (primary["region"], dr["region"]) == (REGION, DR_REGION)
    assert f":{REGION}:" in primary["key_arn"] and f":{DR_REGION}:" in dr["key_arn"]
    assert described(kms, STORAGE)["Arn"] == primary["key_arn"]
    assert described(dr_kms, STORAGE)["Arn"] == dr["key_arn"]
    assert described(dr_kms, STORAGE)["Description"] == "DR key"

    calls_by_region.clear()
    again = run_module(kms_keys, args, diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    assert [k["key_arn"] for k in again["keys"]] == [primary["key_arn"], dr["key_arn"]]
    reads = ["DescribeKey", "GetKeyRotationStatus", "ListResourceTags"]
    assert sorted(calls_by_region) == sorted([(r, op) for r in (REGION, DR_REGION) for op in reads])

    # Drift in the DR region only is reported under region:alias and fixed there.
    dr_kms.disable_key(KeyId=dr["key_id"])
    fixed = run_module(kms_keys, args, diff=True)
    assert [k["changed"] for k in fixed["keys"]] == [False, True]
    assert list(fixed["diff"]["before"]) == [f"{DR_REGION}:{STORAGE}"]
    assert described(dr_kms, STORAGE)["KeyState"] == "Enabled"


def test_the_module_region_is_the_default_of_each_key(run_module, kms):
    args = {"region": DR_REGION, "keys": [key(STORAGE), key(RDS, region=REGION)]}
    result = run_module(kms_keys, args)
    assert [k["region"] for k in result["keys"]] == [DR_REGION, REGION]
    assert described(boto3.client("kms", region_name=DR_REGION), STORAGE)
    assert described(kms, RDS)


def test_same_alias_twice_in_one_region_is_refused_before_any_call(run_module, kms, calls):
    keys = [key(STORAGE, region=DR_REGION), key(STORAGE), key(STORAGE, region=DR_REGION)]
    result = run_module(kms_keys, {"keys": keys})
    assert result["failed"] and f"Duplicate aliases: {STORAGE} ({DR_REGION})" in result["msg"]
    assert calls == []
