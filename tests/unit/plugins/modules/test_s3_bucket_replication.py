"""Unit tests for plinth.platform.s3_bucket_replication, run against moto's in-process mock_aws."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import s3_bucket_replication

REGION = "us-east-1"
DR_REGION = "us-west-2"
SOURCE = "plinth-test-raw"
DEST = "plinth-test-raw-dr"
ROLE = "arn:aws:iam::123456789012:role/plinth-test-s3-replication"
KEY = "arn:aws:kms:us-west-2:123456789012:key/11111111-2222-3333-4444-555555555555"


@pytest.fixture
def s3(aws_moto):
    client = boto3.client("s3", region_name=REGION)
    client.create_bucket(Bucket=SOURCE)
    client.put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    dr = boto3.client("s3", region_name=DR_REGION)
    dr.create_bucket(Bucket=DEST, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
    dr.put_bucket_versioning(Bucket=DEST, VersioningConfiguration={"Status": "Enabled"})
    return client


def args(**rule_changes) -> dict:
    rule = {
        "id": "dr",
        "destination_bucket": f"arn:aws:s3:::{DEST}",
        "replicate_kms_encrypted": True,
        "replica_kms_key_id": KEY,
        "delete_marker_replication": True,
    }
    rule.update(rule_changes)
    return {"name": SOURCE, "role": ROLE, "rules": [rule]}


def moto_keeps_replication_settings(s3) -> bool:
    """Whether GetBucketReplication returns SourceSelectionCriteria and DeleteMarkerReplication.

    moto 5.2.5 answers every rule with DeleteMarkerReplication Disabled, Filter Prefix "" and
    no SourceSelectionCriteria, whatever was put; AWS returns what was put.
    """
    s3.put_bucket_replication(
        Bucket=SOURCE,
        ReplicationConfiguration={"Role": ROLE, "Rules": [rule_to_boto3(args()["rules"][0])]},
    )
    (rule,) = s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]["Rules"]
    s3.delete_bucket_replication(Bucket=SOURCE)
    return "SourceSelectionCriteria" in rule and rule["DeleteMarkerReplication"] == {
        "Status": "Enabled"
    }


def rule_to_boto3(rule: dict) -> dict:
    defaults = {"priority": 0, "prefix": "", "status": "enabled", "storage_class": None}
    return s3_bucket_replication.rule_to_boto3(dict(defaults, **rule))


def test_sets_replication(run_module, s3):
    result = run_module(s3_bucket_replication, args())
    assert result["changed"]
    config = s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]
    assert config["Role"] == ROLE
    (rule,) = config["Rules"]
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{DEST}"
    assert rule["Destination"]["EncryptionConfiguration"] == {"ReplicaKmsKeyID": KEY}


def test_idempotent_without_the_settings_moto_drops(run_module, s3):
    plain = args(replicate_kms_encrypted=False, replica_kms_key_id=None)
    plain["rules"][0]["delete_marker_replication"] = False
    assert run_module(s3_bucket_replication, plain)["changed"]
    assert not run_module(s3_bucket_replication, plain)["changed"]


def test_idempotent_with_kms_and_delete_markers(run_module, s3):
    if not moto_keeps_replication_settings(s3):
        pytest.skip(
            "moto 5.2.5 GetBucketReplication drops SourceSelectionCriteria and always reports"
            " DeleteMarkerReplication Disabled (see test_normalise_rule_as_aws_returns_it)"
        )
    run_module(s3_bucket_replication, args())
    assert not run_module(s3_bucket_replication, args())["changed"]


def test_normalise_rule_as_aws_returns_it():
    """The rule AWS returns for args() (from PutBucketReplication's input) compares equal."""
    returned = rule_to_boto3(args()["rules"][0])
    returned["SourceSelectionCriteria"]["ReplicaModifications"] = {"Status": "Disabled"}
    returned["ExistingObjectReplication"] = {"Status": "Disabled"}
    normalised = s3_bucket_replication.normalise_rule(returned)
    expected = dict(args()["rules"][0], priority=0, prefix="", status="enabled", storage_class=None)
    assert normalised == expected
    returned["ExistingObjectReplication"] = {"Status": "Enabled"}
    assert "unmanaged" in s3_bucket_replication.normalise_rule(returned)


def test_check_mode_and_diff(run_module, s3):
    result = run_module(s3_bucket_replication, args(), check_mode=True, diff=True)
    assert result["changed"] and result["diff"]["before"] == {}
    assert result["diff"]["after"]["rules"][0]["id"] == "dr"
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_replication(Bucket=SOURCE)


def test_check_mode_on_a_missing_bucket(run_module, s3):
    result = run_module(s3_bucket_replication, dict(args(), name="nope"), check_mode=True)
    assert result["changed"]
    assert run_module(s3_bucket_replication, dict(args(), name="nope"))["failed"]


def test_changed_rule_is_written(run_module, s3):
    run_module(s3_bucket_replication, args())
    result = run_module(s3_bucket_replication, args(storage_class="STANDARD_IA"))
    assert result["changed"]
    config = s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"]
    assert config["Rules"][0]["Destination"]["StorageClass"] == "STANDARD_IA"


def test_state_absent(run_module, s3):
    run_module(s3_bucket_replication, args())
    assert run_module(s3_bucket_replication, {"name": SOURCE, "state": "absent"})["changed"]
    assert not run_module(s3_bucket_replication, {"name": SOURCE, "state": "absent"})["changed"]


def test_replica_key_needs_kms_encrypted_objects(run_module, s3):
    result = run_module(s3_bucket_replication, args(replicate_kms_encrypted=False))
    assert result["failed"] and "requires replicate_kms_encrypted" in result["msg"]


def test_present_needs_rules(run_module, s3):
    result = run_module(s3_bucket_replication, {"name": SOURCE, "role": ROLE, "rules": []})
    assert result["failed"] and "at least one rule" in result["msg"]
