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


# Lifecycle rules and replication in the same run: a source with its DR copy.

ROLE = "arn:aws:iam::123456789012:role/plinth-test-s3-replication"
TIERS = {
    "id": "tiers",
    "transitions": [
        {"days": 90, "storage_class": "GLACIER_IR"},
        {"days": 30, "storage_class": "STANDARD_IA"},
    ],
    "noncurrent_version_expiration_days": 30,
    "abort_incomplete_multipart_upload_days": 7,
}
TMP = {"id": "tmp", "prefix": "tmp/", "expiration_days": 1}
# Without the settings moto's GetBucketReplication drops (KMS objects, delete markers, prefix).
DR_RULE = {"id": "dr", "destination_bucket": f"arn:aws:s3:::{RAW}-dr"}
READS = [
    "GetBucketVersioning",
    "GetBucketEncryption",
    "GetPublicAccessBlock",
    "GetBucketOwnershipControls",
    "GetBucketPolicy",
    "GetBucketTagging",
]


def with_dr(lifecycle: list[dict[str, Any]] | None = None, **source: Any) -> dict[str, Any]:
    """The source (listed first: replication must still wait for its DR copy) and its DR copy."""
    lifecycle = [TIERS, TMP] if lifecycle is None else lifecycle
    raw = {
        "name": RAW,
        "encryption": "AES256",
        "lifecycle_rules": lifecycle,
        "replication": {"role": ROLE, "rules": [DR_RULE]},
    }
    raw.update(source)
    dr = {"name": f"{RAW}-dr", "region": DR_REGION, "encryption": "AES256", "lifecycle_rules": []}
    return {"buckets": [raw, dr]}


def lifecycle_ids(s3: Any, bucket: str = RAW) -> list[str]:
    return sorted(r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"])


def writes(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.startswith(("Get", "Head", "List"))]


def test_creates_with_lifecycle_and_replication_then_a_rerun_only_reads(run_module, s3, calls):
    result = run_module(s3_buckets, with_dr(), diff=True)
    assert result["changed"], result
    raw, dr = result["buckets"]
    assert [r["id"] for r in raw["lifecycle_rules"]] == ["tiers", "tmp"]
    assert raw["replication"]["role"] == ROLE and raw["replication"]["rules"][0]["id"] == "dr"
    assert {"lifecycle_rules", "replication"} <= set(raw["changes"])
    assert dr["lifecycle_rules"] == [] and "replication" not in dr
    assert result["diff"]["after"][RAW]["replication"]["rules"][0]["destination_bucket"] == (
        DR_RULE["destination_bucket"]
    )
    # The DR copy was made (with versioning) before the source's replication was set.
    assert calls.index("PutBucketReplication") > max(
        i for i, c in enumerate(calls) if c == "PutBucketVersioning"
    )
    assert "GetBucketLifecycleConfiguration" not in calls  # new buckets have none to read
    assert lifecycle_ids(s3) == ["tiers", "tmp"]
    by_id = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=RAW)["Rules"]}
    assert [t["StorageClass"] for t in by_id["tiers"]["Transitions"]] == [
        "STANDARD_IA",
        "GLACIER_IR",
    ]
    config = s3.get_bucket_replication(Bucket=RAW)["ReplicationConfiguration"]
    assert config["Role"] == ROLE
    assert config["Rules"][0]["Destination"]["Bucket"] == f"arn:aws:s3:::{RAW}-dr"

    calls.clear()
    again = run_module(s3_buckets, with_dr(), diff=True)
    assert not again["changed"] and again["diff"] == {"before": {}, "after": {}}, again["diff"]
    # One read per aspect per bucket: the six settings, the lifecycle of both, the source's
    # replication; no write.
    expected = READS * 2 + ["GetBucketLifecycleConfiguration"] * 2 + ["GetBucketReplication"]
    assert sorted(calls) == sorted(expected)
    assert again["buckets"][0]["lifecycle_rules"] == raw["lifecycle_rules"]


def test_a_changed_rule_is_written_alone(run_module, s3, calls):
    run_module(s3_buckets, with_dr())
    calls.clear()
    changed = dict(TMP, expiration_days=3)
    result = run_module(s3_buckets, with_dr([TIERS, changed]), diff=True)
    assert result["changed"] and result["buckets"][0]["changes"] == ["lifecycle_rules"]
    assert not result["buckets"][1]["changed"]
    assert writes(calls) == ["PutBucketLifecycleConfiguration"]
    before = result["diff"]["before"][RAW]["lifecycle_rules"]
    after = result["diff"]["after"][RAW]["lifecycle_rules"]
    assert [r["expiration_days"] for r in before] == [None, 1]
    assert [r["expiration_days"] for r in after] == [None, 3]
    by_id = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=RAW)["Rules"]}
    assert by_id["tmp"]["Expiration"] == {"Days": 3}
    # A rule no longer listed is removed.
    assert run_module(s3_buckets, with_dr([TIERS]))["changed"]
    assert lifecycle_ids(s3) == ["tiers"]


def test_an_empty_list_removes_the_lifecycle_an_omitted_option_leaves_it(run_module, s3, calls):
    run_module(s3_buckets, with_dr())
    untouched = with_dr()
    del untouched["buckets"][0]["lifecycle_rules"]
    del untouched["buckets"][0]["replication"]
    calls.clear()
    result = run_module(s3_buckets, untouched)
    assert not result["changed"]
    assert "lifecycle_rules" not in result["buckets"][0]
    assert calls.count("GetBucketLifecycleConfiguration") == 1  # the DR copy's only
    assert "GetBucketReplication" not in calls
    assert lifecycle_ids(s3) == ["tiers", "tmp"] and s3.get_bucket_replication(Bucket=RAW)

    calls.clear()
    result = run_module(s3_buckets, with_dr([]), diff=True)
    assert result["changed"] and result["buckets"][0]["lifecycle_rules"] == []
    assert result["diff"]["after"][RAW] == {"lifecycle_rules": []}
    assert writes(calls) == ["DeleteBucketLifecycle"]
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket=RAW)
    assert not run_module(s3_buckets, with_dr([]))["changed"]


def test_replication_without_rules_is_removed(run_module, s3, calls):
    run_module(s3_buckets, with_dr())
    calls.clear()
    result = run_module(s3_buckets, with_dr(replication={"rules": []}))
    assert result["changed"] and result["buckets"][0]["replication"] == {}
    assert writes(calls) == ["DeleteBucketReplication"]
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_replication(Bucket=RAW)
    assert not run_module(s3_buckets, with_dr(replication={"rules": []}))["changed"]


def test_check_mode_writes_nothing(run_module, s3, calls):
    check = run_module(s3_buckets, with_dr(), check_mode=True, diff=True)
    assert check["changed"]
    assert [r["id"] for r in check["buckets"][0]["lifecycle_rules"]] == ["tiers", "tmp"]
    assert check["buckets"][0]["replication"]["role"] == ROLE
    assert set(check["diff"]["after"][RAW]) >= {"lifecycle_rules", "replication"}
    assert calls == ["GetBucketVersioning", "GetBucketVersioning"]
    assert s3.list_buckets()["Buckets"] == []

    run_module(s3_buckets, with_dr())
    calls.clear()
    other = with_dr([TIERS], replication={"role": ROLE, "rules": [dict(DR_RULE, priority=1)]})
    check = run_module(s3_buckets, other, check_mode=True, diff=True)
    assert check["buckets"][0]["changes"] == ["lifecycle_rules", "replication"]
    assert check["diff"]["before"][RAW]["replication"]["rules"][0]["priority"] == 0
    assert writes(calls) == []
    assert lifecycle_ids(s3) == ["tiers", "tmp"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"lifecycle_rules": [TMP, dict(TMP, expiration_days=2)]},
            f"{RAW}: lifecycle_rules: Duplicate rule IDs: tmp",
        ),
        (
            {"replication": {"rules": [DR_RULE]}},
            f"{RAW}: replication: role is required with rules",
        ),
        (
            {"replication": {"role": ROLE, "rules": [dict(DR_RULE, replica_kms_key_id="k")]}},
            f"{RAW}: replication: Rule dr: replica_kms_key_id requires replicate_kms_encrypted",
        ),
        (
            {"replication": {"role": ROLE, "rules": [DR_RULE, DR_RULE]}},
            f"{RAW}: replication: Rule IDs must be unique",
        ),
        (
            {"lifecycle_rules": [{"id": "x", "transitions": [{"days": 1, "storage_class": "X"}]}]},
            "storage_class",
        ),
    ],
)
def test_bad_lifecycle_or_replication_fails_before_any_call(run_module, s3, calls, source, message):
    result = run_module(s3_buckets, with_dr(**source))
    assert result["failed"] and message in result["msg"], result["msg"]
    assert calls == []
