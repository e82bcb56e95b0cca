"""DR failover, failback and drill end to end: the embedded AWS in two regions (the database
built by the real rds role) and a real local Kubernetes API (tools/kube, cluster
$PLINTH_KUBE_CLUSTER) holding the apps to repoint.

One provisioning for the module; the tests run in order on the state the previous one left:
refused above the RPO -> check mode changes nothing -> forced failover -> rerun changes nothing ->
failback -> drill.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.dr import deploy_app, load_cluster
from tests.support.playbook import PlaybookRun, run_playbook

HOME, DR = "us-east-1", "us-west-2"
PREFIX = "plinth-development"
PRIMARY, REPLICA, DRILL = f"{PREFIX}-main", f"{PREFIX}-main-dr", f"{PREFIX}-main-drill"
ZONE, RECORD = "db.plinth.test", "main.db.plinth.test."
PASSWORD = "s3cr3t-Pa55"  # in DATABASE_URL: must never appear in any output
RUN = uuid.uuid4().hex[:6]
APPS_NS, DRILL_NS = f"dr-apps-{RUN}", f"dr-drill-{RUN}"

PLATFORM: dict[str, Any] = {
    "name": "plinth",
    "environment": "development",
    "region": HOME,
    "dr_region": DR,
    "availability_zones": ["us-east-1a", "us-east-1b"],
    "network": {"cidr": "10.42.0.0/16", "nat": "none", "flow_logs": {"enabled": False}},
    "databases": {
        "main": {
            "instance_class": "db.t4g.medium",
            "allocated_storage": 20,
            "performance_insights": False,
            "backup_retention_days": 7,
            "dr_replica": {"enabled": True},
        }
    },
    "dr": {
        "rpo_seconds": 300,
        "rto_seconds": 3600,
        # moto 5.2.5 has no DescribePendingMaintenanceActions (unit-tested with a Stubber).
        "check_pending_maintenance": False,
        "route53": {"zone": ZONE, "ttl": 60, "mode": "failover"},
        "drill": {"namespace": DRILL_NS},
    },
}
STEPS = ["prechecks", "promote", "dns", "apps", "reprotect"]


@pytest.fixture(scope="module")
def kubeconfig() -> Iterator[Path]:
    cluster = load_cluster()
    # The tests' cluster (as tests/kube), not `make site`'s.
    name = os.environ.get("PLINTH_KUBE_CLUSTER", "plinth-test")
    running = cluster.is_healthy(cluster.kubeconfig_path(name))
    path = cluster.up(name)
    yield path
    if not running and os.environ.get("PLINTH_KEEP_CLUSTER") != "1":
        cluster.down(name)


@pytest.fixture(scope="module")
def kube(kubeconfig: Path) -> Iterator[tuple[client.CoreV1Api, client.AppsV1Api]]:
    cluster = load_cluster()
    with cluster.api_client(kubeconfig) as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        yield core, apps
        for ns in (APPS_NS, DRILL_NS):
            core.delete_namespace(ns)


def _url(host: str) -> str:
    return f"postgresql://app_user:{PASSWORD}@{host}:5432/app?sslmode=require"


@pytest.fixture(scope="module")
def dr(emulator: Any, kube: Any, kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory):
    """The rds layer (primary + cross-region DR replica) and an app using it, in two namespaces."""
    emulator.reset()
    tmp = tmp_path_factory.mktemp("dr")
    for playbook in ("network.yml", "rds.yml"):
        run = run_playbook(playbook, endpoint_port=emulator.port, platform=PLATFORM, tmp_path=tmp)
        _ok(run)
    primary = _instance(emulator, HOME, PRIMARY)
    core, apps = kube
    for ns in (APPS_NS, DRILL_NS):
        deploy_app(core, apps, ns, _url(primary["Endpoint"]["Address"]))
    reports = tmp / "reports"
    return {
        "aws": emulator,
        "core": core,
        "apps": apps,
        "tmp": tmp,
        "reports": reports,
        "extra": {"plinth_dr_kubeconfig": str(kubeconfig), "plinth_dr_report_dir": str(reports)},
        "home_host": primary["Endpoint"]["Address"],
        "dr_host": _instance(emulator, DR, REPLICA)["Endpoint"]["Address"],
    }


def _ok(run: PlaybookRun) -> None:
    assert run.rc == 0, run.failure_messages() or run.stderr[-3000:]


def _run(dr: dict, playbook: str, **kwargs: Any) -> PlaybookRun:
    extra = dict(dr["extra"], **kwargs.pop("extra_vars", {}))
    return run_playbook(
        playbook,
        endpoint_port=dr["aws"].port,
        platform=kwargs.pop("platform", PLATFORM),
        extra_vars=extra,
        tmp_path=dr["tmp"],
        **kwargs,
    )


def _instance(aws: Any, region: str, identifier: str) -> dict[str, Any]:
    return aws.client("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)[
        "DBInstances"
    ][0]


def _instances(aws: Any, region: str) -> dict[str, dict[str, Any]]:
    found = aws.client("rds", region).describe_db_instances()["DBInstances"]
    return {i["DBInstanceIdentifier"]: i for i in found}


def _records(aws: Any) -> dict[str, dict[str, Any]]:
    route53 = aws.client("route53")
    zone = next(
        z["Id"] for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == ZONE + "."
    )
    sets = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {r["Failover"]: r for r in sets if r["Name"] == RECORD and r.get("Failover")}


def _secret_host(dr: dict, ns: str) -> str:
    secret = dr["core"].read_namespaced_secret("api-env", ns)
    url = base64.b64decode(secret.data["DATABASE_URL"]).decode()
    assert PASSWORD in url and url.endswith("/app?sslmode=require")  # only the host changes
    return url.split("@", 1)[1].split(":", 1)[0]


def _template_annotations(dr: dict, ns: str) -> dict[str, str]:
    deployment = dr["apps"].read_namespaced_deployment("api", ns)
    return deployment.spec.template.metadata.annotations or {}


def _report(dr: dict, action: str) -> dict[str, Any]:
    files = sorted(dr["reports"].glob(f"dr-{action}-{PREFIX}-*.json"))
    assert files, f"no {action} report in {dr['reports']}"
    return json.loads(files[-1].read_text())


def _clear_reports(dr: dict) -> None:
    for file in dr["reports"].glob("*"):
        file.unlink()


def test_bad_config_and_unconfirmed_production_refused_before_any_call(dr: dict) -> None:
    aws = dr["aws"]
    bad = copy.deepcopy(PLATFORM)
    bad["dr"]["route53"]["mode"] = "geo"
    production = dict(copy.deepcopy(PLATFORM), environment="production")
    aws.clear_recording()
    run = _run(dr, "dr_failover.yml", platform=bad)
    assert run.rc != 0
    assert any("platform.dr.route53.mode" in m for m in run.failure_messages())
    for playbook, confirm in (("dr_failover.yml", "failover"), ("dr_failback.yml", "failback")):
        run = _run(dr, playbook, platform=production)
        assert run.rc != 0
        assert any(f"plinth_confirm_{confirm}=plinth" in m for m in run.failure_messages())
    assert aws.recorded_requests() == []


def test_promotion_refused_above_the_rpo(dr: dict) -> None:
    aws = dr["aws"]
    aws.set_replica_lag(REPLICA, 900, region=DR)
    aws.clear_recording()
    run = _run(dr, "dr_failover.yml")
    assert run.rc != 0
    messages = " ".join(run.failure_messages())
    assert "Refusing to promote" in messages and "ReplicaLag 900 s, RPO 300 s" in messages
    assert "plinth_dr_force=true" in messages
    assert aws.write_calls() == []
    assert _instance(aws, DR, REPLICA).get("ReadReplicaSourceDBInstanceIdentifier")
    report = _report(dr, "failover")
    assert report["result"] == "failed" and report["steps"][-1]["step"] == "prechecks"
    assert report["steps"][-1]["failed"]


def test_check_mode_changes_nothing(dr: dict) -> None:
    aws = dr["aws"]
    aws.set_replica_lag(REPLICA, 4, region=DR)
    aws.clear_recording()
    run = _run(dr, "dr_failover.yml", check=True)
    _ok(run)
    assert aws.write_calls() == []
    promote = run.result("Promote the instances")["results"][0]
    assert promote["changed"] and not promote["promoted"]
    assert promote["plan"] == [
        f"fence {PRIMARY}",
        f"promote {REPLICA} with 7 days of backups",
        f"tag {REPLICA}: plinth:role",
    ]
    assert "Update DATABASE_URL in the Secrets and restart the Deployments" in {
        name.split(" : ")[-1] for name in run.changed_tasks()
    }
    assert _instance(aws, DR, REPLICA).get("ReadReplicaSourceDBInstanceIdentifier")
    assert _secret_host(dr, APPS_NS) == dr["home_host"]
    assert "plinth.dev/database-host" not in _template_annotations(dr, APPS_NS)


def test_forced_failover_flips_dns_repoints_and_restarts_apps(dr: dict) -> None:
    aws = dr["aws"]
    aws.set_replica_lag(REPLICA, 900, region=DR)
    _clear_reports(dr)
    run = _run(dr, "dr_failover.yml", extra_vars={"plinth_dr_force": True}, verbosity=3)
    _ok(run)
    assert PASSWORD not in run.stdout + run.stderr

    # Forced, and it says so.
    promote = run.result("Promote the instances")["results"][0]
    assert promote["promoted"] and promote["forced"] == ["replica_lag"]
    report = _report(dr, "failover")
    assert report["forced"] == ["replica_lag"] and report["achieved"]["rpo_seconds"] == 900
    assert report["met"] == {"rto": True, "rpo": False}

    # The DR instance is the standalone primary; the old one was fenced, then recreated as its
    # replica (after a final snapshot).
    promoted = _instance(aws, DR, REPLICA)
    assert not promoted.get("ReadReplicaSourceDBInstanceIdentifier")
    assert {"Key": "plinth:role", "Value": "primary"} in promoted["TagList"]
    assert promote["fence"]["status"] == "fenced"
    home = _instance(aws, HOME, PRIMARY)
    assert home["ReadReplicaSourceDBInstanceIdentifier"] == promoted["DBInstanceArn"]
    fence_group = promote["fence"]["security_group_id"]
    assert fence_group not in [g["VpcSecurityGroupId"] for g in home["VpcSecurityGroups"]]
    snapshots = aws.client("rds", HOME).describe_db_snapshots(DBInstanceIdentifier=PRIMARY)
    assert any("before-reprotect" in s["DBSnapshotIdentifier"] for s in snapshots["DBSnapshots"])

    # Route 53: PRIMARY -> DR writer, SECONDARY -> the old region, both health-checked.
    records = _records(aws)
    assert records["PRIMARY"]["ResourceRecords"] == [{"Value": dr["dr_host"]}]
    assert records["SECONDARY"]["ResourceRecords"] == [{"Value": dr["home_host"]}]
    assert records["PRIMARY"]["TTL"] == 60 and records["PRIMARY"].get("HealthCheckId")

    # Apps: the Secret's host changed (password kept), the Deployment restarted and Ready; the
    # drill namespace was left alone.
    assert _secret_host(dr, APPS_NS) == dr["dr_host"]
    annotations = _template_annotations(dr, APPS_NS)
    assert annotations["plinth.dev/database-host"] == dr["dr_host"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    status = dr["apps"].read_namespaced_deployment("api", APPS_NS).status
    assert status.ready_replicas == 2 and status.updated_replicas == 2
    assert _secret_host(dr, DRILL_NS) == dr["home_host"]

    # The report has every step, each with its start and end, and the module's own timeline.
    assert [s["step"] for s in report["steps"]] == STEPS
    assert all(s["start"] <= s["end"] for s in report["steps"])
    module_steps = [s["step"] for s in report["promotions"]["main"]["timeline"]]
    assert module_steps == ["describe", "prechecks", "fence", "promote"]
    # (The cluster may hold other apps of database main; the drill namespace is never among them.)
    updated = report["apps"]["main"]["secrets_updated"]
    assert f"{APPS_NS}/api-env" in updated and f"{DRILL_NS}/api-env" not in updated
    assert f"{APPS_NS}/api" in report["apps"]["main"]["deployments_restarted"]
    reprotection = report["reprotection"]["main"]
    assert reprotection["created"] and reprotection["status"] == "available"
    assert [s["step"] for s in reprotection["timeline"]] == ["describe", "delete", "create"]
    assert reprotection["final_snapshot"].startswith(f"{PRIMARY}-before-reprotect-")
    summary = next(dr["reports"].glob("dr-failover-*.md")).read_text()
    assert "FORCED past failed pre-checks: replica_lag" in summary
    assert all(f"| {step} |" in summary for step in STEPS)


def test_failover_rerun_changes_nothing(dr: dict) -> None:
    aws = dr["aws"]
    aws.clear_recording()
    run = _run(dr, "dr_failover.yml")
    _ok(run)
    assert run.changed == 0, run.changed_tasks()
    assert aws.write_calls() == []


def test_failback_restores_the_original_direction(dr: dict) -> None:
    aws = dr["aws"]
    # Not waiting for the re-protection replica: its creation is started, the report says so.
    run = _run(dr, "dr_failback.yml", extra_vars={"plinth_dr_reprotect_wait": False})
    _ok(run)
    reprotection = _report(dr, "failback")["reprotection"]["main"]
    assert reprotection["created"] and reprotection["plan"][-1].startswith(f"create {REPLICA} ")
    home = _instance(aws, HOME, PRIMARY)
    assert not home.get("ReadReplicaSourceDBInstanceIdentifier")
    assert (
        _instance(aws, DR, REPLICA)["ReadReplicaSourceDBInstanceIdentifier"]
        == home["DBInstanceArn"]
    )
    records = _records(aws)
    assert records["PRIMARY"]["ResourceRecords"] == [{"Value": dr["home_host"]}]
    assert records["SECONDARY"]["ResourceRecords"] == [{"Value": dr["dr_host"]}]
    assert _secret_host(dr, APPS_NS) == dr["home_host"]
    assert _template_annotations(dr, APPS_NS)["plinth.dev/database-host"] == dr["home_host"]
    assert [s["step"] for s in _report(dr, "failback")["steps"]] == STEPS


def test_drill_leaves_nothing_behind_and_production_untouched(dr: dict) -> None:
    aws = dr["aws"]
    before = {region: _instances(aws, region) for region in (HOME, DR)}
    records = _records(aws)
    aws.clear_recording()
    run = _run(dr, "dr_drill.yml")
    _ok(run)
    report = _report(dr, "drill")
    assert [s["step"] for s in report["steps"]] == [
        "drill_instance",
        "prechecks",
        "promote",
        "apps",
        "verify",
        "cleanup",
    ]
    assert report["result"] == "succeeded" and report["achieved"]["rto_seconds"] > 0
    assert report["drill"]["deployments_ready"]
    assert report["apps"]["main"]["secrets_updated"] == [f"{DRILL_NS}/api-env"]
    # Nothing left behind, production exactly as before.
    after = {region: _instances(aws, region) for region in (HOME, DR)}
    assert {r: set(i) for r, i in after.items()} == {r: set(i) for r, i in before.items()}
    for region, instances in before.items():
        for identifier, instance in instances.items():
            for key in ("ReadReplicaSourceDBInstanceIdentifier", "VpcSecurityGroups", "MultiAZ"):
                assert after[region][identifier].get(key) == instance.get(key), (identifier, key)
    assert _records(aws) == records
    assert _secret_host(dr, APPS_NS) == dr["home_host"]
    assert _secret_host(dr, DRILL_NS) == dr["home_host"]  # put back
    writes = {(w.service, w.operation) for w in aws.write_calls()}
    assert writes <= {
        ("rds", "CreateDBInstanceReadReplica"),
        ("rds", "PromoteReadReplica"),
        ("rds", "AddTagsToResource"),
        ("rds", "DeleteDBInstance"),
    }, writes
    assert not aws.client("rds", DR).describe_db_snapshots(DBInstanceIdentifier=DRILL)[
        "DBSnapshots"
    ]
