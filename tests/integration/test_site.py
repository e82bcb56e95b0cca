"""site.yml as a whole: its two phases (each role's prepare / place halves, side by side) keep
check mode honest: on an empty account it reports what it would create and writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.playbook import run_playbook


def test_check_mode_on_empty_account_writes_nothing(aws: Any, tmp_path: Path) -> None:
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
        tmp_path=tmp_path,
    )
    assert run.rc == 0, run.failure_messages() or run.stderr
    assert aws.write_calls() == [], "check mode must not write"
    changed = " ".join(run.changed_tasks())
    for task in (
        "network : Ensure the VPC",
        "network : Ensure the subnets",
        "network : Ensure the route tables",
        "network : Ensure the security groups",
        "storage : Ensure the KMS keys",
        "eks : Ensure the cluster and node IAM roles",
        "rds : Ensure the storage encryption key",
        "elasticache : Ensure the KMS key for the caches",
    ):
        assert task in changed, f"{task} should report what it would create"
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
