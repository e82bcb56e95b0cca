"""The monitoring layer's in-cluster stack on the local cluster (KWOK nodes) through
playbooks/monitoring.yml, with the embedded AWS for the topics Alertmanager routes to: the
namespace, Prometheus / Alertmanager / Grafana Deployments Ready, the rules ConfigMap carrying the
apps' SLO rules, Alertmanager routes by severity, a rerun with changed=0, --check changes nothing,
the Grafana admin password generated once and never shown, and removal.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from tests.support.playbook import run_playbook

NAMESPACE = "monitoring"
PREFIX = "kube-development"

APP = {
    "name": "research-api",
    "namespace": "research",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/research-api:1.4.2",
    "replicas": 2,
    "node_group": "general",
    "port": 8000,
    "health_path": "/health",
    "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}},
    "slo": {"availability": 99.9, "p95_latency_ms": 100},
}

PLATFORM: dict[str, Any] = {
    "name": "kube",
    "environment": "development",
    "region": "us-east-1",
    "availability_zones": ["us-east-1a"],
    "network": {"cidr": "10.70.0.0/16"},
    "eks": {
        "node_groups": [
            {"name": "general", "instance_types": ["m6i.large"], "min_size": 1, "max_size": 3}
        ]
    },
    "apps": [APP, {**{k: v for k, v in APP.items() if k != "slo"}, "name": "worker"}],
    "monitoring": {"in_cluster": True, "dashboard": False},
}


def _run(aws: Any, kubeconfig: Path, tmp_path: Path, **kwargs: Any) -> Any:
    extra = {"plinth_eks_kubeconfig": str(kubeconfig), **kwargs.pop("extra_vars", {})}
    return run_playbook(
        kwargs.pop("playbook", "monitoring.yml"),
        endpoint_port=aws.port,
        platform=kwargs.pop("platform", PLATFORM),
        extra_vars=extra,
        tmp_path=tmp_path,
        **kwargs,
    )


def _ok(run: Any) -> None:
    assert run.rc == 0, run.failure_messages() or run.stderr[-3000:]


def test_in_cluster_stack(
    aws: Any,
    kubeconfig: Path,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    tmp_path: Path,
) -> None:
    check = _run(aws, kubeconfig, tmp_path, check=True)
    _ok(check)
    assert "plinth.platform.monitoring : Apply the monitoring stack and wait for it" in (
        check.changed_tasks()
    )
    assert NAMESPACE not in [n.metadata.name for n in core.list_namespace().items]

    first = _run(aws, kubeconfig, tmp_path, verbosity=3)
    _ok(first)

    ns = core.read_namespace(NAMESPACE)
    assert ns.metadata.labels["app.kubernetes.io/managed-by"] == "plinth"
    assert ns.metadata.labels["plinth.dev/environment"] == "development"
    for name in ("prometheus", "alertmanager", "grafana"):
        status = apps.read_namespaced_deployment_status(name, NAMESPACE).status
        assert status.ready_replicas == 1, (name, status)

    rules = yaml.safe_load(
        core.read_namespaced_config_map("prometheus-rules", NAMESPACE).data["plinth.yml"]
    )
    groups = {g["name"]: g for g in rules["groups"]}
    assert "slo-worker" not in groups  # no slo, no rules
    slo = groups["slo-research-api"]["rules"]
    alerts = {r["alert"]: r for r in slo if "alert" in r}
    # 99.9 % availability: error budget 0.001, fast burn 14.4x.
    assert "> 0.0144" in alerts["SLOErrorBudgetFastBurn"]["expr"]
    assert alerts["SLOErrorBudgetFastBurn"]["labels"]["severity"] == "critical"
    assert "> 0.1" in alerts["SLOLatencyP95"]["expr"]
    records = [r["record"] for r in slo if "record" in r]
    assert "app:http_request_duration_seconds:p95_5m" in records

    prom = yaml.safe_load(
        core.read_namespaced_config_map("prometheus-config", NAMESPACE).data["prometheus.yml"]
    )
    assert [j["job_name"] for j in prom["scrape_configs"]][:2] == ["prometheus", "kubernetes-pods"]

    am = yaml.safe_load(
        core.read_namespaced_config_map("alertmanager-config", NAMESPACE).data["alertmanager.yml"]
    )
    routes = {tuple(r["matchers"]): r["receiver"] for r in am["route"]["routes"]}
    assert routes[('severity="critical"',)] == "critical"
    receivers = {r["name"]: r for r in am["receivers"]}
    topics = [t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"]]
    critical = receivers["critical"]["sns_configs"][0]["topic_arn"]
    assert critical.endswith(f":{PREFIX}-alerts-critical") and critical in topics, (
        critical,
        topics,
    )

    dashboards = core.read_namespaced_config_map("grafana-dashboards", NAMESPACE).data
    assert "research-api: p95 latency" in dashboards["slo.json"]

    password = core.read_namespaced_secret("grafana-admin", NAMESPACE).data["password"]
    assert password
    assert password not in first.stdout and password not in first.stderr

    second = _run(aws, kubeconfig, tmp_path)
    _ok(second)
    assert second.changed == 0, second.changed_tasks()

    # site.yml runs the stack on a host of its own, beside the AWS side: the topic ARNs it derives
    # from the account must be the topics' own, or the Alertmanager config would change.
    alone = _run(
        aws, kubeconfig, tmp_path, playbook="tests/kube/playbooks/monitoring_in_cluster.yml"
    )
    _ok(alone)
    assert "plinth.platform.monitoring : Find the account of the alert topics" in [
        t["name"]
        for t in alone.tasks
        if "localhost" in t["hosts"] and not t["hosts"]["localhost"].get("skipped")
    ]
    assert alone.changed == 0, alone.changed_tasks()
    # Given the account (site.yml takes it from the cluster's ARN), STS is not asked.
    account = critical.split(":")[4]
    given = _run(
        aws,
        kubeconfig,
        tmp_path,
        playbook="tests/kube/playbooks/monitoring_in_cluster.yml",
        extra_vars={"monitoring_account_id": account},
    )
    _ok(given)
    assert given.changed == 0, given.changed_tasks()
    asked = [
        t["hosts"]["localhost"]
        for t in given.tasks
        if t["name"].endswith("Find the account of the alert topics")
    ]
    assert asked and all(h.get("skipped") for h in asked), asked
    assert core.read_namespaced_secret("grafana-admin", NAMESPACE).data["password"] == password

    # A new SLO target changes the rules and rolls Prometheus (config hash on the pod template).
    before = apps.read_namespaced_deployment("prometheus", NAMESPACE).spec.template.metadata
    changed = copy.deepcopy(PLATFORM)
    changed["apps"][0]["slo"] = {"availability": 99.5, "p95_latency_ms": 300}
    update = _run(aws, kubeconfig, tmp_path, platform=changed)
    _ok(update)
    after = apps.read_namespaced_deployment("prometheus", NAMESPACE).spec.template.metadata
    assert (
        after.annotations["plinth.dev/config-hash"] != before.annotations["plinth.dev/config-hash"]
    )
    rules = yaml.safe_load(
        core.read_namespaced_config_map("prometheus-rules", NAMESPACE).data["plinth.yml"]
    )
    assert "> 0.3" in json.dumps(rules)

    gone = _run(
        aws, kubeconfig, tmp_path, platform=changed, extra_vars={"monitoring_state": "absent"}
    )
    _ok(gone)
    assert NAMESPACE not in [n.metadata.name for n in core.list_namespace().items]
