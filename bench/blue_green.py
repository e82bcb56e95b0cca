"""Benchmark: blue-green releases of a 3-replica app on the local cluster (tools/kube).

For each release (a new version every run) prints: the time the new slot took to be Ready for
`min_ready_seconds`, the analysis, the time from the passed analysis to the patched selector (the
switch, target <= 1 s), the scale-down wait, the total, and the module's own share of the total
(total minus readiness, analysis and the configured delays). Figures only, no assertions.

    PLINTH_KUBE_CLUSTER=bench .venv/bin/python bench/blue_green.py [--runs 3] [--min-ready 2] \
        [--scale-down-delay 5]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "collections"))

from ansible.module_utils.testing import patch_module_args  # noqa: E402
from ansible_collections.plinth.platform.plugins.modules import blue_green  # noqa: E402

SWITCH_TARGET = 1.0


def _cluster() -> Any:
    spec = importlib.util.spec_from_file_location(
        "plinth_kube_cluster", ROOT / "tools/kube/cluster.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def release(
    kubeconfig: Path, namespace: str, version: str, args: argparse.Namespace
) -> dict[str, Any]:
    module_args = {
        "kubeconfig": str(kubeconfig),
        "name": "bench",
        "namespace": namespace,
        "image": "registry.example.com/bench",
        "version": version,
        "replicas": 3,
        "min_ready_seconds": args.min_ready,
        "scale_down_delay": args.scale_down_delay,
    }
    out = io.StringIO()
    with (
        patch_module_args(module_args),
        contextlib.redirect_stdout(out),
        contextlib.suppress(SystemExit),
    ):
        blue_green.main()
    result = json.loads(out.getvalue())
    if result.get("failed"):
        raise SystemExit(f"release {version} failed: {result['msg']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--min-ready", type=int, default=2, help="min_ready_seconds")
    parser.add_argument("--scale-down-delay", type=int, default=5)
    args = parser.parse_args()

    cluster = _cluster()
    name = os.environ.get("PLINTH_KUBE_CLUSTER", cluster.DEFAULT_NAME)
    was_running = cluster.is_healthy(cluster.kubeconfig_path(name))
    kubeconfig = cluster.up(name)
    namespace = f"bench-bg-{uuid.uuid4().hex[:6]}"
    with cluster.api_client(kubeconfig) as api:
        from kubernetes import client

        core = client.CoreV1Api(api)
        core.create_namespace({"metadata": {"name": namespace}})
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # pods need the namespace's default ServiceAccount
                if core.list_namespaced_service_account(namespace).items:
                    break
                time.sleep(0.2)
            release(kubeconfig, namespace, "0.0.0", args)
            rows = []
            for run in range(1, args.runs + 1):
                start = time.monotonic()
                result = release(kubeconfig, namespace, f"1.0.{run}", args)
                wall = time.monotonic() - start
                t = result["timings"]
                waits = t.get("slot_ready", 0) + t.get("analysis", 0) + t.get("post_analysis", 0)
                module = wall - waits - args.scale_down_delay
                rows.append(
                    (
                        t["slot_ready"],
                        t.get("analysis", 0),
                        t["switch"],
                        t.get("scale_down", 0),
                        wall,
                        module,
                    )
                )
                print(
                    f"release {run}: slot Ready {t['slot_ready']:6.2f} s, "
                    f"analysis {t.get('analysis', 0):5.2f} s, "
                    f"switch {t['switch']:5.3f} s, scale-down {t.get('scale_down', 0):5.2f} s, "
                    f"total {wall:6.2f} s (module's own time {module:5.2f} s)"
                )
        finally:
            core.delete_namespace(namespace)
    if not was_running:
        cluster.down(name)
    median = [statistics.median(col) for col in zip(*rows, strict=True)]
    print(
        f"median of {args.runs} (3 replicas, min_ready_seconds {args.min_ready}, scale_down_delay "
        f"{args.scale_down_delay}):\n"
        f"  green Ready -> selector switched  {median[2]:.3f} s (target <= {SWITCH_TARGET} s)\n"
        f"  total blue-green                  {median[4]:.2f} s = slot Ready {median[0]:.2f} s"
        f" + analysis {median[1]:.2f} s + scale-down delay {args.scale_down_delay} s"
        f" + module {median[5]:.2f} s"
    )


if __name__ == "__main__":
    main()
