"""Benchmark: playbooks/apps.yml applying many apps to the local Kubernetes cluster.

Prints the wall time of a cold apply of N apps (every Deployment waited on until ready), of the
no-op re-apply (``changed=0``; the objects it sent to the API server, none when the comparison
with the cluster finds nothing to apply), and of a cold apply of 2N apps next to it, with the
objects applied and the 2N / N ratio (on a fresh cluster), and the load average before and after.
Figures only, no assertions.

Runs on its own cluster (``apps-bench``, general node group sized for the pods) and its own
emulator (the apps layer's read-only eks lookup calls AWS), both removed afterwards unless
``--keep``:

    .venv/bin/python bench/apps.py [--apps 100] [--cluster apps-bench] [--keep]
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.emulator_fixture import (  # noqa: E402  (needs ROOT on sys.path)
    EmulatorHandle,
    _free_port,
    _load_cli,
)
from tests.support.playbook import PlaybookRun, run_playbook  # noqa: E402

TARGETS = {"cold_seconds": 60.0, "noop_seconds": 20.0, "ratio": 2.1}
NAMESPACES = 10
LOCAL = yaml.safe_load((ROOT / "inventories/local/group_vars/all/platform.yml").read_text())


def _cluster_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "plinth_kube_cluster", ROOT / "tools/kube/cluster.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _platform(name: str, count: int) -> dict[str, Any]:
    """``count`` small apps over NAMESPACES namespaces, each with the full set of objects."""
    config = copy.deepcopy(LOCAL["platform"])
    config["name"] = name
    apps = []
    for index in range(count):
        app = f"svc-{index:04d}"
        apps.append(
            {
                "name": app,
                "namespace": f"{name}-{index % NAMESPACES}",
                "image": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{app}:1.0.{index}",
                "replicas": 1,
                "node_group": "general",
                "resources": {
                    "requests": {"cpu": "10m", "memory": "16Mi"},
                    "limits": {"cpu": "100m", "memory": "64Mi"},
                },
                "env": {"LOG_LEVEL": "info", "INDEX": str(index)},
                "autoscaling": {"min_replicas": 1, "max_replicas": 2},
                "disruption": {"max_unavailable": 1},
                "allow_from": [{"app": f"svc-{(index + 1) % count:04d}"}],
            }
        )
    config["apps"] = apps
    return config


def _objects(run: PlaybookRun) -> int:
    """Objects the run applied (every k8s call's definitions)."""
    total = 0
    for task in run.tasks:
        if task["name"].split(" : ")[-1].startswith("Apply the"):
            result = task["hosts"].get("localhost", {})
            inner = result.get("result", {})
            total += len(inner.get("results", [])) if "results" in inner else int(bool(inner))
    return total


def _timed(name: str, count: int, extra: dict[str, Any], tmp: Path) -> tuple[float, PlaybookRun]:
    started = time.monotonic()
    run = run_playbook("apps.yml", platform=_platform(name, count), extra_vars=extra, tmp_path=tmp)
    wall = time.monotonic() - started
    if run.rc != 0:
        print("run failed:", *run.failure_messages()[:5], sep="\n  ")
        raise SystemExit(1)
    return wall, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--cluster", default="apps-bench")
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    args = parser.parse_args()

    cluster = _cluster_module()
    cli = _load_cli()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        # Room for 2N pods plus rolling-update surge: 58 pods per m5.xlarge node.
        nodes = max(2, -(-2 * args.apps * 5 // 4 // 58))
        config = copy.deepcopy(LOCAL)
        groups = config["platform"]["eks"]["node_groups"]
        groups[0].update(desired_size=nodes, max_size=max(nodes, groups[0]["max_size"]))
        config_path = tmp / "platform.yml"
        config_path.write_text(yaml.safe_dump(config))
        already = cluster.is_healthy(cluster.kubeconfig_path(args.cluster))
        kubeconfig = cluster.up(args.cluster, config_path=config_path)
        env = {key: "" for key in os.environ if key.startswith("PLINTH_EMULATOR_")}
        server = cli.Emulator(port=_free_port(), state_root=tmp)
        server.start(env=env, record=False)
        try:
            aws = EmulatorHandle(server)
            extra = {
                "plinth_eks_kubeconfig": str(kubeconfig),
                "plinth_aws": {
                    "endpoint_url": aws.endpoint_url,
                    "access_key": "testing",
                    "secret_key": "testing",
                },
            }

            def fresh() -> None:
                cluster.down(args.cluster)
                cluster.up(args.cluster, config_path=config_path)

            return _bench(args.apps, extra, tmp, nodes, fresh)
        finally:
            server.stop()
            if not (already or args.keep):
                cluster.down(args.cluster)


def _bench(count: int, extra: dict[str, Any], tmp: Path, nodes: int, fresh: Any) -> int:
    print(f"apps layer on cluster of {nodes} general nodes; {NAMESPACES} namespaces per stack")
    print("load average: " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    cold, run = _timed("bench-a", count, extra, tmp)
    objects = _objects(run)
    print(
        f"cold apply, {count} apps:   {cold:6.1f} s, {objects} objects, changed"
        f" {len(_changed_apps(run))} apps (target <= {TARGETS['cold_seconds']:.0f} s)"
    )
    noop, run = _timed("bench-a", count, extra, tmp)
    print(
        f"no-op re-apply:          {noop:6.1f} s, {_objects(run)} objects sent,"
        f" changed={run.changed} (target <= {TARGETS['noop_seconds']:.0f} s)"
    )
    # A fresh cluster for the 2N run: both stacks' Services would not fit KWOK's service CIDR.
    fresh()
    double, run = _timed("bench-b", 2 * count, extra, tmp)
    print(
        f"cold apply, {2 * count} apps:   {double:6.1f} s, {_objects(run)} objects;"
        f" {2 * count} / {count} apps = {double / cold:.2f} (target <= {TARGETS['ratio']})"
    )
    print("load average: " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    return 0


def _changed_apps(run: PlaybookRun) -> list[str]:
    facts = run.result("Publish the apps layer's output").get("ansible_facts", {})
    return facts.get("apps__output", {}).get("changed_apps", [])


if __name__ == "__main__":
    raise SystemExit(main())
