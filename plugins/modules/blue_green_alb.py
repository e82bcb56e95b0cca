#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: blue_green_alb
version_added: 0.1.0
short_description: Shift an app's traffic between two ALB target groups in weighted steps
description:
  - The load-balancer mode of Plinth's blue-green releases. The two slots are two target groups;
    the forward action of a listener rule (or the listener's default action) sends weighted
    traffic to them (C(ForwardConfig)).
  - With O(state=present) the traffic moves to O(slot) in O(steps) (percentages of the traffic
    for O(slot)), waiting O(step_interval) seconds and running the O(analysis) after each step.
    A failed analysis puts every weight back where it was before the run and fails.
  - O(state=aborted) sends all the traffic to the other slot at once.
  - Before the first step the target group of O(slot) must have registered targets, all healthy
    (O(require_healthy_targets)).
  - Idempotent by the weights themselves - when O(slot) already receives 100% nothing is written.
    (C(amazon.aws.elb_application_lb) drops C(ForwardConfig) when it compares weighted actions and
    reports a change on every run; this module compares the weights.)
  - Other actions of the rule (for example C(authenticate-oidc) before the forward) and the
    target group stickiness are kept.
author: Plinth engineering (!UNKNOWN)
options:
  listener_arn:
    description: ARN of the listener.
    type: str
    required: true
  rule_arn:
    description:
      - ARN of the listener rule whose forward action is weighted. When omitted, the listener's
        default action is.
    type: str
  target_groups:
    description: The target group ARN of each slot.
    type: dict
    required: true
    suboptions:
      blue:
        description: Target group ARN of the blue slot.
        type: str
        required: true
      green:
        description: Target group ARN of the green slot.
        type: str
        required: true
  slot:
    description:
      - The slot that should receive the traffic (V(present)), or the one being aborted
        (V(aborted)).
    type: str
    required: true
    choices: [blue, green]
  state:
    description:
      - V(present) moves the traffic to O(slot) in O(steps).
      - V(aborted) moves all of it to the other slot.
    type: str
    choices: [present, aborted]
    default: present
  steps:
    description:
      - The shares of the traffic (percent) O(slot) receives in turn; 100 is always the last.
        Steps at or below the current share are skipped.
    type: list
    elements: int
    default: [100]
  step_interval:
    description: Seconds to wait after each step before its analysis.
    type: int
    default: 0
  require_healthy_targets:
    description: Refuse to send traffic to a target group without targets or with unhealthy ones.
    type: bool
    default: true
  analysis:
    description:
      - Checks run after every step (same shape as the C(post_analysis) option of
        M(plinth.platform.blue_green)); a failure restores the weights and fails.
    type: dict
    suboptions:
      http_checks:
        description: HTTP GET checks.
        type: list
        elements: dict
        default: []
        suboptions:
          url:
            description:
              - The URL.
              - A password in the URL (V(https://user:password@host/)) is hidden from the output.
            type: str
            required: true
          expected_status:
            description: The status that counts as a success.
            type: int
            default: 200
          tries:
            description: How many requests to send.
            type: int
            default: 5
          success_ratio:
            description: Share of the tries that must succeed (0-1).
            type: float
            default: 1.0
          interval:
            description: Seconds between tries.
            type: float
            default: 1.0
          timeout:
            description: Seconds to wait for one answer.
            type: int
            default: 5
          validate_certs:
            description: Whether to validate TLS certificates.
            type: bool
            default: true
      prometheus:
        description:
          - An instant query; its first value must lie within C(min_value) and C(max_value).
        type: dict
        suboptions:
          url:
            description:
              - Base URL of the Prometheus server.
              - A password in the URL (V(https://user:password@host/)) is hidden from the output.
            type: str
            required: true
          query:
            description: The PromQL instant query.
            type: str
            required: true
          min_value:
            description: Lowest value that passes.
            type: float
          max_value:
            description: Highest value that passes.
            type: float
          timeout:
            description: Seconds to wait for the answer.
            type: int
            default: 10
notes:
  - Check mode writes nothing and returns the steps it would take in RV(plan).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Move research-api to green, 10% then 50% then all, a minute apart
  plinth.platform.blue_green_alb:
    listener_arn: "{{ listener_arn }}"
    rule_arn: "{{ rule_arn }}"
    target_groups:
      blue: "{{ blue_tg_arn }}"
      green: "{{ green_tg_arn }}"
    slot: green
    steps: [10, 50, 100]
    step_interval: 60
    analysis:
      http_checks:
        - url: https://api.example.com/health
          tries: 20
          success_ratio: 0.95

- name: Abort - all traffic back to blue
  plinth.platform.blue_green_alb:
    listener_arn: "{{ listener_arn }}"
    rule_arn: "{{ rule_arn }}"
    target_groups: {blue: "{{ blue_tg_arn }}", green: "{{ green_tg_arn }}"}
    slot: green
    state: aborted
"""

RETURN = r"""
weights:
  description: The share of the traffic (percent) of each slot at the end.
  returned: always
  type: dict
  sample: {blue: 0, green: 100}
previous_weights:
  description: The shares before the run.
  returned: always
  type: dict
  sample: {blue: 100, green: 0}
active_slot:
  description: The slot receiving all the traffic at the end, or null while it is split.
  returned: always
  type: str
rolled_back:
  description: Whether an analysis failed and the weights were restored.
  returned: always
  type: bool
steps:
  description:
    - Every step taken - its share, seconds from the start when it was written, its analysis.
  returned: always
  type: list
  elements: dict
plan:
  description: The shares this run writes (in check mode, would write).
  returned: always
  type: list
  elements: int
timings:
  description: Seconds spent in total (C(total)) and until the last weight was written (C(switch)).
  returned: always
  type: dict
"""

import contextlib
import time
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.blue_green import (
    ANALYSIS_OPTIONS,
    BlueGreenError,
    failed_checks,
    forward_weights,
    other_slot,
    run_analysis,
    share,
    url_passwords,
    weight_steps,
    weighted_actions,
)


class WeightedForwardManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.client = module.client("elbv2", retry_decorator=AWSRetry.jittered_backoff())
        self.groups: dict[str, str] = self.params["target_groups"]
        self.started = time.monotonic()
        self.steps: list[dict[str, Any]] = []
        self.plan: list[int] = []
        self.rolled_back = False
        self.actions = self._read()
        self.before = self._shares(self.actions)

    def _read(self) -> list[dict[str, Any]]:
        if self.params["rule_arn"]:
            rules = self.client.describe_rules(RuleArns=[self.params["rule_arn"]], aws_retry=True)
            return rules["Rules"][0]["Actions"]
        listeners = self.client.describe_listeners(
            ListenerArns=[self.params["listener_arn"]], aws_retry=True
        )
        return listeners["Listeners"][0]["DefaultActions"]

    def _shares(self, actions: list[dict[str, Any]]) -> dict[str, int]:
        weights = forward_weights(actions)
        return {slot: share(weights, arn) for slot, arn in self.groups.items()}

    def _write(self, slot: str, percent: int) -> None:
        weights = {self.groups[slot]: percent, self.groups[other_slot(slot)]: 100 - percent}
        actions = weighted_actions(self.actions, weights)
        if self.params["rule_arn"]:
            self.client.modify_rule(
                RuleArn=self.params["rule_arn"], Actions=actions, aws_retry=True
            )
        else:
            self.client.modify_listener(
                ListenerArn=self.params["listener_arn"], DefaultActions=actions, aws_retry=True
            )
        self.actions = actions

    def _require_healthy(self, slot: str) -> None:
        if not self.params["require_healthy_targets"]:
            return
        health = self.client.describe_target_health(
            TargetGroupArn=self.groups[slot], aws_retry=True
        )["TargetHealthDescriptions"]
        states = {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in health}
        if not states or any(state != "healthy" for state in states.values()):
            raise BlueGreenError(
                f"target group of slot {slot} is not ready for traffic: "
                f"{states or 'no registered targets'}"
            )

    def shift(self, slot: str, steps: list[int], analyse: bool) -> None:
        if not forward_weights(self.actions):
            raise BlueGreenError(
                "the rule (or the listener's default action) has no forward action"
            )
        self.plan = weight_steps(self.before[slot], steps) if self.before[slot] < 100 else []
        if not self.plan or self.module.check_mode:
            return
        self._require_healthy(slot)
        for percent in self.plan:
            self._write(slot, percent)
            step: dict[str, Any] = {
                "share": percent,
                "written_at": round(time.monotonic() - self.started, 3),
            }
            self.steps.append(step)
            if not analyse:
                continue
            if self.params["step_interval"]:
                time.sleep(self.params["step_interval"])
            step["analysis"] = run_analysis(self.params["analysis"])
            if not step["analysis"]["passed"]:
                self._write(slot, self.before[slot])
                self.rolled_back = True
                raise BlueGreenError(
                    f"analysis failed at {percent}% for slot {slot} "
                    f"({failed_checks(step['analysis'])}); weights restored to {self.before}"
                )

    def result(self) -> dict[str, Any]:
        weights = self._shares(self.actions)
        active = next((s for s, w in weights.items() if w == 100), None)
        result = {
            "changed": bool(self.plan),
            "weights": weights if not self.module.check_mode else self.before,
            "previous_weights": self.before,
            "active_slot": active,
            "rolled_back": self.rolled_back,
            "steps": self.steps,
            "plan": self.plan,
            "timings": {
                "switch": self.steps[-1]["written_at"] if self.steps else 0,
                "total": round(time.monotonic() - self.started, 3),
            },
        }
        if self.module._diff:
            final = dict(self.before)
            if self.plan:
                target = self.params["slot"]
                if self.params["state"] == "aborted":
                    target = other_slot(target)
                final = {target: 100, other_slot(target): 0}
            result["diff"] = {"before": {"weights": self.before}, "after": {"weights": final}}
        return result


def main() -> None:
    argument_spec = dict(
        listener_arn=dict(type="str", required=True),
        rule_arn=dict(type="str"),
        target_groups=dict(
            type="dict",
            required=True,
            options=dict(
                blue=dict(type="str", required=True), green=dict(type="str", required=True)
            ),
        ),
        slot=dict(type="str", required=True, choices=["blue", "green"]),
        state=dict(type="str", default="present", choices=["present", "aborted"]),
        steps=dict(type="list", elements="int", default=[100]),
        step_interval=dict(type="int", default=0),
        require_healthy_targets=dict(type="bool", default=True),
        analysis=dict(type="dict", options=ANALYSIS_OPTIONS),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    module.no_log_values.update(url_passwords(module.params["analysis"]))
    if any(not 0 < s <= 100 for s in module.params["steps"]):
        module.fail_json(msg="steps must be percentages within 1-100")

    manager = None
    try:
        manager = WeightedForwardManager(module)
        if module.params["state"] == "present":
            manager.shift(module.params["slot"], module.params["steps"], analyse=True)
        else:
            # Aborting is the quickest way back: one write, no steps, no analysis.
            manager.shift(other_slot(module.params["slot"]), [100], analyse=False)
    except BlueGreenError as e:
        module.fail_json(msg=str(e), **manager.result())
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to shift the weighted forward action")
    module.exit_json(**manager.result())


if __name__ == "__main__":
    main()
