"""Benchmark: a whole site run of an S0-like environment (BioInvest production) against the
embedded AWS with its realistic-latency profile.

Prints, for a cold run: wall time, each layer's time in the two phases of site.yml (phase 1: what
the layers need of the network, beside what they need no network for; phase 2: the rest), then
the apps and monitoring layers, the critical path (slowest of phase 1 + slowest of phase 2 + apps
+ monitoring) and their ratio; for a no-op rerun: wall time, changed count, the phases, the AWS
API calls it made against the number of resources the environment manages, the slowest tasks
and the API calls by operation. Figures only, no asserts.

    .venv/bin/python bench/site.py [--scale 60] [--inventory inventories/bioinvest-production]
        [--cluster site-bench] [--keep]

site.yml ends with the apps and monitoring layers, which need a Kubernetes API: the emulator's EKS
has none, so the run gets a local cluster (tools/kube, the inventory's node groups) as the local
inventory does (`plinth_eks_kubeconfig`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.dr import load_cluster  # noqa: E402
from tests.support.emulator_fixture import (  # noqa: E402  (needs ROOT on sys.path)
    EmulatorHandle,
    _free_port,
    _load_cli,
)
from tests.support.playbook import PlaybookRun, run_playbook  # noqa: E402

TARGETS = {"ratio": 1.1, "noop_seconds": 30.0, "calls_per_resource": 2.0}


def _when(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _spans(run: PlaybookRun) -> dict[tuple[str, str], tuple[float, float]]:
    """First start and last end of each host's tasks in each play."""
    data = json.loads(run.stdout[run.stdout.find("{") :])
    spans: dict[tuple[str, str], tuple[float, float]] = {}
    for play in data["plays"]:
        name = play["play"]["name"]
        for task in play["tasks"]:
            for host in task["hosts"]:
                duration = task["task"].get("duration") or {}
                if not duration.get("start") or not duration.get("end"):
                    continue
                start, end = _when(duration["start"]), _when(duration["end"])
                old = spans.get((host, name), (start, end))
                spans[(host, name)] = (min(old[0], start), max(old[1], end))
    return spans


# Actions that run in the controller's worker, not as a module process.
LOCAL_ACTIONS = {
    f"{prefix}{name}"
    for prefix in ("", "ansible.builtin.")
    for name in ("set_fact", "assert", "debug", "fail", "include_role", "include_tasks", "add_host")
}


def _module_runs(run: PlaybookRun) -> dict[tuple[str, str], int]:
    """Module processes (loop items count one each) each host started in each play."""
    data = json.loads(run.stdout[run.stdout.find("{") :])
    counts: dict[tuple[str, str], int] = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("skipped") or result.get("action") in LOCAL_ACTIONS:
                    continue
                items = result.get("results")
                ran = 1 if items is None else sum(not i.get("skipped") for i in items)
                key = (host, play["play"]["name"])
                counts[key] = counts.get(key, 0) + ran
    return counts


def _phases(run: PlaybookRun) -> dict[str, tuple[float, float]]:
    """Each layer's (network's too) time in site.yml's first phase and in its second."""
    layers: dict[str, tuple[float, float]] = {}
    for (host, play), (start, end) in _spans(run).items():
        if not host.startswith("plinth-"):
            continue
        before, after = layers.get(host[7:], (0.0, 0.0))
        if play.startswith("Network"):
            before = end - start
        else:
            after = end - start
        layers[host[7:]] = (before, after)
    return layers


def _print_phases(run: PlaybookRun) -> float:
    """Print the phases; return the critical path (slowest of phase 1 + slowest of phase 2, then
    the apps and monitoring layers)."""
    layers = _phases(run)
    runs = {"phase 1": {}, "phase 2": {}}
    for (host, play), count in _module_runs(run).items():
        runs["phase 1" if play.startswith("Network") else "phase 2"][host[7:]] = count
    for layer, (before, after) in sorted(layers.items(), key=lambda item: -item[1][0]):
        print(
            f"  {layer:<13} {before:6.1f} s in phase 1 + {after:6.1f} s in phase 2"
            f"  (module runs: {runs['phase 1'].get(layer, 0)} + {runs['phase 2'].get(layer, 0)})"
        )
    first = max([before for before, _ in layers.values()], default=0.0)
    critical = first + max([after for _, after in layers.values()], default=0.0)
    # The apps and monitoring layers run after both phases, one after the other, on the controller.
    for play, (start, end) in _controller_layers(run).items():
        runs_after = sum(n for (host, name), n in _module_runs(run).items() if name == play)
        print(f"  {play:<24} {end - start:6.1f} s after them  (module runs: {runs_after})")
        critical += end - start
    return critical


def _controller_layers(run: PlaybookRun) -> dict[str, tuple[float, float]]:
    """The span of each layer play site.yml runs on the controller after the two phases."""
    return {
        play: span
        for (host, play), span in _spans(run).items()
        if host == "localhost" and play in ("Apps layer", "Monitoring layer")
    }


def _task_times(run: PlaybookRun) -> list[tuple[float, str, str]]:
    """(seconds, host, task name) of every task a host ran, slowest first."""
    data = json.loads(run.stdout[run.stdout.find("{") :])
    times = []
    for play in data["plays"]:
        for task in play["tasks"]:
            duration = task["task"].get("duration") or {}
            if not duration.get("start") or not duration.get("end"):
                continue
            seconds = _when(duration["end"]) - _when(duration["start"])
            for host in task["hosts"]:
                times.append((seconds, host, task["task"]["name"]))
    return sorted(times, reverse=True)


def _managed_resources(aws: EmulatorHandle, regions: list[str], prefix: str) -> int:
    """Resources carrying the stack's tag (tagging API), plus its IAM roles (global)."""
    count = 0
    for region in regions:
        tagging = aws.client("resourcegroupstaggingapi", region=region)
        pages = tagging.get_paginator("get_resources").paginate(
            TagFilters=[{"Key": "plinth:stack", "Values": [prefix]}]
        )
        count += sum(len(page["ResourceTagMappingList"]) for page in pages)
    roles = aws.client("iam").list_roles()["Roles"]
    return count + sum(role["RoleName"].startswith(prefix) for role in roles)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="60", help="real seconds per emulator second")
    parser.add_argument("--inventory", default="inventories/bioinvest-production")
    parser.add_argument(
        "--detail", type=int, default=25, help="rows of no-op task and API call detail"
    )
    parser.add_argument("--cluster", default="site-bench", help="local Kubernetes cluster name")
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    args = parser.parse_args()

    cluster = load_cluster()
    config_path = ROOT / args.inventory / "group_vars/all/platform.yml"
    already = cluster.is_healthy(cluster.kubeconfig_path(args.cluster))
    kubeconfig = cluster.up(args.cluster, config_path=config_path)
    cli = _load_cli()
    env = {key: "" for key in os.environ if key.startswith("PLINTH_EMULATOR_")}
    env.update(PLINTH_EMULATOR_LATENCY="1", PLINTH_EMULATOR_LATENCY_SCALE=args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        server = cli.Emulator(port=_free_port(), state_root=Path(tmp))
        server.start(env=env, record=True)
        try:
            aws = EmulatorHandle(server)
            return _bench(aws, args.inventory, Path(tmp), args.detail, kubeconfig)
        finally:
            server.stop()
            if not (already or args.keep):
                cluster.down(args.cluster)


def _bench(aws: EmulatorHandle, inventory: str, tmp: Path, detail: int, kubeconfig: Path) -> int:
    import yaml

    platform = yaml.safe_load((ROOT / inventory / "group_vars/all/platform.yml").read_text())
    platform = platform["platform"]
    prefix = f"{platform['name']}-{platform['environment']}"
    extra: dict[str, Any] = {
        "plinth_aws": {
            "endpoint_url": aws.endpoint_url,
            "access_key": "testing",
            "secret_key": "testing",
        },
        # The emulator has no EKS add-on API (see eks_addon's notes).
        "eks_addons": [],
        "plinth_eks_kubeconfig": str(kubeconfig),
        # Nor DescribeSubscribersForNotification (see the budget module's notes; as the local
        # inventory sets it).
        "monitoring_budget_compare_subscribers": False,
    }
    print(f"inventory {inventory}, latency profile 1:{aws.latency.get('scale')}")

    started = time.monotonic()
    cold = run_playbook("site.yml", inventory=inventory, extra_vars=extra, tmp_path=tmp)
    cold_wall = time.monotonic() - started
    if cold.rc != 0:
        print("cold run failed:", *cold.failure_messages(), sep="\n  ")
        return 1
    print(f"cold run:   wall {cold_wall:6.1f} s, changed {cold.changed}")
    critical = _print_phases(cold)
    print(
        f"  critical path {critical:6.1f} s (slowest of phase 1 + slowest of phase 2 + apps + "
        "monitoring); "
        f"wall / critical path = {cold_wall / critical:.2f} (target <= {TARGETS['ratio']})"
    )

    aws.clear_recording()
    started = time.monotonic()
    noop = run_playbook("site.yml", inventory=inventory, extra_vars=extra, tmp_path=tmp)
    noop_wall = time.monotonic() - started
    requests = aws.recorded_requests()
    calls = len(requests)
    resources = _managed_resources(aws, [platform["region"], platform.get("dr_region")], prefix)
    print(
        f"no-op rerun: wall {noop_wall:6.1f} s (target <= {TARGETS['noop_seconds']:.0f} s), "
        f"changed {noop.changed}, rc {noop.rc}"
    )
    print(
        f"  AWS API calls {calls} for {resources} managed resources (tagged, plus IAM roles): "
        f"{calls / max(resources, 1):.2f} per resource "
        f"(target <= {TARGETS['calls_per_resource']})"
    )
    if noop.rc != 0 or noop.changed:
        details = ["failed:", *noop.failure_messages(), "changed:", *noop.changed_tasks()]
        print("  " + "\n    ".join(details))
    _print_phases(noop)
    if detail:
        print("  slowest no-op tasks:")
        for seconds, host, name in _task_times(noop)[:detail]:
            print(f"    {seconds:5.1f} s  {host:<18} {name}")
        print("  API calls by operation:")
        operations = Counter(f"{r.service}:{r.operation}" for r in requests)
        for operation, count in operations.most_common(detail):
            print(f"    {count:4d}  {operation}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
