"""Benchmark: a whole DR failover (dr_failover.yml) against the embedded AWS with its
realistic-latency profile and the local Kubernetes cluster ($PLINTH_KUBE_CLUSTER).

Provisions a primary and its cross-region DR replica (boto3, outside the timing) and an app using
them, then times the failover playbook. Prints the wall time, each runbook step, the time spent
waiting on AWS and the tool's own overhead: wall time minus AWS waits. A wait counts for the
profile's duration of the transition waited on (promotion, modification, deletion, cross-region
replica creation), never more than the module measured waiting on it: polling past the end of a
transition is the tool's overhead, not AWS's. Figures only, no assertions; target: overhead
<= 10 s.

    PLINTH_KUBE_CLUSTER=dr .venv/bin/python bench/dr.py [--scale 60]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.dr import deploy_app, load_cluster  # noqa: E402
from tests.support.emulator_fixture import (  # noqa: E402  (needs ROOT on sys.path)
    EmulatorHandle,
    _free_port,
    _load_cli,
)
from tests.support.playbook import run_playbook  # noqa: E402

TARGET_OVERHEAD = 10.0
HOME, DR = "us-east-1", "us-west-2"
PREFIX = "plinth-development"
PLATFORM: dict[str, Any] = {
    "name": "plinth",
    "environment": "development",
    "region": HOME,
    "dr_region": DR,
    "availability_zones": ["us-east-1a", "us-east-1b"],
    "network": {"cidr": "10.42.0.0/16", "nat": "none"},
    "databases": {"main": {"dr_replica": {"enabled": True}}},
    "dr": {
        "check_pending_maintenance": False,  # moto has no DescribePendingMaintenanceActions
        # As the local inventory: the profile turns AWS minutes into seconds, so poll every second
        # (5 s, the default for a real account, would be up to 5 s per wait of 1:60 overshoot).
        "poll_interval": 1,
        "route53": {"zone": "db.plinth.bench", "ttl": 60, "mode": "failover"},
    },
}


def _provision(aws: EmulatorHandle) -> str:
    """Primary + cross-region replica, each in a subnet group of its own VPC; the primary's host."""
    groups = {}
    for region in (HOME, DR):
        ec2 = aws.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(
                VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{region}{z}"
            )["Subnet"]["SubnetId"]
            for i, z in enumerate("ab")
        ]
        aws.client("rds", region).create_db_subnet_group(
            DBSubnetGroupName=f"{PREFIX}-db", DBSubnetGroupDescription="bench", SubnetIds=subnets
        )
        groups[region] = ec2.create_security_group(
            GroupName="database", Description="bench", VpcId=vpc
        )["GroupId"]
    home = aws.client("rds", HOME)
    primary = home.create_db_instance(
        DBInstanceIdentifier=f"{PREFIX}-main",
        Engine="postgres",
        DBInstanceClass="db.r6g.large",
        AllocatedStorage=100,
        MasterUsername="plinth_admin",
        MasterUserPassword="bench-password-1",
        BackupRetentionPeriod=7,
        DBSubnetGroupName=f"{PREFIX}-db",
        VpcSecurityGroupIds=[groups[HOME]],
    )["DBInstance"]
    home.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=primary["DBInstanceIdentifier"], WaiterConfig={"Delay": 1}
    )
    dr = aws.client("rds", DR)
    dr.create_db_instance_read_replica(
        DBInstanceIdentifier=f"{PREFIX}-main-dr",
        SourceDBInstanceIdentifier=primary["DBInstanceArn"],
        SourceRegion=HOME,
        DBSubnetGroupName=f"{PREFIX}-db",
        VpcSecurityGroupIds=[groups[DR]],
    )
    dr.get_waiter("db_instance_available").wait(
        DBInstanceIdentifier=f"{PREFIX}-main-dr", WaiterConfig={"Delay": 1}
    )
    return str(
        home.describe_db_instances(DBInstanceIdentifier=f"{PREFIX}-main")["DBInstances"][0][
            "Endpoint"
        ]["Address"]
    )


def _app(kubeconfig: Path, host: str) -> str:
    from kubernetes import client

    ns = f"dr-bench-{uuid.uuid4().hex[:6]}"
    with load_cluster().api_client(kubeconfig) as api:
        url = f"postgresql://app:pw@{host}:5432/app"
        deploy_app(client.CoreV1Api(api), client.AppsV1Api(api), ns, url, replicas=3)
    return ns


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="60", help="real seconds per emulator second")
    args = parser.parse_args()
    cluster = load_cluster()
    name = os.environ.get("PLINTH_KUBE_CLUSTER", cluster.DEFAULT_NAME)
    kubeconfig = cluster.up(name)
    cli = _load_cli()
    env = {key: "" for key in os.environ if key.startswith("PLINTH_EMULATOR_")}
    env.update(PLINTH_EMULATOR_LATENCY="1", PLINTH_EMULATOR_LATENCY_SCALE=args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        server = cli.Emulator(port=_free_port(), state_root=Path(tmp))
        server.start(env=env, record=True)
        ns = None
        try:
            aws = EmulatorHandle(server)
            ns = _app(kubeconfig, _provision(aws))
            return _bench(aws, kubeconfig, Path(tmp), args.scale)
        finally:
            server.stop()
            if ns:
                from kubernetes import client

                with cluster.api_client(kubeconfig) as api:
                    client.CoreV1Api(api).delete_namespace(ns)


def _bench(aws: EmulatorHandle, kubeconfig: Path, tmp: Path, scale: str) -> int:
    reports = tmp / "reports"
    aws.clear_recording()
    started = time.monotonic()
    run = run_playbook(
        "dr_failover.yml",
        endpoint_port=aws.port,
        platform=PLATFORM,
        extra_vars={"plinth_dr_kubeconfig": str(kubeconfig), "plinth_dr_report_dir": str(reports)},
        tmp_path=tmp,
    )
    wall = time.monotonic() - started
    if run.rc != 0:
        print("failover failed:", run.failure_messages() or run.stderr[-2000:])
        return 1
    report = json.loads(next(reports.glob("dr-failover-*.json")).read_text())
    durations = {key: float(value) for key, value in aws.latency.get("seconds", {}).items()}
    promotion_wait = _waits(
        [p["timeline"] for p in report["promotions"].values()],
        {"promote": "RDS_PROMOTE", "multi_az": "RDS_MODIFY", "modify": "RDS_MODIFY"},
        durations,
    )
    reprotect_wait = _waits(
        [r["timeline"] for r in report["reprotection"].values()],
        {
            "delete": "RDS_DELETE",
            "create": "RDS_REPLICA_CROSS_REGION",
            "wait": "RDS_REPLICA_CROSS_REGION",
        },
        durations,
    )
    waits = promotion_wait + reprotect_wait
    overhead = wall - waits
    measured = sum(
        s["waited_seconds"]
        for kind in ("promotions", "reprotection")
        for entry in report[kind].values()
        for s in entry["timeline"]
    )
    print(f"DR failover under the realistic-latency profile (1:{scale}), 1 database, 1 app")
    calls = aws.recorded_requests()
    print(f"  wall time (ansible-playbook)  {wall:7.1f} s")
    print(
        f"  load-independent: {len(run.tasks)} tasks, {_module_runs(run)} module runs,"
        f" {len(calls)} AWS API calls ({sum(c.is_write for c in calls)} writes)"
    )
    print(f"    {'step':<12} {'seconds':>7} {'AWS waits':>9}")
    step_waits = {"promote": promotion_wait, "reprotect": reprotect_wait}
    for step in report["steps"]:
        aws_s = step_waits.get(step["step"], 0.0)
        print(f"    {step['step']:<12} {step['seconds']:7.1f} {aws_s:9.1f}")
    print(f"  RTO achieved (pre-checks .. apps Ready)  {report['achieved']['rto_seconds']:.1f} s")
    print(
        f"  AWS waits  {waits:7.1f} s (promotion {promotion_wait:.1f} s, re-protection"
        f" {reprotect_wait:.1f} s, at the profile's durations; the modules measured"
        f" {measured:.1f} s waiting)"
    )
    print(
        f"  tool's own overhead (wall - AWS waits)  {overhead:7.1f} s"
        f" (target <= {TARGET_OVERHEAD:.0f} s)"
    )
    for kind, label in (("promotions", "promotion"), ("reprotection", "re-protection")):
        for entry in report[kind].values():
            total, waited = entry.get("rto_seconds", entry.get("seconds")), entry["waited_seconds"]
            print(
                f"  {label} module: {total:.1f} s, of which waiting {waited:.1f} s:"
                + "".join(
                    f" {s['step']} {s['seconds']:.2f}/{s['waited_seconds']:.2f}"
                    for s in entry["timeline"]
                )
            )
    return 0


# Actions that run on the controller only: no module is sent to the host.
CONTROLLER_ACTIONS = {
    "ansible.builtin.set_fact",
    "ansible.builtin.include_tasks",
    "ansible.builtin.assert",
    "ansible.builtin.debug",
    "ansible.builtin.fail",
    "ansible.builtin.validate_argument_spec",
    "plinth.platform.platform_config",
}


def _module_runs(run: Any) -> int:
    """Module executions of the run: each non-skipped loop item of a task that runs a module."""
    count = 0
    for task in run.tasks:
        for result in task["hosts"].values():
            if result.get("action") in CONTROLLER_ACTIONS or result.get("skipped"):
                continue
            items = result.get("results")
            count += 1 if items is None else sum(not i.get("skipped") for i in items)
    return count


def _waits(
    timelines: list[list[dict[str, Any]]], transitions: dict[str, str], durations: dict[str, float]
) -> float:
    """AWS waits of the module steps: each the profile's duration, at most what was measured."""
    return sum(
        min(float(step["waited_seconds"]), durations.get(transitions[step["step"]], 0.0))
        for timeline in timelines
        for step in timeline
        if step["step"] in transitions
    )


if __name__ == "__main__":
    sys.exit(main())
