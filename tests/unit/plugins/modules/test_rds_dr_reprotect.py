"""rds_dr_reprotect against moto in-process: the fenced old primary is replaced by a replica of the
promoted instance, idempotently, in check mode and without waiting."""

from __future__ import annotations

from typing import Any

import boto3
from ansible_collections.plinth.platform.plugins.module_utils import rds_dr
from ansible_collections.plinth.platform.plugins.modules import rds_dr_reprotect

HOME, DR = "us-east-1", "us-west-2"


def _promoted() -> str:
    """A standalone home instance 'db' and a standalone (promoted) 'db-dr'; db-dr's ARN."""
    for region, name in ((HOME, "db"), (DR, "db-dr")):
        created = boto3.client("rds", region_name=region).create_db_instance(
            DBInstanceIdentifier=name,
            Engine="postgres",
            DBInstanceClass="db.t4g.medium",
            AllocatedStorage=20,
            MasterUsername="u",
            MasterUserPassword="password123",
            BackupRetentionPeriod=7,
            DeletionProtection=name == "db",
        )["DBInstance"]
    return str(created["DBInstanceArn"])


def _args(arn: str, **extra: Any) -> dict[str, Any]:
    return dict(
        region=HOME,
        db_instance_identifier="db",
        source_db_instance_identifier=arn,
        poll_interval=1,
        tags={"plinth:role": "dr-replica"},
        **extra,
    )


def test_check_mode_plans_and_changes_nothing(aws_moto: None, run_module: Any) -> None:
    arn = _promoted()
    result = run_module(rds_dr_reprotect, _args(arn), check_mode=True, diff=True)
    assert result["changed"] and not result["deleted"] and not result["created"]
    assert result["plan"][0] == "turn deletion protection off on db"
    assert result["plan"][1].startswith("delete db with final snapshot db-before-reprotect-")
    assert result["plan"][2:] == [
        "wait until db is deleted",
        f"create db as a read replica of {arn}",
        "wait until db is available",
    ]
    assert result["diff"]["before"] == {"read_replica_of_source": False}
    home = boto3.client("rds", region_name=HOME).describe_db_instances()["DBInstances"]
    assert [
        (i["DBInstanceIdentifier"], i.get("ReadReplicaSourceDBInstanceIdentifier")) for i in home
    ] == [("db", None)]


def test_replaces_the_old_primary_then_no_change(aws_moto: None, run_module: Any) -> None:
    arn = _promoted()
    result = run_module(rds_dr_reprotect, _args(arn))
    assert result["changed"] and result["deleted"] and result["created"], result
    assert result["status"] == "available" and not result["already_protected"]
    snapshot = result["final_snapshot"]
    rds = boto3.client("rds", region_name=HOME)
    assert rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot)["DBSnapshots"]
    replica = rds.describe_db_instances(DBInstanceIdentifier="db")["DBInstances"][0]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == arn
    assert replica["DBInstanceClass"] == "db.t4g.medium"
    assert {"Key": "plinth:role", "Value": "dr-replica"} in replica["TagList"]
    assert [s["step"] for s in result["timeline"]] == ["describe", "delete", "create"]

    again = run_module(rds_dr_reprotect, _args(arn), check_mode=True)
    assert not again["changed"] and again["already_protected"] and again["plan"] == []
    again = run_module(rds_dr_reprotect, _args(arn))
    assert not again["changed"] and again["already_protected"]


def test_source_by_identifier_without_waiting(aws_moto: None, run_module: Any) -> None:
    arn = _promoted()
    args = _args("db-dr", source_region=DR, wait=False, final_snapshot=False)
    result = run_module(rds_dr_reprotect, args)
    assert result["created"] and result["final_snapshot"] is None
    assert result["plan"][-1] == f"create db as a read replica of {arn}"  # no wait
    assert "delete db without a final snapshot" in result["plan"]
    replica = boto3.client("rds", region_name=HOME).describe_db_instances()["DBInstances"][0]
    assert replica["ReadReplicaSourceDBInstanceIdentifier"] == arn


def test_missing_source_fails(aws_moto: None, run_module: Any) -> None:
    _promoted()
    result = run_module(rds_dr_reprotect, _args("nope", source_region=DR))
    assert result["failed"] and "nope not found in us-west-2" in result["msg"]


def test_replica_settings_prefer_options() -> None:
    replaced = {
        "DBInstanceClass": "db.r6g.large",
        "DBSubnetGroup": {"DBSubnetGroupName": "home-db"},
        "VpcSecurityGroups": [{"VpcSecurityGroupId": "sg-fence"}],
        "DBParameterGroups": [{"DBParameterGroupName": "pg16"}],
    }
    settings = rds_dr.replica_settings(replaced, {"vpc_security_group_ids": ["sg-db"]})
    assert settings == {
        "DBInstanceClass": "db.r6g.large",
        "DBSubnetGroupName": "home-db",
        "VpcSecurityGroupIds": ["sg-db"],
        "DBParameterGroupName": "pg16",
    }
    assert rds_dr.replica_settings({}, {}) == {}
