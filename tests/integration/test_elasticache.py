"""The cache layer end to end against the embedded AWS (moto with Plinth's fidelity fixes):
check mode writes nothing, apply, rerun, the resulting ElastiCache / KMS / Secrets Manager / Logs
state, the AUTH token never printed, bad configs refused before any call, teardown."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

import botocore.exceptions
import botocore.parsers
import pytest
import yaml

from tests.support.playbook import run_playbook

ROOT = Path(__file__).resolve().parents[2]
LOCAL = yaml.safe_load((ROOT / "inventories/local/group_vars/all/platform.yml").read_text())[
    "platform"
]
PREFIX = f"{LOCAL['name']}-{LOCAL['environment']}"
# Two caches, started together: BioInvest's shape (3 nodes, TLS + AUTH, Multi-AZ) and a
# single-node Valkey task queue with engine logs only.
CACHES: dict[str, Any] = {
    "sessions": {
        "engine": "redis",
        "engine_version": "7.1",
        "node_type": "cache.r6g.xlarge",
        "replicas": 2,
        "snapshot_retention_days": 7,
        "snapshot_window": "03:00-05:00",
        "maintenance_window": "sun:05:00-sun:07:00",
        "logs": {"slow": True, "engine": True, "retention_days": 14},
    },
    "queue": {
        "engine": "valkey",
        "engine_version": "8.0",
        "node_type": "cache.t4g.small",
        "replicas": 0,
        "snapshot_retention_days": 0,
        "logs": {"slow": False, "engine": True, "retention_days": 7},
    },
}
PLATFORM = dict(copy.deepcopy(LOCAL), caches=CACHES)
SESSIONS, QUEUE = f"{PREFIX}-sessions", f"{PREFIX}-queue"


def _unit_config_cases() -> Any:
    """The unit tests' valid config, bad-config cases and patch helper: one source of truth."""
    path = ROOT / "tests/unit/plugins/module_utils/test_config.py"
    spec = importlib.util.spec_from_file_location("plinth_test_config_cases_ec", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = _unit_config_cases()
CACHE_CASES = [c for c in CASES.BAD_CONFIGS if c["path"].startswith("platform.caches")]


def _run(aws: Any, tmp_path: Path, playbook: str = "elasticache.yml", **kwargs: Any) -> Any:
    kwargs.setdefault("platform", PLATFORM)
    return run_playbook(playbook, endpoint_port=aws.port, tmp_path=tmp_path, **kwargs)


def _tags(client: Any, arn: str) -> dict[str, str]:
    return {
        t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceName=arn)["TagList"]
    }


def _groups(aws: Any) -> dict[str, dict[str, Any]]:
    groups = aws.client("elasticache").describe_replication_groups()["ReplicationGroups"]
    return {g["ReplicationGroupId"]: g for g in groups}


def _member_reports_security_groups(aws: Any, group: dict[str, Any]) -> bool:
    member = group["MemberClusters"][0]
    cluster = aws.client("elasticache").describe_cache_clusters(CacheClusterId=member)
    return "SecurityGroups" in cluster["CacheClusters"][0]


def test_check_apply_rerun_teardown(aws: Any, tmp_path: Path) -> None:
    # Check mode on an empty account (not even the network): placeholders, nothing written.
    check = _run(aws, tmp_path, check=True)
    assert check.rc == 0, check.failure_messages() or check.stderr[-2000:]
    assert "Ensure the KMS key for the caches" in " ".join(check.changed_tasks())
    assert check.changed > 0, "check mode on an empty account must report what it would create"
    assert aws.write_calls() == [], "check mode must not write"
    assert _groups(aws) == {}

    network = _run(aws, tmp_path, "network.yml")
    assert network.rc == 0, network.failure_messages() or network.stderr[-2000:]
    ec2 = aws.client("ec2")
    stack = [{"Name": "tag:plinth:stack", "Values": [PREFIX]}]
    private = {
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=stack)["Subnets"]
        if {"Key": "plinth:tier", "Value": "private"} in s["Tags"]
    }
    (cache_sg,) = [
        g["GroupId"]
        for g in ec2.describe_security_groups(Filters=stack)["SecurityGroups"]
        if {"Key": "plinth:role", "Value": "cache"} in g["Tags"]
    ]

    apply = _run(aws, tmp_path, verbosity=3)
    assert apply.rc == 0, apply.failure_messages() or apply.stderr[-2000:]
    ec = aws.client("elasticache")
    groups = _groups(aws)
    assert sorted(groups) == sorted([SESSIONS, QUEUE])

    # Subnet group on the network layer's private subnets.
    (subnet_group,) = ec.describe_cache_subnet_groups(CacheSubnetGroupName=f"{PREFIX}-cache")[
        "CacheSubnetGroups"
    ]
    assert {s["SubnetIdentifier"] for s in subnet_group["Subnets"]} == private

    # KMS key with rotation, found by its alias; every group encrypted with it.
    kms = aws.client("kms")
    alias = f"alias/{PREFIX}-elasticache"
    key_id = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]

    sessions, queue = groups[SESSIONS], groups[QUEUE]
    for group in (sessions, queue):
        assert group["Status"] == "available"
        assert group["TransitEncryptionEnabled"] is True
        assert group["AtRestEncryptionEnabled"] is True and group["KmsKeyId"] == key_arn
        assert group["AuthTokenEnabled"] is True
        assert group["ClusterEnabled"] is False
        tags = _tags(ec, group["ARN"])
        assert tags["plinth:stack"] == PREFIX and tags["ManagedBy"] == "plinth"
        assert tags["Project"] == "plinth-local"
        member = ec.describe_cache_clusters(CacheClusterId=group["MemberClusters"][0])
        member = member["CacheClusters"][0]
        assert member["CacheSubnetGroupName"] == f"{PREFIX}-cache"
        assert member["Engine"] == ("redis" if group is sessions else "valkey")
        # Private only: a member has no public address; the subnet group holds private subnets.
        assert "PubliclyAccessible" not in member or member["PubliclyAccessible"] is False

    # BioInvest's shape: primary + 2 replicas, failover and Multi-AZ, backups and windows.
    assert sessions["CacheNodeType"] == "cache.r6g.xlarge"
    assert len(sessions["MemberClusters"]) == 3
    assert sessions["AutomaticFailover"] == "enabled" and sessions["MultiAZ"] == "enabled"
    assert sessions["SnapshotRetentionLimit"] == 7 and sessions["SnapshotWindow"] == "03:00-05:00"
    member = ec.describe_cache_clusters(CacheClusterId=sessions["MemberClusters"][0])
    assert member["CacheClusters"][0]["PreferredMaintenanceWindow"] == "sun:05:00-sun:07:00"
    assert member["CacheClusters"][0]["EngineVersion"].startswith("7.1")
    logs = {c["LogType"]: c for c in sessions["LogDeliveryConfigurations"]}
    assert sorted(logs) == ["engine-log", "slow-log"]
    assert logs["slow-log"]["DestinationDetails"]["CloudWatchLogsDetails"]["LogGroup"] == (
        f"/plinth/{PREFIX}/elasticache/sessions/slow-log"
    )
    # The task queue: one node, so no failover and no Multi-AZ; engine log only.
    assert len(queue["MemberClusters"]) == 1
    assert queue["AutomaticFailover"] == "disabled" and queue["MultiAZ"] == "disabled"
    assert [c["LogType"] for c in queue["LogDeliveryConfigurations"]] == ["engine-log"]

    log_groups = {
        g["logGroupName"]: g
        for g in aws.client("logs").describe_log_groups(
            logGroupNamePrefix=f"/plinth/{PREFIX}/elasticache/"
        )["logGroups"]
    }
    assert sorted(log_groups) == sorted(
        f"/plinth/{PREFIX}/elasticache/{name}"
        for name in ("sessions/slow-log", "sessions/engine-log", "queue/engine-log")
    )
    assert log_groups[f"/plinth/{PREFIX}/elasticache/sessions/slow-log"]["retentionInDays"] == 14
    assert log_groups[f"/plinth/{PREFIX}/elasticache/queue/engine-log"]["retentionInDays"] == 7

    # AUTH tokens: in Secrets Manager under the layer's key, never in the output (even -vvv).
    sm = aws.client("secretsmanager")
    tokens = {}
    for name in ("sessions", "queue"):
        secret_id = f"{PREFIX}/elasticache/{name}/auth-token"
        assert sm.describe_secret(SecretId=secret_id)["KmsKeyId"] == key_arn
        tokens[name] = sm.get_secret_value(SecretId=secret_id)["SecretString"]
        assert len(tokens[name]) == 64 and tokens[name].isalnum()
        assert tokens[name] not in apply.stdout + apply.stderr, f"{name} token printed"
    assert tokens["sessions"] != tokens["queue"]

    # The published output: endpoints, ports, ids and secret ARNs, never a token.
    output = apply.result("Publish the cache layer's output")["ansible_facts"][
        "elasticache__output"
    ]
    assert output["kms_key_arn"] == key_arn and output["subnet_group_name"] == f"{PREFIX}-cache"
    published = output["caches"]["sessions"]
    assert published["replication_group_id"] == SESSIONS and published["port"] == 6379
    assert published["primary_endpoint"] == sessions["NodeGroups"][0]["PrimaryEndpoint"]["Address"]
    assert (
        published["auth_token_secret_arn"]
        == sm.describe_secret(SecretId=f"{PREFIX}/elasticache/sessions/auth-token")["ARN"]
    )
    assert sorted(published["member_clusters"]) == sorted(sessions["MemberClusters"])
    assert all(token not in str(output) for token in tokens.values())

    rerun = _run(aws, tmp_path, verbosity=3)
    assert rerun.rc == 0, rerun.failure_messages()
    for name, token in tokens.items():
        secret_id = f"{PREFIX}/elasticache/{name}/auth-token"
        assert sm.get_secret_value(SecretId=secret_id)["SecretString"] == token, "token rotated"
        assert token not in rerun.stdout + rerun.stderr
    if _member_reports_security_groups(aws, sessions):
        assert rerun.changed == 0, f"rerun changed: {rerun.changed_tasks()}"
    else:
        # moto 5.2.5 gap: DescribeCacheClusters leaves out SecurityGroups, so the module sees
        # none on the members and sends the cache SG again on every run. Nothing else changes.
        assert [t.split(" : ")[-1] for t in rerun.changed_tasks()] == [
            "Ensure the replication groups"
        ], rerun.changed_tasks()
    assert cache_sg  # the network layer's cache SG was the one passed (see the gap above)

    teardown = _run(aws, tmp_path, extra_vars={"elasticache_state": "absent"})
    assert _groups(aws) == {}
    assert (
        aws.client("logs").describe_log_groups(logGroupNamePrefix=f"/plinth/{PREFIX}/elasticache/")[
            "logGroups"
        ]
        == []
    )
    for name in ("sessions", "queue"):
        secret = sm.describe_secret(SecretId=f"{PREFIX}/elasticache/{name}/auth-token")
        assert "DeletedDate" in secret, "secrets are scheduled for deletion"
    expected = _moto_teardown_gap(aws)
    if expected is None:
        assert teardown.rc == 0, teardown.failure_messages()
        assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
        again = _run(aws, tmp_path, extra_vars={"elasticache_state": "absent"})
        assert again.rc == 0 and again.changed == 0, again.changed_tasks()
    else:
        # Everything before the step moto cannot do is gone; that step is the only failure.
        failed = [
            t["name"].split(" : ")[-1]
            for t in teardown.tasks
            if any(r.get("failed") for r in t["hosts"].values())
        ]
        assert failed == [expected], teardown.failure_messages()


def _moto_teardown_gap(aws: Any) -> str | None:
    """The first teardown task the emulator cannot serve, probed rather than assumed.

    moto 5.2.5: ScheduleKeyDeletion given a key ARN (as amazon.aws.kms_key sends it) raises a
    KeyError (moto indexes keys by id), and DeleteCacheSubnetGroup is not implemented; both answer
    500. Real AWS accepts both.
    """
    kms = aws.client("kms")
    arn = kms.create_key(Description="plinth probe")["KeyMetadata"]["Arn"]
    try:
        kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    except botocore.exceptions.ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] >= 500:
            return "Schedule the deletion of the KMS key"
        raise
    try:
        aws.client("elasticache").delete_cache_subnet_group(CacheSubnetGroupName="plinth-probe")
    except botocore.exceptions.ClientError as e:
        if e.response["ResponseMetadata"]["HTTPStatusCode"] >= 500:
            return "Remove the cache subnet group"
    except botocore.parsers.ResponseParserError:  # the 500 page is HTML, not XML
        return "Remove the cache subnet group"
    return None


def test_parameters_get_a_parameter_group(aws: Any, tmp_path: Path) -> None:
    try:
        aws.client("elasticache").describe_cache_parameter_groups()
    except (botocore.exceptions.ClientError, botocore.parsers.ResponseParserError):
        pytest.skip(
            "moto 5.2.5 does not implement the cache parameter group API (500 on "
            "DescribeCacheParameterGroups); plinth.platform.elasticache_parameter_group is "
            "covered by its Stubber unit tests"
        )
    caches = {"queue": dict(CACHES["queue"], parameters={"maxmemory-policy": "noeviction"})}
    platform = dict(copy.deepcopy(LOCAL), caches=caches)
    assert _run(aws, tmp_path, "network.yml").rc == 0
    apply = _run(aws, tmp_path, platform=platform)
    assert apply.rc == 0, apply.failure_messages()
    member = aws.client("elasticache").describe_cache_clusters(CacheClusterId=f"{QUEUE}-001")
    assert member["CacheClusters"][0]["CacheParameterGroup"]["CacheParameterGroupName"] == QUEUE
    rerun = _run(aws, tmp_path, platform=platform)
    assert rerun.rc == 0 and rerun.changed == 0, rerun.changed_tasks()


@pytest.mark.parametrize("case", CACHE_CASES, ids=[c["description"] for c in CACHE_CASES])
def test_bad_config_fails_before_any_aws_call(
    aws: Any, case: dict[str, Any], tmp_path: Path
) -> None:
    config = CASES.apply_patch(CASES.VALID, case)
    run = _run(aws, tmp_path, platform=config)
    assert run.rc != 0
    messages = "\n".join(run.failure_messages())
    assert case["path"] in messages and case["match"] in messages, messages
    assert aws.recorded_requests() == [], "validation must fail before any AWS call"
