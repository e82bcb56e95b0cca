# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read a cross-region RDS read replica's DR readiness and time the promotion steps.

Shared by ``plinth.platform.rds_dr_promote`` and ``plinth.platform.rds_dr_promote_info``.  The
functions take (optionally retry-wrapped) boto3 clients and raise botocore errors; callers turn
those into ``fail_json_aws``.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

with contextlib.suppress(ImportError):  # the module reports a missing botocore
    import botocore

# "Amazon CloudWatch metrics for Amazon RDS": ReplicaLag is published once a minute per replica.
LAG_WINDOW_SECONDS = 300
LAG_PERIOD_SECONDS = 60
# Statuses in which PromoteReadReplica is refused or unsafe (a backup in progress blocks it).
BUSY_STATUSES = (
    "backing-up",
    "creating",
    "modifying",
    "rebooting",
    "upgrading",
    "storage-optimization",
)

# Waits until the instance is available and no longer lists a replication source: what
# PromoteReadReplica documents as done ("the DB instance is rebooted ... becomes a standalone").
PROMOTED_WAITER = {
    "version": 2,
    "waiters": {
        "DBInstancePromoted": {
            "operation": "DescribeDBInstances",
            "delay": 5,
            "maxAttempts": 720,
            "acceptors": [
                {
                    "state": "success",
                    "matcher": "path",
                    "argument": "length(DBInstances[?DBInstanceStatus == 'available'"
                    " && ReadReplicaSourceDBInstanceIdentifier == null]) == `1`",
                    "expected": True,
                },
                {
                    "state": "failure",
                    "matcher": "pathAny",
                    "argument": "DBInstances[].DBInstanceStatus",
                    "expected": "failed",
                },
            ],
        },
        "DBInstanceAvailable": {
            "operation": "DescribeDBInstances",
            "delay": 5,
            "maxAttempts": 720,
            "acceptors": [
                {
                    "state": "success",
                    "matcher": "pathAll",
                    "argument": "DBInstances[].DBInstanceStatus",
                    "expected": "available",
                },
                {
                    "state": "failure",
                    "matcher": "pathAny",
                    "argument": "DBInstances[].DBInstanceStatus",
                    "expected": "failed",
                },
            ],
        },
    },
}


def describe_instance(client: Any, identifier: str) -> dict[str, Any] | None:
    """The DB instance, or None when it does not exist."""
    try:
        found = client.describe_db_instances(DBInstanceIdentifier=identifier, aws_retry=True)
    except is_boto3_error_code("DBInstanceNotFound"):
        return None
    instances = found["DBInstances"]
    return instances[0] if instances else None


def is_replica(instance: dict[str, Any]) -> bool:
    return bool(instance.get("ReadReplicaSourceDBInstanceIdentifier"))


def parse_source(reference: str | None, default_region: str) -> tuple[str | None, str | None]:
    """(identifier, region) of a replication source given by identifier or by ARN."""
    if not reference:
        return None, None
    if reference.startswith("arn:"):
        parts = reference.split(":")
        # arn:aws:rds:<region>:<account>:db:<identifier>
        return parts[6], parts[3]
    return reference, default_region


def replication_status(instance: dict[str, Any]) -> str | None:
    """The ``read replication`` status RDS reports in StatusInfos, if it reports one."""
    for info in instance.get("StatusInfos") or []:
        if info.get("StatusType") == "read replication":
            return info.get("Status")
    return None


def replica_lag(
    cloudwatch: Any, identifier: str, now: datetime.datetime | None = None
) -> float | None:
    """The newest ReplicaLag maximum (seconds) of the last five minutes; None when none."""
    end = now or datetime.datetime.now(datetime.UTC)
    start = end - datetime.timedelta(seconds=LAG_WINDOW_SECONDS)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": identifier}],
        StartTime=start,
        EndTime=end,
        Period=LAG_PERIOD_SECONDS,
        Statistics=["Maximum"],
        aws_retry=True,
    )["Datapoints"]
    if not points:
        return None
    newest = max(points, key=lambda point: point["Timestamp"])
    return float(newest["Maximum"])


def pending_maintenance(client: Any, arn: str) -> list[dict[str, Any]]:
    """The instance's pending maintenance actions (DescribePendingMaintenanceActions)."""
    found = client.describe_pending_maintenance_actions(ResourceIdentifier=arn, aws_retry=True)
    actions: list[dict[str, Any]] = []
    for resource in found.get("PendingMaintenanceActions", []):
        actions.extend(resource.get("PendingMaintenanceActionDetails", []))
    return actions


def check(name: str, passed: bool | None, detail: str, blocking: bool = True) -> dict[str, Any]:
    """One pre-check result; ``passed`` None means not evaluated (skipped)."""
    return {"name": name, "passed": passed, "blocking": blocking, "detail": detail}


def prechecks(
    instance: dict[str, Any],
    lag: float | None,
    max_lag_seconds: int,
    maintenance: list[dict[str, Any]] | None,
) -> list[dict[str, Any]]:
    """Every pre-promotion check, evaluated on what RDS and CloudWatch report."""
    status = instance.get("DBInstanceStatus", "")
    replication = replication_status(instance)
    results = [
        check(
            "is_replica",
            is_replica(instance),
            (
                f"replicates from {instance.get('ReadReplicaSourceDBInstanceIdentifier')}"
                if is_replica(instance)
                else "not a read replica"
            ),
        ),
        check(
            "available",
            status == "available",
            f"status {status}" + (" (a backup blocks promotion)" if status == "backing-up" else ""),
        ),
    ]
    if replication is None:
        # RDS omits StatusInfos while replication is normal on some engines; status decides then.
        results.append(check("replicating", None, "RDS reports no read replication status"))
    else:
        results.append(
            check("replicating", replication == "replicating", f"read replication {replication}")
        )
    if lag is None:
        results.append(check("replica_lag", False, "no ReplicaLag datapoint in the last 5 minutes"))
    else:
        results.append(
            check(
                "replica_lag",
                lag <= max_lag_seconds,
                f"ReplicaLag {lag:g} s, RPO {max_lag_seconds} s",
            )
        )
    if maintenance is None:
        results.append(check("pending_maintenance", None, "not checked"))
    else:
        actions = ", ".join(sorted({a.get("Action", "?") for a in maintenance}))
        results.append(
            check(
                "pending_maintenance",
                not maintenance,
                f"pending: {actions}" if maintenance else "none pending",
            )
        )
    return results


def blocking_failures(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if r["blocking"] and r["passed"] is False]


# Settings a re-protection replica takes from the instance it replaces, unless given:
# (CreateDBInstanceReadReplica parameter, module option, how to read it from DescribeDBInstances).
REPLICA_SETTINGS = (
    ("DBInstanceClass", "db_instance_class", lambda i: i.get("DBInstanceClass")),
    (
        "DBSubnetGroupName",
        "db_subnet_group_name",
        lambda i: (i.get("DBSubnetGroup") or {}).get("DBSubnetGroupName"),
    ),
    (
        "VpcSecurityGroupIds",
        "vpc_security_group_ids",
        lambda i: [g["VpcSecurityGroupId"] for g in i.get("VpcSecurityGroups") or []] or None,
    ),
    ("KmsKeyId", "kms_key_id", lambda i: i.get("KmsKeyId")),
    (
        "DBParameterGroupName",
        "db_parameter_group_name",
        lambda i: next(iter(i.get("DBParameterGroups") or []), {}).get("DBParameterGroupName"),
    ),
)


def replica_settings(replaced: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """CreateDBInstanceReadReplica parameters: each option given, else the replaced instance's."""
    settings = {}
    for parameter, option, read in REPLICA_SETTINGS:
        value = options.get(option) or read(replaced)
        if value:
            settings[parameter] = value
    return settings


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat(timespec="milliseconds")


class Timeline:
    """Each step's start and end, and how much of it was spent waiting on AWS."""

    def __init__(self) -> None:
        self.started = time.time()
        self.steps: list[dict[str, Any]] = []
        self._waited = 0.0

    @contextmanager
    def step(self, name: str) -> Iterator[dict[str, Any]]:
        entry: dict[str, Any] = {"step": name, "start": _iso(time.time()), "waited_seconds": 0.0}
        begin, waited_before = time.time(), self._waited
        try:
            yield entry
        finally:
            end = time.time()
            entry["end"] = _iso(end)
            entry["seconds"] = round(end - begin, 3)
            entry["waited_seconds"] = round(self._waited - waited_before, 3)
            self.steps.append(entry)

    @contextmanager
    def waiting(self) -> Iterator[None]:
        begin = time.time()
        try:
            yield
        finally:
            self._waited += time.time() - begin

    def wait(self, waiter: Any, identifier: str, timeout: int, delay: int) -> None:
        """Run a DB instance waiter polling every ``delay`` s, counted as time waiting on AWS."""
        with self.waiting():
            waiter.wait(
                DBInstanceIdentifier=identifier,
                WaiterConfig={"Delay": delay, "MaxAttempts": max(1, timeout // delay)},
            )

    @property
    def total_seconds(self) -> float:
        return round(time.time() - self.started, 3)

    @property
    def waited_seconds(self) -> float:
        return round(self._waited, 3)


class InstanceManager:
    """What both DR modules do with the instance they act on (``db_instance_identifier``): read
    it, wait on it with a timeline, and fail with the result gathered so far."""

    def __init__(self, module: Any, result: dict[str, Any]) -> None:
        self.module = module
        self.params = module.params
        self.identifier: str = self.params["db_instance_identifier"]
        self.region: str = module.region
        self.retry = AWSRetry.jittered_backoff()
        self.rds = module.client("rds", retry_decorator=self.retry)
        self.timeline = Timeline()
        self.result: dict[str, Any] = {"changed": False, "plan": [], **result}

    def fail(self, error: Exception, msg: str) -> None:
        self.module.fail_json_aws(error, msg=msg, **self.result)

    def describe(self) -> dict[str, Any] | None:
        try:
            return describe_instance(self.rds, self.identifier)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to describe DB instance {self.identifier}")
        return None

    def wait_with(self, waiter: Any, waiter_name: str) -> None:
        """Wait with ``waiter`` at ``poll_interval`` until ``wait_timeout``, counted as AWS time."""
        try:
            self.timeline.wait(
                waiter, self.identifier, self.params["wait_timeout"], self.params["poll_interval"]
            )
        except botocore.exceptions.WaiterError as e:
            self.fail(e, f"Timed out or failed waiting for {self.identifier} ({waiter_name})")
