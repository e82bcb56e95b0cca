"""Tests for plinth.platform.platform_config: the module in-process, the action plugin for real.

The module path runs main() with patched module args. The action plugin path runs a real
``ansible-playbook`` (through the ``config`` role) so that what is tested is what playbooks use:
the controller-side action plugin that shadows the module of the same name.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.plinth.platform.plugins.modules import platform_config

ROOT = Path(__file__).resolve().parents[4]

GOOD: dict[str, Any] = {
    "name": "bioinvest",
    "environment": "production",
    "region": "us-east-1",
    "availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"],
    "network": {"cidr": "10.0.0.0/16"},
    "eks": {
        "node_groups": [
            {"name": "general", "instance_types": ["m5.xlarge"], "min_size": 2, "max_size": 10}
        ]
    },
}
# Two mistakes, to see that both are reported.
BAD: dict[str, Any] = {
    **GOOD,
    "network": {"cidr": "10.0.0.0/33"},
    "eks": {
        "node_groups": [
            {"name": "general", "instance_types": ["m5.xlarge"], "min_size": 3, "max_size": 1}
        ]
    },
}
PRIVATE = ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]


def run_module(args: dict[str, Any], check_mode: bool = False) -> dict[str, Any]:
    """Run the module's main() in-process and return its result JSON."""
    out = io.StringIO()
    with (
        patch_module_args(dict(args, _ansible_check_mode=check_mode)),
        contextlib.redirect_stdout(out),
        pytest.raises(SystemExit),
    ):
        platform_config.main()
    return json.loads(out.getvalue())


@pytest.mark.parametrize("check_mode", [False, True])
def test_module_returns_normalised_config(check_mode):
    result = run_module({"config": GOOD}, check_mode=check_mode)
    assert result["changed"] is False
    assert "failed" not in result
    assert [s["cidr"] for s in result["subnets"]["private"]] == PRIVATE
    assert result["subnets"] == result["config"]["network"]["subnets"]
    assert result["config"]["network"]["nat"] == "per_az"
    assert result["config"]["eks"]["node_groups"][0]["desired_size"] == 2
    # What tells the module apart from the action plugin in the playbook tests below.
    assert "invocation" in result


def test_module_fails_listing_every_error():
    result = run_module({"config": BAD})
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["errors"] == [
        "platform.network.cidr: '10.0.0.0/33' is not a valid CIDR",
        "platform.eks.node_groups[0].min_size: 3 is greater than max_size (1)",
    ]
    assert result["msg"].splitlines()[1:] == result["errors"]


def test_module_rejects_unknown_options():
    result = run_module({"config": GOOD, "conifg": {}})
    assert result["failed"] is True
    assert "conifg" in result["msg"]


PLAYBOOK = """\
- name: Validate through the config role
  hosts: localhost
  gather_facts: false
  roles:
    - plinth.platform.config
"""


def run_playbook(tmp_path: Path, platform: dict[str, Any], *extra: str) -> tuple[int, dict]:
    """Run the config role with ``platform`` through ansible-playbook; return (rc, json output)."""
    (tmp_path / "play.yml").write_text(PLAYBOOK)
    (tmp_path / "vars.json").write_text(json.dumps({"platform": platform}))
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
    )
    command = [
        str(Path(sys.executable).with_name("ansible-playbook")),
        "-i",
        "localhost,",
        "-e",
        "ansible_connection=local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-e",
        f"@{tmp_path / 'vars.json'}",
        *extra,
        str(tmp_path / "play.yml"),
    ]
    proc = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return proc.returncode, json.loads(proc.stdout)


def task_result(output: dict, name: str) -> dict[str, Any]:
    for task in output["plays"][0]["tasks"]:
        if task["task"]["name"].endswith(name):
            return task["hosts"]["localhost"]
    raise AssertionError(f"no task {name!r} in {output}")


def test_action_plugin_validates_good_config_in_check_mode(tmp_path):
    rc, output = run_playbook(tmp_path, GOOD, "--check")
    assert rc == 0, output
    result = task_result(output, "Validate the environment config")
    assert result["changed"] is False
    # A shipped module reports its invocation; the controller-side action plugin does not.
    assert "invocation" not in result
    assert [s["cidr"] for s in result["subnets"]["private"]] == PRIVATE
    published = task_result(output, "Publish the normalised config")["ansible_facts"]
    assert published["config__output"] == result["config"]


def test_action_plugin_fails_naming_the_key_path(tmp_path):
    rc, output = run_playbook(tmp_path, BAD)
    assert rc == 2
    result = task_result(output, "Validate the environment config")
    assert result["failed"] is True
    assert "invocation" not in result
    assert "platform.network.cidr: '10.0.0.0/33' is not a valid CIDR" in result["msg"]
    assert "platform.eks.node_groups[0].min_size" in result["msg"]
    assert len(result["errors"]) == 2
