"""site.yml as a whole: its two phases (each role's prepare / place halves, side by side) keep
check mode honest: on an empty account it reports what it would create and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.playbook import PlaybookRun, run_playbook


def _check_on_empty_account(aws: Any, tmp_path: Path, tags: str | None = None) -> PlaybookRun:
    """site.yml --check on BioInvest production against the empty emulator; it must succeed and
    write nothing."""
    connection = {
        "endpoint_url": aws.endpoint_url,
        "access_key": "testing",
        "secret_key": "testing",
    }
    run = run_playbook(
        "site.yml",
        inventory="inventories/bioinvest-production",
        extra_vars={"plinth_aws": connection, "eks_addons": []},
        check=True,
        tags=tags,
        tmp_path=tmp_path,
    )
    assert run.rc == 0, run.failure_messages() or run.stderr
    assert aws.write_calls() == [], "check mode must not write"
    return run


def test_check_mode_on_empty_account_writes_nothing(aws: Any, tmp_path: Path) -> None:
    run = _check_on_empty_account(aws, tmp_path)
    changed = " ".join(run.changed_tasks())
    for task in (
        "network : Ensure the VPC",
        "network : Ensure the subnets",
        "network : Ensure the route tables",
        "network : Ensure the security groups",
        "Ensure the layers' KMS keys",
        "Ensure the layers' log groups",
        "Ensure the layers' IAM roles",
    ):
        assert task in changed, f"{task} should report what it would create"
    # One run per kind for every layer (host plinth-shared), in the right regions; the layers'
    # own runs of them are skipped.
    keys = run.result("Ensure the layers' KMS keys", "plinth-shared")["keys"]
    assert sorted((k["alias"], k["region"]) for k in keys) == [
        ("alias/bioinvest-production-eks-secrets", "us-east-1"),
        ("alias/bioinvest-production-elasticache", "us-east-1"),
        ("alias/bioinvest-production-rds", "us-east-1"),
        ("alias/bioinvest-production-rds", "us-west-2"),
        ("alias/bioinvest-production-storage", "us-east-1"),
        ("alias/bioinvest-production-storage", "us-west-2"),
    ]
    assert all(k["changed"] and not k.get("key_arn") for k in keys)
    groups = run.result("Ensure the layers' log groups", "plinth-shared")["log_groups"]
    placed = [(g["name"], g["region"]) for g in groups]
    for group in (
        ("/plinth/bioinvest-production/vpc-flow-logs", "us-east-1"),
        ("/plinth/bioinvest-production-dr/vpc-flow-logs", "us-west-2"),
        ("/aws/eks/bioinvest-production/cluster", "us-east-1"),
        ("/plinth/bioinvest-production/apps/research-api", "us-east-1"),
    ):
        assert group in placed, f"{group} should be among the shared log groups: {placed}"
    roles = run.result("Ensure the layers' IAM roles", "plinth-shared")["roles"]
    assert sorted(r["name"] for r in roles) == [
        "bioinvest-production-dr-vpc-flow-logs",
        "bioinvest-production-eks-cluster",
        "bioinvest-production-eks-node",
        "bioinvest-production-rds-monitoring",
        "bioinvest-production-s3-replication",
        "bioinvest-production-vpc-flow-logs",
    ]
    own_runs = (
        "storage : Ensure the KMS keys",
        "eks : Ensure the cluster and node IAM roles",
        "rds : Ensure the storage encryption key",
        "elasticache : Ensure the KMS key for the caches",
        "network : Ensure the flow-log delivery role and its policy",
        "network : Ensure the flow-log group",
        "monitoring : Ensure the log groups with retention",
    )
    for task in own_runs:
        results = [r for t in run.tasks if t["name"].endswith(task) for r in t["hosts"].values()]
        assert results and all(r.get("skipped") for r in results), f"{task} should be skipped"
    # The DR network (the DR replica's VPC) beside the primary one, on its own host.
    dr_changed = " ".join(
        t["name"] for t in run.tasks if t["hosts"].get("plinth-network-dr", {}).get("changed")
    )
    for task in (
        "network : Ensure the VPC",
        "network : Ensure the subnets",
        "network : Ensure the security groups",
    ):
        assert task in dr_changed, f"{task} should report what it would create in the DR region"


def test_one_layer_by_tag_makes_only_its_shared_resources(aws: Any, tmp_path: Path) -> None:
    """--tags storage: plinth-shared declares and makes the storage layer's keys and replication
    role only, and no other layer runs."""
    run = _check_on_empty_account(aws, tmp_path, tags="storage")
    keys = run.result("Ensure the layers' KMS keys", "plinth-shared")["keys"]
    assert sorted((k["alias"], k["region"]) for k in keys) == [
        ("alias/bioinvest-production-storage", "us-east-1"),
        ("alias/bioinvest-production-storage", "us-west-2"),
    ]
    roles = run.result("Ensure the layers' IAM roles", "plinth-shared")["roles"]
    assert [r["name"] for r in roles] == ["bioinvest-production-s3-replication"]
    assert run.result("Ensure the layers' log groups", "plinth-shared").get("skipped")
    # A role's argument validation runs whatever the tags (Ansible tags it always): no AWS.
    ran = {
        (host, t["name"])
        for t in run.tasks
        if " : " in t["name"] and "Validating arguments against arg spec" not in t["name"]
        for host, r in t["hosts"].items()
        if not r.get("skipped")
    }
    assert {host for host, _ in ran} <= {"plinth-storage", "plinth-shared", "localhost"}, ran
    assert "storage : Ensure the buckets" in " ".join(run.changed_tasks())
