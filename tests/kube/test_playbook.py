"""kubernetes.core.k8s against the local cluster through ansible-playbook, as roles will use it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "tests" / "kube" / "playbooks" / "k8s_apply.yml"


def run_playbook(kubeconfig: Path, namespace: str) -> dict[str, Any]:
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "ansible-playbook"),
            str(PLAYBOOK),
            "-e",
            f"kube_namespace={namespace}",
            "-e",
            f"kubeconfig={kubeconfig}",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"ansible-playbook failed:\n{proc.stdout[-6000:]}\n{proc.stderr}"
    return json.loads(proc.stdout)


def test_k8s_apply_waits_and_is_idempotent(
    kubeconfig: Path, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    first = run_playbook(kubeconfig, namespace)
    stats = first["stats"]["localhost"]
    assert stats["failures"] == 0 and stats["unreachable"] == 0
    assert stats["changed"] == 1  # the namespace already exists (fixture); the app is new
    dep = apps.read_namespaced_deployment_status("plinth-demo", namespace)
    assert dep.status.ready_replicas == 2
    assert core.read_namespaced_config_map("plinth-demo", namespace).data == {"LOG_LEVEL": "info"}
    assert core.read_namespaced_service("plinth-demo", namespace).spec.ports[0].port == 80

    second = run_playbook(kubeconfig, namespace)
    stats = second["stats"]["localhost"]
    assert stats["failures"] == 0
    assert stats["changed"] == 0, json.dumps(second["plays"][0]["tasks"], indent=1)[:4000]
    assert stats["ok"] == first["stats"]["localhost"]["ok"]
