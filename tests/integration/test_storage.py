"""The storage layer end to end against the embedded AWS: check mode on an empty account, apply,
rerun, the resulting S3/KMS/Secrets Manager state, secrets never in the output, teardown refusing
non-empty buckets, and bad configs refused before any call."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import PlaybookRun, run_playbook

ROOT = Path(__file__).resolve().parents[2]
LOCAL = yaml.safe_load((ROOT / "inventories/local/group_vars/all/platform.yml").read_text())[
    "platform"
]
PREFIX = f"{LOCAL['name']}-{LOCAL['environment']}"
REGION, DR_REGION = LOCAL["region"], LOCAL["dr_region"]
API_TOKEN = "given-token-Zq8Xv3Lm"  # the value_from secret's value: must never be printed

PLATFORM: dict[str, Any] = dict(
    LOCAL,
    # The network layer is only a prerequisite here: the smallest one that applies quickly.
    network=dict(LOCAL["network"], nat="none", flow_logs={"enabled": False}),
    eks=None,
    # Without a cluster: no apps and no (in-cluster) monitoring, which need one.
    apps=[],
    monitoring=None,
    kms_keys=[{"name": "analytics", "description": "Analytics data"}],
    buckets=[
        {
            "name": "raw",
            "replicate_to_dr": True,
            "lifecycle": [
                {
                    "id": "tiers",
                    "transitions": [
                        {"days": 30, "storage_class": "STANDARD_IA"},
                        {"days": 90, "storage_class": "GLACIER_IR"},
                        {"days": 365, "storage_class": "DEEP_ARCHIVE"},
                    ],
                    "noncurrent_expiration_days": 30,
                }
            ],
        },
        {
            "name": "logs",
            "kms_key": "analytics",
            "lifecycle": [{"id": "expire", "prefix": "app/", "expiration_days": 90}],
        },
    ],
    secrets=[
        {
            "name": "db/master",
            "description": "Database master password",
            "generate": {"length": 24},
            "replicate_to_dr": True,
        },
        {"name": "api-token", "value_from": "storage_test_api_token"},
    ],
)
EXTRA = {"storage_test_api_token": API_TOKEN}
RAW, LOGS, RAW_DR = f"{PREFIX}-raw", f"{PREFIX}-logs", f"{PREFIX}-raw-dr"


def _unit_config_cases() -> Any:
    """The unit tests' valid config, bad-config cases and patch helper: one source of truth."""
    path = ROOT / "tests/unit/plugins/module_utils/test_config.py"
    spec = importlib.util.spec_from_file_location("plinth_test_config_cases", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = _unit_config_cases()
STORAGE_CASES = [
    case
    for case in CASES.BAD_CONFIGS
    if case["path"].startswith(("platform.buckets[", "platform.kms_keys[", "platform.secrets["))
]


def storage(aws: Any, tmp_path: Path, **kwargs: Any) -> PlaybookRun:
    extra = dict(EXTRA, **kwargs.pop("extra_vars", {}))
    return run_playbook(
        "storage.yml",
        endpoint_port=aws.port,
        platform=PLATFORM,
        extra_vars=extra,
        tmp_path=tmp_path,
        **kwargs,
    )


def output(run: PlaybookRun) -> dict[str, Any]:
    return run.result("Publish the storage layer's output")["ansible_facts"]["storage__output"]


def moto_drops_replication_settings(aws: Any) -> bool:
    """moto 5.2.5's GetBucketReplication omits SourceSelectionCriteria that was put (AWS keeps
    it), so plinth.platform.s3_buckets sees a replication difference on every run."""
    (rule,) = aws.client("s3").get_bucket_replication(Bucket=RAW)["ReplicationConfiguration"][
        "Rules"
    ]
    return "SourceSelectionCriteria" not in rule


def moto_fails_key_deletion_by_arn(aws: Any) -> bool:
    """moto 5.2.5's ScheduleKeyDeletion looks the KeyId up as a bare key id, so the key ARN that
    amazon.aws.kms_key passes (valid in AWS) makes it answer 500 (KeyError in the server)."""
    kms = aws.client("kms")
    arn = kms.create_key(Description="plinth probe")["KeyMetadata"]["Arn"]
    try:
        kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    except kms.exceptions.ClientError as e:
        kms.schedule_key_deletion(KeyId=arn.split("/")[-1], PendingWindowInDays=7)
        return "500" in str(e) or "InternalError" in str(e)
    return False


def assert_only_key_deletion_failed(run: PlaybookRun) -> None:
    """With moto's ScheduleKeyDeletion gap, everything up to the KMS keys must have worked."""
    assert run.rc != 0
    failed = [
        t["name"].split(" : ")[-1]
        for t in run.tasks
        if any(r.get("failed") and not r.get("ignore_errors") for r in t["hosts"].values())
    ]
    assert failed == ["Schedule the KMS keys for deletion"], run.failure_messages()
    assert "ScheduleKeyDeletion" in json.dumps(run.result("Schedule the KMS keys for deletion"))


def assert_bucket_private_and_encrypted(s3: Any, bucket: str, key_arn: str) -> None:
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    default = rule["ApplyServerSideEncryptionByDefault"]
    assert default == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}, bucket
    assert rule["BucketKeyEnabled"] is True
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    (ownership,) = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == {"ObjectOwnership": "BucketOwnerEnforced"}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(statement["Resource"]) == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_check_apply_rerun_teardown(aws: Any, tmp_path: Path) -> None:
    network = run_playbook(
        "network.yml", endpoint_port=aws.port, platform=PLATFORM, tmp_path=tmp_path
    )
    assert network.rc == 0, network.failure_messages() or network.stderr
    aws.clear_recording()

    check = storage(aws, tmp_path, check=True)
    assert check.rc == 0, check.failure_messages() or check.stderr
    changed = check.changed_tasks()
    for task in ("Ensure the KMS keys", "Ensure the replication role and its policy"):
        assert any(name.endswith(task) for name in changed), changed
    # The buckets with their lifecycle and the source's replication: one task, one module run.
    buckets = {b["name"]: b for b in check.result("Ensure the buckets")["buckets"]}
    assert all(b["changed"] for b in buckets.values()), buckets
    assert [r["id"] for r in buckets[RAW]["lifecycle_rules"]] == ["tiers"]
    assert [r["id"] for r in buckets[RAW_DR]["lifecycle_rules"]] == ["tiers"]
    assert buckets[RAW]["replication"]["rules"][0]["destination_bucket"] == f"arn:aws:s3:::{RAW_DR}"
    assert "replication" not in buckets[LOGS] and "replication" not in buckets[RAW_DR]
    assert any(name.endswith("Ensure the secrets") for name in changed), changed
    assert aws.write_calls() == [], "check mode must not write"
    assert aws.client("s3").list_buckets()["Buckets"] == []

    apply = storage(aws, tmp_path, verbosity=3)
    assert apply.rc == 0, apply.failure_messages() or apply.stderr
    out = output(apply)

    # KMS: rotation and aliases, in both regions
    keys = out["kms_keys"]
    assert sorted(keys) == ["analytics", "storage"]
    for region, arn_key in ((REGION, "arn"), (DR_REGION, "dr_arn")):
        kms = aws.client("kms", region)
        aliases = {a["AliasName"]: a["TargetKeyId"] for a in kms.list_aliases()["Aliases"]}
        for name, key in keys.items():
            assert key["alias"] == f"alias/{PREFIX}-{name}"
            assert key[arn_key].split(":")[3] == region
            assert key[arn_key].endswith(aliases[key["alias"]])
            assert kms.get_key_rotation_status(KeyId=key[arn_key])["KeyRotationEnabled"]

    # S3: private, SSE-KMS with the configured keys, lifecycle tiers, replication to DR
    s3, s3_dr = aws.client("s3"), aws.client("s3", DR_REGION)
    assert out["buckets"]["raw"]["name"] == RAW and out["buckets"]["raw"]["dr_name"] == RAW_DR
    assert out["buckets"]["logs"]["arn"] == f"arn:aws:s3:::{LOGS}"
    assert_bucket_private_and_encrypted(s3, RAW, keys["storage"]["arn"])
    assert_bucket_private_and_encrypted(s3, LOGS, keys["analytics"]["arn"])
    assert_bucket_private_and_encrypted(s3_dr, RAW_DR, keys["storage"]["dr_arn"])
    assert s3_dr.get_bucket_location(Bucket=RAW_DR)["LocationConstraint"] == DR_REGION
    (tiers,) = s3.get_bucket_lifecycle_configuration(Bucket=RAW)["Rules"]
    assert [(t["Days"], t["StorageClass"]) for t in tiers["Transitions"]] == [
        (30, "STANDARD_IA"),
        (90, "GLACIER_IR"),
        (365, "DEEP_ARCHIVE"),
    ]
    assert tiers["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert tiers["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    (expire,) = s3.get_bucket_lifecycle_configuration(Bucket=LOGS)["Rules"]
    assert expire["Filter"] == {"Prefix": "app/"} and expire["Expiration"] == {"Days": 90}
    replication = s3.get_bucket_replication(Bucket=RAW)["ReplicationConfiguration"]
    assert replication["Role"] == out["replication_role_arn"]
    (rule,) = replication["Rules"]
    assert rule["Destination"]["Bucket"] == f"arn:aws:s3:::{RAW_DR}"
    assert rule["Destination"]["EncryptionConfiguration"] == {
        "ReplicaKmsKeyID": keys["storage"]["dr_arn"]
    }
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_replication(Bucket=LOGS)
    iam = aws.client("iam")
    role_name = f"{PREFIX}-s3-replication"
    policy = iam.get_role_policy(RoleName=role_name, PolicyName="replicate-to-dr")
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["WriteReplicas"]["Resource"] == [f"arn:aws:s3:::{RAW_DR}/*"]
    assert statements["EncryptReplicas"]["Resource"] == [keys["storage"]["dr_arn"]]
    assert statements["DecryptSources"]["Resource"] == [keys["storage"]["arn"]]

    # Secrets: KMS-encrypted, replicated, values as configured and never printed
    sm = aws.client("secretsmanager")
    secrets = out["secrets"]
    master = sm.describe_secret(SecretId=secrets["db/master"]["arn"])
    assert master["Name"] == f"{PREFIX}/db/master"
    assert master["KmsKeyId"] == keys["storage"]["arn"]
    (replica,) = master["ReplicationStatus"]
    assert replica["Region"] == DR_REGION
    # moto 5.2.5 reports every replica under alias/aws/secretsmanager whatever KmsKeyId was asked
    # for (ReplicaSecret ignores it); AWS reports the requested key.
    if replica["KmsKeyId"] != "alias/aws/secretsmanager":
        assert replica["KmsKeyId"] == keys["storage"]["dr_arn"]
    generated = sm.get_secret_value(SecretId=master["ARN"])["SecretString"]
    assert len(generated) == 24
    token = sm.get_secret_value(SecretId=secrets["api-token"]["arn"])["SecretString"]
    assert token == API_TOKEN
    assert "ReplicationStatus" not in sm.describe_secret(SecretId=secrets["api-token"]["arn"])

    rerun = storage(aws, tmp_path, verbosity=3)
    assert rerun.rc == 0, rerun.failure_messages()
    # moto reports the replication rule as changed on every run (see above): the buckets task may
    # then change, but only the source's replication.
    drops = moto_drops_replication_settings(aws)
    unexpected = [
        t
        for t in rerun.changed_tasks()
        if not (drops and t.split(" : ")[-1] == "Ensure the buckets")
    ]
    assert unexpected == [], f"rerun changed: {unexpected}"
    rerun_changes = {b["name"]: b["changes"] for b in rerun.result("Ensure the buckets")["buckets"]}
    assert rerun_changes == {
        RAW: ["replication"] if drops else [],
        LOGS: [],
        RAW_DR: [],
    }, rerun_changes
    assert (
        sm.get_secret_value(SecretId=master["ARN"])["SecretString"] == generated
    ), "a rerun must never rotate a generated secret"
    for run in (apply, rerun):
        text = run.stdout + run.stderr
        assert generated not in text and API_TOKEN not in text, "a secret value was printed"

    # Teardown: a bucket holding objects is refused unless storage_force_destroy
    # The emulator is reached over plain HTTP, which the TLS-only policy denies (moto evaluates
    # bucket policies): proof it works. The policy is lifted to put an object into the bucket.
    with pytest.raises(s3.exceptions.ClientError, match="Forbidden"):
        s3.put_object(Bucket=LOGS, Key="app/one.log", Body=b"x")
    s3.delete_bucket_policy(Bucket=LOGS)
    s3.put_object(Bucket=LOGS, Key="app/one.log", Body=b"x")
    refused = storage(aws, tmp_path, extra_vars={"storage_state": "absent"})
    assert refused.rc != 0
    assert f"{LOGS} still hold objects" in "\n".join(refused.failure_messages())
    assert sorted(b["Name"] for b in s3.list_buckets()["Buckets"]) == [LOGS, RAW, RAW_DR]

    kms_gap = moto_fails_key_deletion_by_arn(aws)
    destroy = storage(
        aws, tmp_path, extra_vars={"storage_state": "absent", "storage_force_destroy": True}
    )
    if kms_gap:
        assert_only_key_deletion_failed(destroy)
    else:
        assert destroy.rc == 0, destroy.failure_messages() or destroy.stderr
    assert s3.list_buckets()["Buckets"] == []
    assert sm.list_secrets()["SecretList"] == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_role(RoleName=role_name)
    if kms_gap:
        return  # the keys cannot be scheduled for deletion on this emulator, see above
    for region in (REGION, DR_REGION):
        kms = aws.client("kms", region)
        states = {
            kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"]
            for k in kms.list_keys()["Keys"]
        }
        assert states == {"PendingDeletion"}, (region, states)

    again = storage(
        aws, tmp_path, extra_vars={"storage_state": "absent", "storage_force_destroy": True}
    )
    assert again.rc == 0 and again.changed == 0, again.changed_tasks()


@pytest.mark.parametrize("case", STORAGE_CASES, ids=[c["description"] for c in STORAGE_CASES])
def test_bad_config_fails_before_any_aws_call(
    aws: Any, case: dict[str, Any], tmp_path: Path
) -> None:
    config = CASES.apply_patch(CASES.VALID, case)
    run = run_playbook("storage.yml", endpoint_port=aws.port, platform=config, tmp_path=tmp_path)
    assert run.rc != 0
    messages = "\n".join(run.failure_messages())
    assert case["path"] in messages and case["match"] in messages, messages
    assert aws.recorded_requests() == [], "validation must fail before any AWS call"


def test_missing_value_variable_fails_before_any_aws_call(aws: Any, tmp_path: Path) -> None:
    run = run_playbook("storage.yml", endpoint_port=aws.port, platform=PLATFORM, tmp_path=tmp_path)
    assert run.rc != 0
    assert "storage_test_api_token, which is not defined" in "\n".join(run.failure_messages())
    assert aws.recorded_requests() == []
