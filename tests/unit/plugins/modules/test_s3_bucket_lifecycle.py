"""Unit tests for plinth.platform.s3_bucket_lifecycle, run against moto's in-process mock_aws."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import s3_bucket_lifecycle

REGION = "us-east-1"
BUCKET = "plinth-test-raw"

TIERS = {
    "id": "tiers",
    "transitions": [
        {"days": 365, "storage_class": "DEEP_ARCHIVE"},
        {"days": 30, "storage_class": "STANDARD_IA"},
        {"days": 90, "storage_class": "GLACIER_IR"},
    ],
    "noncurrent_version_expiration_days": 30,
    "abort_incomplete_multipart_upload_days": 7,
}
TMP = {"id": "tmp", "prefix": "tmp/", "expiration_days": 1}


@pytest.fixture
def s3(aws_moto):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=BUCKET)
    return client


def rules(s3) -> list[dict[str, Any]]:
    return s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]


def test_creates_rules_with_glacier_ir_and_is_idempotent(run_module, s3):
    args = {"name": BUCKET, "rules": [TIERS, TMP]}
    result = run_module(s3_bucket_lifecycle, args)
    assert result["changed"]
    by_id = {rule["ID"]: rule for rule in rules(s3)}
    assert [t["StorageClass"] for t in by_id["tiers"]["Transitions"]] == [
        "STANDARD_IA",
        "GLACIER_IR",
        "DEEP_ARCHIVE",
    ]
    assert by_id["tiers"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert by_id["tmp"]["Expiration"] == {"Days": 1}
    # Rules given in another order, transitions too: nothing to do.
    again = run_module(s3_bucket_lifecycle, {"name": BUCKET, "rules": [TMP, TIERS]})
    assert not again["changed"]
    assert [rule["id"] for rule in again["rules"]] == ["tiers", "tmp"]


def test_check_mode_reports_without_writing(run_module, s3):
    result = run_module(s3_bucket_lifecycle, {"name": BUCKET, "rules": [TIERS]}, check_mode=True)
    assert result["changed"] and result["rules"][0]["id"] == "tiers"
    with pytest.raises(s3.exceptions.ClientError):
        rules(s3)


def test_check_mode_on_a_missing_bucket_reports_the_rules(run_module, s3):
    args = {"name": "not-created-yet", "rules": [TMP]}
    result = run_module(s3_bucket_lifecycle, args, check_mode=True, diff=True)
    assert result["changed"]
    assert result["diff"]["before"] == {"rules": []}


def test_missing_bucket_fails_outside_check_mode(run_module, s3):
    result = run_module(s3_bucket_lifecycle, {"name": "not-created-yet", "rules": [TMP]})
    assert result["failed"] and "does not exist" in result["msg"]


def test_changed_days_and_purged_rules(run_module, s3):
    run_module(s3_bucket_lifecycle, {"name": BUCKET, "rules": [TIERS, TMP]})
    changed = dict(TIERS, noncurrent_version_expiration_days=60)
    result = run_module(s3_bucket_lifecycle, {"name": BUCKET, "rules": [changed]}, diff=True)
    assert result["changed"]
    assert [rule["ID"] for rule in rules(s3)] == ["tiers"]
    assert rules(s3)[0]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 60}
    assert [r["id"] for r in result["diff"]["before"]["rules"]] == ["tiers", "tmp"]


def test_keeps_unlisted_rules_without_purge(run_module, s3):
    run_module(s3_bucket_lifecycle, {"name": BUCKET, "rules": [TMP]})
    args = {"name": BUCKET, "rules": [TIERS], "purge_rules": False}
    assert run_module(s3_bucket_lifecycle, args)["changed"]
    assert sorted(rule["ID"] for rule in rules(s3)) == ["tiers", "tmp"]
    assert not run_module(s3_bucket_lifecycle, args)["changed"]


def test_rule_with_unmanaged_settings_is_replaced(run_module, s3):
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "tmp",
                    "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "a", "Value": "b"}]}},
                    "Status": "Enabled",
                    "Expiration": {"Days": 1},
                }
            ]
        },
    )
    assert run_module(s3_bucket_lifecycle, {"name": BUCKET, "rules": [TMP]})["changed"]
    assert rules(s3)[0]["Filter"] == {"Prefix": "tmp/"}


def test_state_absent_deletes_the_configuration(run_module, s3):
    run_module(s3_bucket_lifecycle, {"name": BUCKET, "rules": [TMP]})
    assert run_module(s3_bucket_lifecycle, {"name": BUCKET, "state": "absent"})["changed"]
    with pytest.raises(s3.exceptions.ClientError):
        rules(s3)
    assert not run_module(s3_bucket_lifecycle, {"name": BUCKET, "state": "absent"})["changed"]


def test_duplicate_rule_ids_fail(run_module, s3):
    result = run_module(s3_bucket_lifecycle, {"name": BUCKET, "rules": [TMP, TMP]})
    assert result["failed"] and "Duplicate rule IDs: tmp" in result["msg"]


def test_normalise_rule_reads_every_prefix_form():
    legacy = {"ID": "a", "Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 3}}
    empty = {"ID": "a", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 3}}
    assert s3_bucket_lifecycle.normalise_rule(legacy)["prefix"] == "logs/"
    assert s3_bucket_lifecycle.normalise_rule(empty)["prefix"] == ""
    assert "unmanaged" not in s3_bucket_lifecycle.normalise_rule(empty)


DR_REGION = "us-west-2"
DR_BUCKET = f"{BUCKET}-dr"


@pytest.fixture
def dr_s3(s3):
    client = boto3.client("s3", region_name=DR_REGION)
    client.create_bucket(
        Bucket=DR_BUCKET, CreateBucketConfiguration={"LocationConstraint": DR_REGION}
    )
    return client


@pytest.fixture
def calls(api_calls: Any) -> list[str]:
    return api_calls("s3")


def test_buckets_of_two_regions_in_one_run(run_module, s3, dr_s3, calls):
    args = {
        "buckets": [
            {"name": BUCKET, "rules": [TIERS, TMP]},
            {"name": DR_BUCKET, "region": DR_REGION, "rules": [TIERS]},
        ]
    }
    check = run_module(s3_bucket_lifecycle, args, check_mode=True, diff=True)
    assert check["changed"] and all(b["changed"] for b in check["buckets"])
    assert [b["region"] for b in check["buckets"]] == [REGION, DR_REGION]
    assert check["diff"]["before"] == {BUCKET: {"rules": []}, DR_BUCKET: {"rules": []}}
    assert calls == ["GetBucketLifecycleConfiguration"] * 2
    with pytest.raises(s3.exceptions.ClientError):
        rules(s3)

    result = run_module(s3_bucket_lifecycle, args)
    assert result["changed"] and "rules" not in result
    assert {r["ID"] for r in rules(s3)} == {"tiers", "tmp"}
    dr_rules = dr_s3.get_bucket_lifecycle_configuration(Bucket=DR_BUCKET)["Rules"]
    assert [r["ID"] for r in dr_rules] == ["tiers"]

    calls.clear()
    again = run_module(s3_bucket_lifecycle, args, diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    assert [[r["id"] for r in b["rules"]] for b in again["buckets"]] == [
        ["tiers", "tmp"],
        ["tiers"],
    ]
    assert calls == ["GetBucketLifecycleConfiguration"] * 2  # one read per bucket, no writes

    # A rule dropped from the DR bucket only: that bucket alone changes.
    args["buckets"][0]["rules"] = [TIERS]
    changed = run_module(s3_bucket_lifecycle, args, diff=True)
    assert [b["changed"] for b in changed["buckets"]] == [True, False]
    assert list(changed["diff"]["after"]) == [BUCKET]


def test_buckets_absent_deletes_each_configuration(run_module, s3, dr_s3):
    buckets = [{"name": BUCKET, "rules": [TMP]}, {"name": DR_BUCKET, "region": DR_REGION}]
    run_module(s3_bucket_lifecycle, {"buckets": buckets})
    result = run_module(s3_bucket_lifecycle, {"buckets": buckets, "state": "absent"})
    assert [b["changed"] for b in result["buckets"]] == [True, False]
    with pytest.raises(s3.exceptions.ClientError):
        rules(s3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"buckets": [{"name": BUCKET}, {"name": BUCKET, "region": DR_REGION}]},
            "Duplicate bucket",
        ),
        ({"buckets": [{"name": BUCKET, "rules": [TMP, TMP]}]}, "Duplicate rule IDs: tmp"),
        ({"name": BUCKET, "buckets": [{"name": BUCKET}]}, "mutually exclusive"),
    ],
)
def test_bad_buckets_fail_before_any_call(run_module, s3, calls, args, message):
    result = run_module(s3_bucket_lifecycle, args)
    assert result["failed"] and message in result["msg"]
    assert calls == []
