"""rds_dr_promote / rds_dr_promote_info against moto in-process, and the pre-check logic.

moto has no ReplicaLag datapoints of its own (the emulator publishes them, see
tests/integration/test_dr.py) and no DescribePendingMaintenanceActions: those two reads are
covered with a botocore Stubber.
"""

from __future__ import annotations

import datetime
from typing import Any

import boto3
import botocore.exceptions
import pytest
from ansible_collections.plinth.platform.plugins.module_utils import rds_dr
from ansible_collections.plinth.platform.plugins.modules import (
    rds_dr_promote,
    rds_dr_promote_info,
)
from botocore.stub import Stubber

HOME, DR = "us-east-1", "us-west-2"


def _pair() -> tuple[dict[str, Any], dict[str, Any]]:
    home = boto3.client("rds", region_name=HOME)
    primary = home.create_db_instance(
        DBInstanceIdentifier="db",
        Engine="postgres",
        DBInstanceClass="db.t4g.medium",
        AllocatedStorage=20,
        MasterUsername="u",
        MasterUserPassword="password123",
        BackupRetentionPeriod=7,
    )["DBInstance"]
    replica = boto3.client("rds", region_name=DR).create_db_instance_read_replica(
        DBInstanceIdentifier="db-dr",
        SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        SourceRegion=HOME,
    )["DBInstance"]
    return primary, replica


ARGS = {"region": DR, "db_instance_identifier": "db-dr", "check_pending_maintenance": False}


def test_missing_instance_fails(aws_moto: None, run_module: Any) -> None:
    result = run_module(rds_dr_promote, ARGS)
    assert result["failed"] and "not found" in result["msg"]


def test_info_reports_replica_and_unknown_lag(aws_moto: None, run_module: Any) -> None:
    _pair()
    info = run_module(rds_dr_promote_info, ARGS)
    assert info["exists"] and info["is_replica"]
    assert info["source"] == {"db_instance_identifier": "db", "region": HOME}
    # moto publishes no ReplicaLag: not ready, and the check says why.
    assert info["replica_lag_seconds"] is None and not info["ready"]
    lag = next(c for c in info["checks"] if c["name"] == "replica_lag")
    assert lag["passed"] is False and "no ReplicaLag" in lag["detail"]
    assert (
        run_module(rds_dr_promote_info, dict(ARGS, db_instance_identifier="x"))["exists"] is False
    )


def test_refused_without_force_and_nothing_changes(aws_moto: None, run_module: Any) -> None:
    _pair()
    result = run_module(rds_dr_promote, ARGS)
    assert result["failed"] and "Refusing to promote db-dr" in result["msg"]
    assert "replica_lag" in result["msg"] and not result["changed"]
    replica = boto3.client("rds", region_name=DR).describe_db_instances()["DBInstances"][0]
    assert replica.get("ReadReplicaSourceDBInstanceIdentifier")


def test_check_mode_plans_forced_promotion(aws_moto: None, run_module: Any) -> None:
    _pair()
    args = dict(ARGS, force=True, fence=True, multi_az=True, backup_retention_period=14)
    result = run_module(rds_dr_promote, args, check_mode=True, diff=True)
    assert result["changed"] and not result["promoted"]
    assert result["forced"] == ["replica_lag"]
    assert result["plan"] == [
        "fence db",
        "promote db-dr with 14 days of backups",
        "turn Multi-AZ on for db-dr",
    ]
    assert result["diff"] == {"before": {"read_replica": True}, "after": {"read_replica": False}}
    assert [s["step"] for s in result["timeline"]] == ["describe", "prechecks"]
    replica = boto3.client("rds", region_name=DR).describe_db_instances()["DBInstances"][0]
    assert replica.get("ReadReplicaSourceDBInstanceIdentifier") and not replica["MultiAZ"]


def test_standalone_instance_is_no_change(aws_moto: None, run_module: Any) -> None:
    primary, _replica = _pair()
    args = dict(ARGS, region=HOME, db_instance_identifier="db", backup_retention_period=7)
    result = run_module(rds_dr_promote, args)
    assert not result["changed"] and result["already_promoted"]
    assert result["fence"]["status"] == "skipped"
    assert result["endpoint"]["address"] == primary["Endpoint"]["Address"]
    # A standalone instance still gets the wanted retention (and tags), reported as a change.
    result = run_module(rds_dr_promote, dict(args, backup_retention_period=14), check_mode=True)
    assert result["changed"] and result["plan"] == ["modify db: BackupRetentionPeriod"]


def _check(results: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in results if r["name"] == name)


REPLICA = {
    "DBInstanceIdentifier": "db-dr",
    "DBInstanceStatus": "available",
    "ReadReplicaSourceDBInstanceIdentifier": "arn:aws:rds:us-east-1:123456789012:db:db",
    "StatusInfos": [{"StatusType": "read replication", "Status": "replicating", "Normal": True}],
}


def test_prechecks_pass_within_rpo() -> None:
    results = rds_dr.prechecks(REPLICA, 12.0, 300, [])
    assert not rds_dr.blocking_failures(results)
    assert _check(results, "replica_lag")["detail"] == "ReplicaLag 12 s, RPO 300 s"


@pytest.mark.parametrize(
    ("change", "lag", "maintenance", "failing"),
    [
        ({}, 301.0, [], "replica_lag"),
        ({}, None, [], "replica_lag"),
        ({"DBInstanceStatus": "backing-up"}, 0.0, [], "available"),
        (
            {"StatusInfos": [{"StatusType": "read replication", "Status": "error"}]},
            0.0,
            [],
            "replicating",
        ),
        ({}, 0.0, [{"Action": "system-update"}], "pending_maintenance"),
        ({"ReadReplicaSourceDBInstanceIdentifier": None}, 0.0, [], "is_replica"),
    ],
)
def test_prechecks_fail(change: dict, lag: float | None, maintenance: list, failing: str) -> None:
    results = rds_dr.prechecks(dict(REPLICA, **change), lag, 300, maintenance)
    assert [r["name"] for r in rds_dr.blocking_failures(results)] == [failing]


def test_parse_source() -> None:
    arn = "arn:aws:rds:us-east-1:123456789012:db:db"
    assert rds_dr.parse_source(arn, DR) == ("db", HOME)
    assert rds_dr.parse_source("db", DR) == ("db", DR)
    assert rds_dr.parse_source(None, DR) == (None, None)


def test_replica_lag_takes_the_newest_datapoint() -> None:
    client = boto3.client(
        "cloudwatch", region_name=DR, aws_access_key_id="x", aws_secret_access_key="x"
    )
    now = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    with Stubber(client) as stub:
        stub.add_response(
            "get_metric_statistics",
            {
                "Datapoints": [
                    {"Timestamp": now - datetime.timedelta(minutes=1), "Maximum": 900.0},
                    {"Timestamp": now - datetime.timedelta(minutes=3), "Maximum": 5.0},
                ]
            },
            {
                "Namespace": "AWS/RDS",
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "db-dr"}],
                "StartTime": now - datetime.timedelta(minutes=5),
                "EndTime": now,
                "Period": 60,
                "Statistics": ["Maximum"],
            },
        )
        stub.add_response("get_metric_statistics", {"Datapoints": []})
        assert rds_dr.replica_lag(NoRetry(client), "db-dr", now) == 900.0
        assert rds_dr.replica_lag(NoRetry(client), "db-dr", now) is None


def test_pending_maintenance_lists_every_action() -> None:
    # DescribePendingMaintenanceActions is not implemented by moto 5.2.5.
    client = boto3.client("rds", region_name=DR, aws_access_key_id="x", aws_secret_access_key="x")
    arn = "arn:aws:rds:us-west-2:123456789012:db:db-dr"
    with Stubber(client) as stub:
        stub.add_response(
            "describe_pending_maintenance_actions",
            {
                "PendingMaintenanceActions": [
                    {
                        "ResourceIdentifier": arn,
                        "PendingMaintenanceActionDetails": [
                            {"Action": "system-update"},
                            {"Action": "db-upgrade"},
                        ],
                    }
                ]
            },
            {"ResourceIdentifier": arn},
        )
        actions = rds_dr.pending_maintenance(NoRetry(client), arn)
    assert [a["Action"] for a in actions] == ["system-update", "db-upgrade"]


class NoRetry:
    """Stands in for the retrying client wrapper, which accepts aws_retry."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(*args: Any, aws_retry: bool = False, **kwargs: Any) -> Any:
            del aws_retry  # the stubbed client takes no retry flag
            return method(*args, **kwargs)

        return call


def test_info_reads_the_peer_in_its_region(aws_moto: None, run_module: Any) -> None:
    _pair()
    args = dict(ARGS, peer_db_instance_identifier="db", peer_region=HOME)
    peer = run_module(rds_dr_promote_info, args)["peer"]
    assert peer["reachable"] and peer["exists"] and not peer["is_replica"]
    assert peer["instance"]["db_instance_identifier"] == "db"
    args = dict(ARGS, peer_db_instance_identifier="gone", peer_region=HOME)
    peer = run_module(rds_dr_promote_info, args)["peer"]
    assert peer == {"reachable": True, "exists": False, "is_replica": False, "source": {}}


def test_info_reports_an_unreachable_peer(
    aws_moto: None, run_module: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pair()
    real = rds_dr_promote_info.describe_instance

    def region_down(client: Any, identifier: str) -> Any:
        if identifier == "db":
            raise botocore.exceptions.EndpointConnectionError(endpoint_url="https://rds.down")
        return real(client, identifier)

    monkeypatch.setattr(rds_dr_promote_info, "describe_instance", region_down)
    info = run_module(rds_dr_promote_info, dict(ARGS, peer_db_instance_identifier="db"))
    assert info["exists"] and info["is_replica"]  # the replica itself is read as usual
    assert info["peer"]["reachable"] is False and "rds.down" in info["peer"]["error"]
