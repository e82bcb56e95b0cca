"""Unit tests for plinth.platform.s3_buckets, run against moto's in-process mock_aws."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import s3_buckets

REGION = "us-east-1"
RAW, LOGS = "plinth-test-raw", "plinth-test-logs"
TAGS = {"Environment": "test"}


def tls_only(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


@pytest.fixture
def s3(aws_moto: None) -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def key_arn(aws_moto: None) -> str:
    return boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]


@pytest.fixture
def calls(api_calls: Any) -> list[str]:
    return api_calls("s3")


def args(key_arn: str) -> dict[str, Any]:
    return {
        "buckets": [
            {
                "name": RAW,
                "encryption_key_id": key_arn,
                "policy": json.dumps(tls_only(RAW)),
                "tags": TAGS,
            },
            {"name": LOGS, "versioning": False, "encryption": "AES256"},
        ]
    }


def test_check_mode_on_empty_account_reports_without_writing(run_module, s3, key_arn, calls):
    result = run_module(s3_buckets, args(key_arn), check_mode=True, diff=True)
    assert result["changed"] and all(b["changed"] for b in result["buckets"])
    assert result["diff"]["after"][RAW]["encryption_key_id"] == key_arn
    assert calls == ["GetBucketVersioning", "GetBucketVersioning"]
    assert s3.list_buckets()["Buckets"] == []


def test_creates_then_a_rerun_reads_six_settings_per_bucket(run_module, s3, key_arn, calls):
    assert run_module(s3_buckets, args(key_arn))["changed"]
    assert s3.get_bucket_versioning(Bucket=RAW)["Status"] == "Enabled"
    assert "Status" not in s3.get_bucket_versioning(Bucket=LOGS)
    (rule,) = s3.get_bucket_encryption(Bucket=RAW)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key_arn,
    }
    assert rule["BucketKeyEnabled"] is True
    (rule,) = s3.get_bucket_encryption(Bucket=LOGS)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    for bucket in (RAW, LOGS):
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4
        (ownership,) = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        assert ownership == {"ObjectOwnership": "BucketOwnerEnforced"}
    assert json.loads(s3.get_bucket_policy(Bucket=RAW)["Policy"]) == tls_only(RAW)
    tags = s3.get_bucket_tagging(Bucket=RAW)["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == TAGS

    calls.clear()
    again = run_module(s3_buckets, args(key_arn), diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    per_bucket = [
        "GetBucketVersioning",
        "GetBucketEncryption",
        "GetPublicAccessBlock",
        "GetBucketOwnershipControls",
        "GetBucketPolicy",
        "GetBucketTagging",
    ]
    assert sorted(calls) == sorted(per_bucket * 2)


def test_drift_is_reported_in_check_mode_then_corrected(run_module, s3, key_arn):
    run_module(s3_buckets, args(key_arn))
    s3.delete_public_access_block(Bucket=RAW)
    s3.delete_bucket_policy(Bucket=RAW)
    s3.put_bucket_tagging(Bucket=RAW, Tagging={"TagSet": [{"Key": "Extra", "Value": "x"}]})
    s3.put_bucket_encryption(
        Bucket=RAW,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )

    check = run_module(s3_buckets, args(key_arn), check_mode=True, diff=True)
    raw = check["buckets"][0]
    assert sorted(raw["changes"]) == ["encryption", "policy", "public_access_block", "tags"]
    assert check["diff"]["before"][RAW]["tags"] == {"Extra": "x"}
    assert not check["buckets"][1]["changed"]
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_policy(Bucket=RAW)

    assert run_module(s3_buckets, args(key_arn))["changed"]
    assert json.loads(s3.get_bucket_policy(Bucket=RAW)["Policy"]) == tls_only(RAW)
    assert all(s3.get_public_access_block(Bucket=RAW)["PublicAccessBlockConfiguration"].values())
    assert not run_module(s3_buckets, args(key_arn))["changed"]


def test_absent_deletes_empty_buckets_once(run_module, s3, key_arn):
    run_module(s3_buckets, args(key_arn))
    gone = {"buckets": [{"name": LOGS}, {"name": "plinth-test-never"}], "state": "absent"}
    assert run_module(s3_buckets, gone, check_mode=True)["changed"]
    assert len(s3.list_buckets()["Buckets"]) == 2
    result = run_module(s3_buckets, gone)
    assert [b["changed"] for b in result["buckets"]] == [True, False]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [RAW]
    assert not run_module(s3_buckets, gone)["changed"]


@pytest.mark.parametrize(
    ("buckets", "message"),
    [
        ([{"name": RAW, "encryption": "AES256"}] * 2, f"Duplicate bucket names: {RAW}"),
        ([{"name": RAW}], "aws:kms needs encryption_key_id"),
    ],
)
def test_bad_buckets_fail_before_any_call(run_module, s3, calls, buckets, message):
    result = run_module(s3_buckets, {"buckets": buckets})
    assert result["failed"] and message in result["msg"]
    assert calls == []


def test_buckets_made_by_amazon_aws_s3_bucket_are_adopted_unchanged(run_module, s3, key_arn):
    """The storage role made its buckets with amazon.aws.s3_bucket until now: no change."""
    from ansible_collections.amazon.aws.plugins.modules import s3_bucket

    made = run_module(
        s3_bucket,
        {
            "name": RAW,
            "versioning": True,
            "encryption": "aws:kms",
            "encryption_key_id": key_arn,
            "bucket_key_enabled": True,
            "public_access": {
                "block_public_acls": True,
                "ignore_public_acls": True,
                "block_public_policy": True,
                "restrict_public_buckets": True,
            },
            "object_ownership": "BucketOwnerEnforced",
            "policy": tls_only(RAW),
            "tags": TAGS,
            "purge_tags": True,
        },
    )
    assert made["changed"] and not made.get("failed"), made
    result = run_module(s3_buckets, {"buckets": args(key_arn)["buckets"][:1]}, diff=True)
    assert not result.get("failed"), result
    assert not result["changed"], result["diff"]


DR_REGION = "us-west-2"


def test_one_run_makes_the_buckets_of_two_regions(run_module, s3, calls):
    dr = f"{RAW}-dr"
    buckets = [
        {"name": RAW, "encryption": "AES256", "tags": TAGS},
        {"name": dr, "region": DR_REGION, "encryption": "AES256", "tags": TAGS},
    ]
    check = run_module(s3_buckets, {"buckets": buckets}, check_mode=True, diff=True)
    assert check["changed"] and [b["region"] for b in check["buckets"]] == [REGION, DR_REGION]
    assert set(check["diff"]["after"]) == {RAW, f"{DR_REGION}:{dr}"}
    assert calls == ["GetBucketVersioning", "GetBucketVersioning"]
    assert s3.list_buckets()["Buckets"] == []

    result = run_module(s3_buckets, {"buckets": buckets})
    assert result["changed"] and all(b["changed"] for b in result["buckets"])
    assert s3.get_bucket_location(Bucket=RAW).get("LocationConstraint") is None
    assert s3.get_bucket_location(Bucket=dr)["LocationConstraint"] == DR_REGION
    dr_s3 = boto3.client("s3", region_name=DR_REGION)
    assert dr_s3.get_bucket_versioning(Bucket=dr)["Status"] == "Enabled"

    calls.clear()
    again = run_module(s3_buckets, {"buckets": buckets}, diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}
    assert len(calls) == 12  # six reads per bucket, whatever its region

    # Drift on the DR bucket is reported under region:name and fixed in its region.
    dr_s3.delete_bucket_tagging(Bucket=dr)
    fixed = run_module(s3_buckets, {"buckets": buckets}, diff=True)
    assert [b["changes"] for b in fixed["buckets"]] == [[], ["tags"]]
    assert list(fixed["diff"]["after"]) == [f"{DR_REGION}:{dr}"]
    assert {t["Key"]: t["Value"] for t in dr_s3.get_bucket_tagging(Bucket=dr)["TagSet"]} == TAGS


def test_a_bucket_name_in_two_regions_is_refused_before_any_call(run_module, s3, calls):
    buckets = [{"name": RAW, "encryption": "AES256"}, {"name": RAW, "region": DR_REGION}]
    result = run_module(s3_buckets, {"buckets": buckets})
    assert result["failed"] and "Duplicate bucket names: " + RAW in result["msg"]
    assert calls == []
