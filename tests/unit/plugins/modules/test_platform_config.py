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
from unittest.mock import MagicMock

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.plinth.platform.plugins.action.platform_config import ActionModule
from ansible_collections.plinth.platform.plugins.module_utils.config import HIDDEN
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
# An alert endpoint with an integration key in it: a secret the output must never show.
TOKEN = "S3CR3T-INTEGRATION-KEY"
HOOK = f"https://events.example.com/v2/integration/{TOKEN}/enqueue"
WITH_HOOK: dict[str, Any] = {**GOOD, "monitoring": {"topics": {"critical": {"https": [HOOK]}}}}
# The same endpoint over plain http, beside a mistake elsewhere.
BAD_HOOK: dict[str, Any] = {
    **BAD,
    "monitoring": {"topics": {"critical": {"https": [HOOK.replace("https:", "http:")]}}},
}


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


def test_module_masks_secrets_in_result_and_invocation():
    result = run_module({"config": WITH_HOOK})
    assert "failed" not in result
    assert TOKEN not in json.dumps(result)
    assert result["config"]["monitoring"]["topics"]["critical"]["https"] == [
        "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    ]
    assert result["config"]["network"]["nat"] == "per_az"  # everything else as it is


def test_module_failure_names_the_key_but_masks_the_secret():
    result = run_module({"config": BAD_HOOK})
    assert result["failed"] is True
    assert f"platform.monitoring.topics.critical.https[0]: {HIDDEN} is not an https:// URL" in (
        result["errors"]
    )
    assert TOKEN not in json.dumps(result)


def test_module_rejects_unknown_options():
    result = run_module({"config": GOOD, "conifg": {}})
    assert result["failed"] is True
    assert "conifg" in result["msg"]


def run_action(config: Any, check_mode: bool = False) -> dict[str, Any]:
    """Run the action plugin in-process, as the task executor would, and return its result."""
    task = MagicMock(args={"config": config}, async_val=0, check_mode=check_mode)
    connection = MagicMock()
    connection._shell.tmpdir = None
    action = ActionModule(task, connection, MagicMock(), MagicMock(), MagicMock(), MagicMock())
    return action.run(task_vars={})


@pytest.mark.parametrize("check_mode", [False, True])
def test_action_hides_a_valid_result_but_returns_it_whole(check_mode):
    result = run_action(WITH_HOOK, check_mode=check_mode)
    # no_log for this result only: the executor ORs it with the task's no_log, so every callback
    # shows a censored result at any verbosity, while register keeps it whole for the roles.
    assert result["_ansible_no_log"] is True
    assert result["changed"] is False and "failed" not in result
    assert result["config"]["monitoring"]["topics"]["critical"]["https"] == [HOOK]
    assert [s["cidr"] for s in result["subnets"]["private"]] == PRIVATE


def test_action_failure_stays_visible_naming_the_key_path_not_the_secret():
    result = run_action(BAD_HOOK)
    assert result["failed"] is True
    assert "_ansible_no_log" not in result
    assert "platform.network.cidr: '10.0.0.0/33' is not a valid CIDR" in result["errors"]
    assert f"platform.monitoring.topics.critical.https[0]: {HIDDEN} is not an https:// URL" in (
        result["msg"].splitlines()
    )
    assert TOKEN not in json.dumps(result)


PLAYBOOK = """\
- name: Validate through the config role
  hosts: localhost
  gather_facts: false
  roles:
    - plinth.platform.config
  tasks:
    - name: Show the planned private subnets
      ansible.builtin.debug:
        msg: "{{ config__output.network.subnets.private | map(attribute='cidr') }}"
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
    # A shipped module reports its invocation; the controller-side action plugin does not. Its
    # result (and the fact that publishes it) is hidden: the config may hold secrets.
    assert "invocation" not in result
    assert "censored" in result and "config" not in result
    assert "censored" in task_result(output, "Publish the normalised config")
    assert task_result(output, "Show the planned private subnets")["msg"] == PRIVATE


def test_action_plugin_fails_naming_the_key_path(tmp_path):
    rc, output = run_playbook(tmp_path, BAD)
    assert rc == 2
    result = task_result(output, "Validate the environment config")
    assert result["failed"] is True
    assert "invocation" not in result
    assert "platform.network.cidr: '10.0.0.0/33' is not a valid CIDR" in result["msg"]
    assert "platform.eks.node_groups[0].min_size" in result["msg"]
    assert len(result["errors"]) == 2
