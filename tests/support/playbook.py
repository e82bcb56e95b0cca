"""Run this repository's playbooks the way users do, and read what they did.

``run_playbook`` calls ``ansible-playbook`` in a subprocess against an emulator (only the
inventory's endpoint differs from a real account) with the JSON callback, and returns the
per-host stats and every task result, so tests assert on what changed rather than on log text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PlaybookRun:
    """The outcome of one ansible-playbook run."""

    rc: int
    stats: dict[str, dict[str, int]]
    tasks: list[dict[str, Any]]
    stdout: str
    stderr: str

    @property
    def changed(self) -> int:
        return sum(host.get("changed", 0) for host in self.stats.values())

    @property
    def failed(self) -> int:
        return sum(
            host.get("failures", 0) + host.get("unreachable", 0) for host in self.stats.values()
        )

    def changed_tasks(self) -> list[str]:
        """Names of the tasks that reported a change on any host."""
        return [t["name"] for t in self.tasks if any(r.get("changed") for r in t["hosts"].values())]

    def failure_messages(self) -> list[str]:
        """Every failure message, including those of failed loop items."""
        messages = []
        for task in self.tasks:
            for result in task["hosts"].values():
                if not (result.get("failed") or result.get("unreachable")):
                    continue
                messages.append(f"{task['name']}: {result.get('msg', '')}")
                messages += [
                    f"{task['name']} [{item.get('item')}]: {item.get('msg', '')}"
                    for item in result.get("results", [])
                    if item.get("failed")
                ]
        return messages

    def result(self, task_name: str, host: str = "localhost") -> dict[str, Any]:
        """The result of the last task with that name (role prefix excluded)."""
        for task in reversed(self.tasks):
            if task["name"].split(" : ")[-1] == task_name and host in task["hosts"]:
                return task["hosts"][host]
        raise KeyError(task_name)


def run_playbook(
    playbook: str,
    *,
    endpoint_port: int | None = None,
    inventory: str = "inventories/local",
    platform: dict[str, Any] | None = None,
    extra_vars: dict[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    tags: str | None = None,
    verbosity: int = 0,
    tmp_path: Path | None = None,
    env: dict[str, str] | None = None,
) -> PlaybookRun:
    """Run ``playbooks/<playbook>`` (or a path) and return its parsed JSON output.

    ``platform`` replaces the inventory's environment config (passed as extra vars, which win
    over group_vars), ``endpoint_port`` points the local inventory at a test emulator.
    """
    path = ROOT / "playbooks" / playbook if "/" not in playbook else ROOT / playbook
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i",
        str(ROOT / inventory),
        str(path),
    ]
    files_dir = tmp_path or Path(os.environ.get("TMPDIR", "/tmp"))
    for name, data in (
        ("platform", {"platform": platform} if platform else None),
        ("extra", extra_vars),
    ):
        if data:
            file = files_dir / f"plinth-{name}-vars-{os.getpid()}-{id(data)}.yml"
            file.write_text(yaml.safe_dump(data))
            cmd += ["-e", f"@{file}"]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if tags:
        cmd += ["--tags", tags]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    run_env = dict(os.environ)
    run_env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_JSON_INDENT="0",
        ANSIBLE_NOCOLOR="1",
    )
    if endpoint_port is not None:
        run_env["PLINTH_EMULATOR_PORT"] = str(endpoint_port)
    run_env.update(env or {})
    proc = subprocess.run(cmd, cwd=ROOT, env=run_env, capture_output=True, text=True, check=False)
    return _parse(proc)


def _parse(proc: subprocess.CompletedProcess[str]) -> PlaybookRun:
    start = proc.stdout.find("{")
    try:
        data = json.loads(proc.stdout[start:]) if start >= 0 else {}
    except json.JSONDecodeError:
        data = {}
    tasks = [
        {"name": t["task"]["name"], "hosts": t.get("hosts", {})}
        for play in data.get("plays", [])
        for t in play.get("tasks", [])
    ]
    return PlaybookRun(proc.returncode, data.get("stats", {}), tasks, proc.stdout, proc.stderr)
