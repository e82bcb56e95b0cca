"""Benchmark: the no-op site run of two checkouts, interleaved on one emulator state.

This VM's speed drifts by a third over minutes (the same no-op took 49 and 62 CPU-s), so two
bench/site.py runs minutes apart cannot tell a 10 % change from the drift. This builds the state
once (a cold site.yml of the first checkout, BioInvest production, realistic-latency profile, local
cluster), then runs each checkout's no-op in turn, round after round, on that same state: the
checkouts see the same drift. Prints each run's wall time, CPU time (user + system of
ansible-playbook, its workers and modules) and changed count, then each checkout's median. Both
checkouts must make the same resources (a no-op with changes says they do not). Figures only.

    git worktree add ../base <commit> && ln -s "$PWD/.venv" ../base/.venv
    .venv/bin/python bench/site_noop_ab.py . ../base [--rounds 4] [--scale 60]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.dr import load_cluster  # noqa: E402
from tests.support.emulator_fixture import (  # noqa: E402  (needs ROOT on sys.path)
    EmulatorHandle,
    _free_port,
    _load_cli,
)

INVENTORY = "inventories/bioinvest-production"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _site(tree: Path, extra_vars: Path) -> tuple[int, float, float, int]:
    """rc, wall seconds, CPU seconds and changed count of one site.yml run of ``tree``."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(tree / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_JSON_INDENT="0",
    )
    cmd = [
        str(ROOT / ".venv/bin/ansible-playbook"),
        "-i",
        str(tree / INVENTORY),
        str(tree / "playbooks/site.yml"),
        "-e",
        f"@{extra_vars}",
    ]
    cpu = _children_cpu()
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    try:
        stats = json.loads(proc.stdout[proc.stdout.find("{") :])["stats"]
        changed = sum(host.get("changed", 0) for host in stats.values())
    except (ValueError, KeyError):
        changed = -1
    return proc.returncode, wall, _children_cpu() - cpu, changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, type=Path, help="two checkouts (the first builds)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--scale", default="60", help="real seconds per emulator second")
    parser.add_argument("--cluster", default="site-bench")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.trees]

    cluster = load_cluster()
    config_path = ROOT / INVENTORY / "group_vars/all/platform.yml"
    already = cluster.is_healthy(cluster.kubeconfig_path(args.cluster))
    kubeconfig = cluster.up(args.cluster, config_path=config_path)
    cli = _load_cli()
    env = {key: "" for key in os.environ if key.startswith("PLINTH_EMULATOR_")}
    env.update(PLINTH_EMULATOR_LATENCY="1", PLINTH_EMULATOR_LATENCY_SCALE=args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        server = cli.Emulator(port=_free_port(), state_root=Path(tmp))
        server.start(env=env)
        try:
            aws = EmulatorHandle(server)
            extra_vars = Path(tmp) / "extra.yml"
            # As bench/site.py: no EKS add-on API nor DescribeSubscribersForNotification here.
            extra = {
                "plinth_aws": {
                    "endpoint_url": aws.endpoint_url,
                    "access_key": "testing",
                    "secret_key": "testing",
                },
                "eks_addons": [],
                "plinth_eks_kubeconfig": str(kubeconfig),
                "monitoring_budget_compare_subscribers": False,
            }
            extra_vars.write_text(yaml.safe_dump(extra))
            rc, wall, cpu, changed = _site(trees[0], extra_vars)
            print(f"cold {trees[0]}: rc {rc}, wall {wall:.1f} s, changed {changed}", flush=True)
            if rc != 0:
                return 1
            figures: dict[Path, list[tuple[float, float]]] = {tree: [] for tree in trees}
            for number in range(args.rounds):
                for tree in trees:
                    rc, wall, cpu, changed = _site(tree, extra_vars)
                    figures[tree].append((wall, cpu))
                    print(
                        f"round {number} {tree}: rc {rc}, wall {wall:5.1f} s, "
                        f"CPU {cpu:5.1f} s, changed {changed}",
                        flush=True,
                    )
            for tree, runs in figures.items():
                print(
                    f"median {tree}: wall {statistics.median(w for w, _ in runs):5.1f} s, "
                    f"CPU {statistics.median(c for _, c in runs):5.1f} s over {len(runs)} runs"
                )
        finally:
            server.stop()
            if not already:
                cluster.down(args.cluster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
