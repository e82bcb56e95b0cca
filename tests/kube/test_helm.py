"""The pinned helm binary installs a chart into the local cluster and waits for it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import ModuleType

from kubernetes import client

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: '1.0'\n",
    "values.yaml": "replicas: 2\n",
    "templates/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
""",
}


def test_helm_install_waits_for_ready(
    kube_cluster: ModuleType,
    kubeconfig: Path,
    apps: client.AppsV1Api,
    namespace: str,
    tmp_path: Path,
) -> None:
    chart = tmp_path / "demo"
    for name, text in CHART.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    helm = kube_cluster.ensure_built(build=False) / "helm"
    # Keep helm's config, cache and data out of $HOME.
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))
    for var in ("HELM_CONFIG_HOME", "HELM_CACHE_HOME", "HELM_DATA_HOME"):
        env[var] = str(tmp_path / var.lower())

    def run(*args: str) -> str:
        proc = subprocess.run(
            [str(helm), *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert "v3.18.6" in run("version", "--short")
    run("install", "demo", str(chart), "-n", namespace, "--wait", "--timeout", "60s")
    dep = apps.read_namespaced_deployment_status("demo", namespace)
    assert dep.status.ready_replicas == 2
    assert "deployed" in run("status", "demo", "-n", namespace)
    run("upgrade", "demo", str(chart), "-n", namespace, "--set", "replicas=3", "--wait")
    assert apps.read_namespaced_deployment_status("demo", namespace).status.ready_replicas == 3
