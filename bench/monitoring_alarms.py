"""Alarm sets: amazon.aws.cloudwatch_metric_alarm (one task per alarm) against
plinth.platform.cloudwatch_metric_alarms (one call per set), cold and no-op.

Prints, for N alarms (default 40, about the BioInvest production set), each approach's wall time
and AWS API calls (the emulator's request recorder) for a cold apply and a no-op rerun. Figures,
never assertions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.emulator_fixture import (  # noqa: E402  (needs ROOT on sys.path)
    EmulatorHandle,
    _free_port,
    _load_cli,
)
from tests.support.playbook import run_playbook  # noqa: E402

PLAYBOOK = """\
- name: Alarm set
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/amazon.aws.aws: "{{ connection }}"
    group/plinth.platform.aws: "{{ connection }}"
  tasks:
    - name: One task per alarm
      amazon.aws.cloudwatch_metric_alarm:
        name: "{{ item.name }}"
        region: us-east-1
        namespace: "{{ item.namespace }}"
        metric_name: "{{ item.metric_name }}"
        dimensions: "{{ item.dimensions }}"
        statistic: "{{ item.statistic }}"
        period: "{{ item.period }}"
        evaluation_periods: "{{ item.evaluation_periods }}"
        threshold: "{{ item.threshold }}"
        comparison: "{{ item.comparison_operator }}"
        alarm_actions: "{{ item.alarm_actions }}"
        state: present
      loop: "{{ alarms }}"
      when: approach == 'amazon.aws'

    - name: One call per set
      plinth.platform.cloudwatch_metric_alarms:
        region: us-east-1
        prefix: "bench:"
        purge: true
        alarms: "{{ alarms }}"
      when: approach == 'plinth'
"""


def _alarms(count: int, prefix: str) -> list[dict[str, Any]]:
    topic = "arn:aws:sns:us-east-1:123456789012:bench-alerts-warning"
    return [
        {
            "name": f"{prefix}rds:db-{n}:cpu",
            "namespace": "AWS/RDS",
            "metric_name": "CPUUtilization",
            "dimensions": {"DBInstanceIdentifier": f"db-{n}"},
            "statistic": "Average",
            "period": 300,
            "evaluation_periods": 3,
            "threshold": 80.0,
            "comparison_operator": "GreaterThanThreshold",
            "alarm_actions": [topic],
        }
        for n in range(count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=40)
    args = parser.parse_args()
    cli = _load_cli()
    env = {key: "" for key in os.environ if key.startswith("PLINTH_EMULATOR_")}
    with tempfile.TemporaryDirectory() as tmp:
        server = cli.Emulator(port=_free_port(), state_root=Path(tmp))
        server.start(env=env, record=True)
        try:
            aws = EmulatorHandle(server)
            playbook = Path(tmp) / "alarms.yml"
            playbook.write_text(PLAYBOOK)
            print(f"{args.alarms} alarms")
            for approach, prefix in (("amazon.aws", "bench-aa:"), ("plinth", "bench:")):
                aws.reset()
                extra = {
                    "approach": approach,
                    "alarms": _alarms(args.alarms, prefix),
                    "connection": {
                        "endpoint_url": aws.endpoint_url,
                        "access_key": "testing",
                        "secret_key": "testing",
                    },
                }
                for phase in ("cold", "no-op"):
                    aws.clear_recording()
                    start = time.monotonic()
                    run = run_playbook(str(playbook), extra_vars=extra, tmp_path=Path(tmp))
                    wall = time.monotonic() - start
                    calls = len(aws.recorded_requests())
                    print(
                        f"  {approach:<11} {phase:<6} wall {wall:6.1f} s  changed {run.changed}"
                        f"  rc {run.rc}  API calls {calls}"
                    )
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
