"""playbooks/validate.yml (the config role, first in every playbook) at -vvv, read as a user reads
it (the default callback): secrets in the config never appear, a bad config's key path does.

No AWS call is involved (the role only validates), so no emulator is started.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from tests.support.playbook import PlaybookRun, run_playbook

ROOT = Path(__file__).resolve().parents[2]
LOCAL = yaml.safe_load((ROOT / "inventories/local/group_vars/all/platform.yml").read_text())[
    "platform"
]
TOKEN = "S3CR3T-INTEGRATION-KEY"
HOOK = f"https://events.example.com/v2/integration/{TOKEN}/enqueue"
PROMETHEUS = f"https://grafana:{TOKEN}-2@prometheus.example.com"
# What users see: the default callback's text, not the JSON the other tests parse.
HUMAN = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"}


def _platform(hook: str) -> dict[str, Any]:
    platform = copy.deepcopy(LOCAL)
    platform["monitoring"]["topics"]["critical"]["https"] = [hook]
    app = platform["apps"][0]
    app.setdefault("blue_green", {})["post_analysis"] = {
        "prometheus": {"url": PROMETHEUS, "query": "up", "max_value": 1}
    }
    return platform


def _validate(tmp_path: Path, platform: dict[str, Any]) -> PlaybookRun:
    return run_playbook(
        "validate.yml", platform=platform, verbosity=3, tmp_path=tmp_path, env=HUMAN
    )


def test_secrets_never_in_the_output_at_vvv(tmp_path: Path) -> None:
    run = _validate(tmp_path, _platform(HOOK))
    assert run.rc == 0, run.stdout + run.stderr
    output = run.stdout + run.stderr
    assert TOKEN not in output
    # The two tasks ran and their results were shown censored, not skipped.
    assert "TASK [plinth.platform.config : Validate the environment config]" in output
    assert "TASK [plinth.platform.config : Publish the normalised config]" in output
    assert output.count("censored: 'the output has been hidden") == 2, output


def test_bad_config_names_the_key_path_not_the_secret_at_vvv(tmp_path: Path) -> None:
    platform = _platform(HOOK.replace("https:", "http:"))
    platform["network"]["cidr"] = "10.0.0.0/33"
    run = _validate(tmp_path, platform)
    assert run.rc != 0
    output = run.stdout + run.stderr
    assert "platform.network.cidr: '10.0.0.0/33' is not a valid CIDR" in output
    assert "platform.monitoring.topics.critical.https[0]: (value hidden) is not an https://" in (
        output
    )
    assert TOKEN not in output


def test_validated_config_still_reaches_the_roles(tmp_path: Path) -> None:
    """Hidden is not lost: the published config__output keeps the secret for the roles."""
    playbook = tmp_path / "show.yml"
    playbook.write_text((ROOT / "playbooks/validate.yml").read_text() + """
- name: Read the published config
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Compare the endpoint with the one given
      ansible.builtin.assert:
        that: config__output.monitoring.topics.critical.https == [hook]
        quiet: true
""")
    run = run_playbook(
        str(playbook),
        platform=_platform(HOOK),
        extra_vars={"hook": HOOK},
        tmp_path=tmp_path,
    )
    assert run.rc == 0, run.stdout + run.stderr
    assert run.result("Compare the endpoint with the one given").get("failed") is not True
