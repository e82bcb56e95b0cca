#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: blue_green
version_added: 0.1.0
short_description: Release an app with a blue-green switch of its Kubernetes Service
description:
  - Manages two slots of an app, Deployments C(<name>-blue) and C(<name>-green) whose pods carry
    the label C(plinth.dev/slot=<slot>), the active Service C(<name>) that selects one slot and,
    optionally, the preview Service C(<name>-preview) that selects the slot being released.
  - A release (O(state=present) with a new O(version)) creates or updates the idle slot's
    Deployment, waits until every pod of the slot has been Ready for O(min_ready_seconds), runs
    the pre-promotion analysis (HTTP checks, a Prometheus query), promotes (at once, after
    O(promotion_delay), or on a second call with O(state=promoted) when O(promotion=manual)),
    runs the post-promotion analysis and rolls back automatically when it fails, then scales the
    previous slot down after O(scale_down_delay) unless O(keep_previous=true).
  - The switch is one merge patch of the active Service's selector, guarded by the Service's
    resourceVersion. Right before it the slot's pods are read again; the module never points
    the active Service at a slot with a pod that is not Ready.
  - A release that does not become Ready or fails its analysis leaves the active slot serving,
    scales the new slot to zero and fails with the reason.
  - When the release (image, version and pod template) already runs in the active slot, nothing
    changes (only a different O(replicas) is applied in place).
  - No controller runs in the cluster; the module blocks while it waits, so the delays and the
    timeouts bound its run time.
  - For traffic shifted at an AWS load balancer instead, see M(plinth.platform.blue_green_alb).
author: Plinth engineering (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  name:
    description:
      - The app's name (label C(app.kubernetes.io/name)); prefixes the Deployments and Services.
    type: str
    required: true
  namespace:
    description: The app's namespace (it must exist).
    type: str
    required: true
  image:
    description:
      - The app's image reference; its tag or digest is replaced by O(version).
    type: str
    required: true
  version:
    description:
      - The version to release, used as the image tag and as label C(app.kubernetes.io/version).
    type: str
    required: true
  state:
    description:
      - V(present) releases O(version) (stopping before the switch when O(promotion=manual)).
      - V(promoted) switches to the slot that runs O(version), prepared by an earlier V(present).
      - V(aborted) returns the traffic to the stable slot and scales the slot running O(version)
        down.
    type: str
    choices: [present, promoted, aborted]
    default: present
  replicas:
    description: Replicas of the active slot.
    type: int
    default: 1
  port:
    description: The container port; both Services map port 80 to it.
    type: int
    default: 8080
  health_path:
    description: Path of the readiness and liveness HTTP probes.
    type: str
    default: /health
  labels:
    description: Extra labels on every object (for example C(plinth.dev/environment)).
    type: dict
    default: {}
  pod_labels:
    description: Extra labels on the pods only.
    type: dict
    default: {}
  resources:
    description: The container's C(resources) (requests and limits).
    type: dict
    default: {}
  node_selector:
    description: The pods' C(nodeSelector).
    type: dict
    default: {}
  tolerations:
    description: The pods' C(tolerations).
    type: list
    elements: dict
    default: []
  env_from:
    description: The container's C(envFrom) (ConfigMaps and Secrets).
    type: list
    elements: dict
    default: []
  service_account:
    description: The pods' ServiceAccount.
    type: str
  preview:
    description: Whether to manage the preview Service C(<name>-preview), selecting the newest slot.
    type: bool
    default: false
  preview_replicas:
    description:
      - Replicas of the new slot while it is analysed; it is scaled to O(replicas) (and waited
        for) before the switch. Defaults to O(replicas).
    type: int
  promotion:
    description:
      - V(auto) switches as soon as the pre-promotion analysis passes (after O(promotion_delay)).
      - V(manual) stops there; a call with O(state=promoted) switches.
    type: str
    choices: [auto, manual]
    default: auto
  promotion_delay:
    description: Seconds to wait between a passed analysis and an automatic switch.
    type: int
    default: 0
  min_ready_seconds:
    description: Seconds every pod of the new slot must have been Ready before the analysis passes.
    type: int
    default: 10
  ready_timeout:
    description: Seconds to wait for the new slot to become Ready before giving up.
    type: int
    default: 600
  pre_analysis:
    description: Checks that must pass, after the readiness check, before the switch.
    type: dict
    suboptions: &analysis
      http_checks:
        description: HTTP GET checks.
        type: list
        elements: dict
        default: []
        suboptions:
          url:
            description:
              - The URL (for example the preview Service's in-cluster address).
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
          - An instant query (C(/api/v1/query)); its first value must lie within C(min_value)
            and C(max_value).
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
  post_analysis:
    description: Checks run after the switch; when one fails the module switches back and fails.
    type: dict
    suboptions: *analysis
  scale_down_delay:
    description:
      - Seconds between the switch and scaling the previous slot to zero, so that every
        endpoint consumer (kube-proxy, ingress controllers) has moved to the new slot.
    type: int
    default: 30
  keep_previous:
    description: Keep the previous slot running (warm) for an instant rollback.
    type: bool
    default: false
  autoscaling:
    description:
      - A HorizontalPodAutoscaler C(<name>) (autoscaling/v2, CPU utilisation) that always scales
        the active slot; it is re-pointed right after each switch (and back on a rollback).
      - The new slot is scaled to what the HPA had scaled the serving slot to (within
        O(autoscaling.min_replicas) and O(autoscaling.max_replicas)) before it takes the
        traffic; O(replicas) is then only the first release's size.
      - Without it, an HPA C(<name>) left from an earlier release is removed.
    type: dict
    suboptions:
      min_replicas:
        description: Fewest replicas.
        type: int
        required: true
      max_replicas:
        description: Most replicas.
        type: int
        required: true
      cpu_target:
        description: Target average CPU utilisation (percent of the requests).
        type: int
        default: 70
notes:
  - Check mode changes nothing and returns the plan in RV(plan); with C(--diff) the selector and
    image changes are shown.
"""

EXAMPLES = r"""
- name: Release research-api 1.5.0 (automatic promotion)
  plinth.platform.blue_green:
    name: research-api
    namespace: bioinvest-api
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/research-api
    version: 1.5.0
    replicas: 3
    port: 8000
    health_path: /health
    preview: true
    preview_replicas: 1
    min_ready_seconds: 30
    pre_analysis:
      http_checks:
        - url: http://research-api-preview.bioinvest-api.svc/health
          tries: 10
          success_ratio: 0.9
    post_analysis:
      prometheus:
        url: http://prometheus.monitoring.svc:9090
        query: sum(rate(http_requests_total{app="research-api",code=~"5.."}[1m]))
        max_value: 1
    scale_down_delay: 60

- name: Prepare 1.6.0 behind the preview Service, wait for a human
  plinth.platform.blue_green:
    name: research-api
    namespace: bioinvest-api
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/research-api
    version: 1.6.0
    replicas: 3
    preview: true
    promotion: manual

- name: Promote it
  plinth.platform.blue_green:
    name: research-api
    namespace: bioinvest-api
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/research-api
    version: 1.6.0
    replicas: 3
    state: promoted
"""

RETURN = r"""
active_slot:
  description: The slot the active Service selects at the end.
  returned: always
  type: str
  sample: green
previous_slot:
  description: The slot that served before the last switch.
  returned: when known
  type: str
  sample: blue
active_version:
  description: The version the active slot runs.
  returned: always
  type: str
  sample: 1.5.0
previous_version:
  description: The version of the previous slot.
  returned: when known
  type: str
promoted:
  description: Whether this run switched the active Service to the new slot (and kept it there).
  returned: always
  type: bool
rolled_back:
  description: Whether the post-promotion analysis failed and the traffic was switched back.
  returned: always
  type: bool
awaiting_promotion:
  description: Whether the new slot is ready and analysed and waits for O(state=promoted).
  returned: always
  type: bool
selector:
  description: The active Service's selector at the end.
  returned: always
  type: dict
slots:
  description: Per slot, its Deployment, version, image, replicas and readiness.
  returned: always
  type: dict
analysis:
  description: The full analysis; C(readiness) of the new slot, C(pre) and C(post) checks with
    every try's status or the query's value.
  returned: always
  type: dict
timings:
  description: Seconds spent waiting for the slot to be Ready (C(slot_ready)), in the analysis
    (C(analysis)), from the passed analysis to the patched selector (C(switch)), in the
    post-promotion analysis (C(post_analysis)) and until the old slot was scaled down
    (C(scale_down)), and in total (C(total)).
  returned: always
  type: dict
  sample: {slot_ready: 4.1, analysis: 0.2, switch: 0.03, scale_down: 30.0, total: 34.5}
plan:
  description: The steps this run takes (in check mode, would take).
  returned: always
  type: list
  elements: str
"""

import contextlib
import time
import traceback
from typing import Any

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.plinth.platform.plugins.module_utils.blue_green import (
    ANALYSIS_OPTIONS,
    HASH_ANNOTATION,
    PREVIOUS_ANNOTATION,
    SLOT_LABEL,
    SLOTS,
    VERSION_ANNOTATION,
    VERSION_LABEL,
    AppSpec,
    BlueGreenError,
    Readiness,
    SlotClient,
    failed_checks,
    other_slot,
    run_analysis,
    slot_readiness,
    slot_summary,
    url_passwords,
)

POLL_SECONDS = 0.25


class BlueGreenManager:
    def __init__(self, module: Any, client: SlotClient, spec: AppSpec) -> None:
        self.module = module
        self.params = module.params
        self.client = client
        self.spec = spec
        self.hash = spec.template_hash()
        self.check_mode = module.check_mode
        self.started = time.monotonic()
        self.changed = False
        self.plan: list[str] = []
        self.timings: dict[str, float] = {}
        self.analysis: dict[str, Any] = {}
        self.outcome = {"promoted": False, "rolled_back": False, "awaiting_promotion": False}
        self.previous_slot: str | None = None
        # Check mode: the replicas the plan has given each slot so far (nothing is written).
        self.planned_replicas: dict[str, int] = {}
        self.before = self._state()

    # -- reading -------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        self.service = self.client.service(self.spec.name)
        self.slots = {s: self.client.deployment(self.spec.deployment_name(s)) for s in SLOTS}
        selector = (self.service or {}).get("spec", {}).get("selector") or {}
        return {
            "service_selector": selector,
            "slots": {
                s: {k: v for k, v in slot_summary(d).items() if k in ("image", "replicas")}
                for s, d in self.slots.items()
            },
        }

    @property
    def active(self) -> str | None:
        if self.service is None:
            return None
        slot = (self.service["spec"].get("selector") or {}).get(SLOT_LABEL)
        if slot not in SLOTS:
            raise BlueGreenError(
                f"Service {self.spec.name} exists but does not select a slot "
                f"({SLOT_LABEL} in its selector); it is not managed by blue_green"
            )
        return slot

    def _slot_hash(self, slot: str) -> str | None:
        deployment = self.slots[slot]
        return ((deployment or {}).get("metadata", {}).get("annotations") or {}).get(
            HASH_ANNOTATION
        )

    def _slot_replicas(self, slot: str) -> int:
        if slot in self.planned_replicas:
            return self.planned_replicas[slot]
        return (self.slots[slot] or {}).get("spec", {}).get("replicas", 0)

    def _slot_version(self, slot: str | None) -> str | None:
        if slot is None or self.slots[slot] is None:
            return None
        return (self.slots[slot]["metadata"].get("labels") or {}).get(VERSION_LABEL)

    def _readiness(
        self, slot: str, template_hash: str, replicas: int, min_ready: float
    ) -> Readiness:
        pods = self.client.slot_pods(self.spec.name, slot)
        return slot_readiness(pods, template_hash, replicas, min_ready)

    # -- writing -------------------------------------------------------------------------------
    def _step(self, description: str) -> bool:
        """Record a step; True when it must really be done (not in check mode)."""
        self.plan.append(description)
        self.changed = True
        return not self.check_mode

    def _scale(self, slot: str, replicas: int) -> None:
        name = self.spec.deployment_name(slot)
        if self._slot_replicas(slot) == replicas:
            return
        if self._step(f"scale {name} to {replicas}"):
            self.client.scale(name, replicas)
            self.slots[slot] = self.client.deployment(name)
        else:
            self.planned_replicas[slot] = replicas

    def _wait_ready(
        self, slot: str, template_hash: str, replicas: int, record: bool = True
    ) -> Readiness:
        if self.check_mode:  # nothing was deployed: nothing to observe, the plan goes on
            return Readiness(True, replicas, 0, 0, "not observed in check mode")
        start = time.monotonic()
        deadline = start + self.params["ready_timeout"]
        min_ready = self.params["min_ready_seconds"]
        while True:
            readiness = self._readiness(slot, template_hash, replicas, min_ready)
            if readiness.ready or time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS)
        if record:  # the new slot's readiness, not a stable slot's on the way back
            self.timings["slot_ready"] = round(
                self.timings.get("slot_ready", 0) + time.monotonic() - start, 3
            )
            self.analysis["readiness"] = readiness.as_dict()
        return readiness

    def _analyse(self, phase: str) -> dict[str, Any]:
        if self.check_mode:
            return {"passed": True, "checks": [], "skipped": "check mode"}
        start = time.monotonic()
        result = run_analysis(self.params[f"{phase}_analysis"])
        self.timings["analysis" if phase == "pre" else "post_analysis"] = round(
            time.monotonic() - start, 3
        )
        self.analysis[phase] = result
        return result

    def _give_up(self, slot: str, why: str) -> None:
        """The new slot is not fit: it goes back to zero, the active slot keeps serving."""
        self._scale(slot, 0)
        active = self.active
        serving = f"slot {active} keeps serving" if active else "no slot serves yet"
        raise BlueGreenError(
            f"{self.spec.name}: release {self.spec.version} in slot {slot} {why}; {serving}"
        )

    def _switch(self, slot: str, previous: str | None, version: str) -> None:
        """Point the active Service at ``slot`` (which must be all Ready right now)."""
        name = self.spec.name
        if not self._step(f"switch Service {name} selector to slot {slot}"):
            return
        replicas = self._slot_replicas(slot)
        guard = self._readiness(slot, self._slot_hash(slot) or "", replicas, 0)
        if not guard.ready:
            raise BlueGreenError(f"{name}: not switching to slot {slot}: {guard.reason}")
        annotations = {VERSION_ANNOTATION: version, PREVIOUS_ANNOTATION: previous or ""}
        if self.service is None:
            self.client.apply(self.client.services, self.spec.service(name, slot, annotations))
        else:
            self.client.switch(self.service, self.spec.selector(slot), annotations)
        self.service = self.client.service(name)

    def _ensure_preview(self, slot: str) -> None:
        if not self.params["preview"]:
            return
        name = f"{self.spec.name}-preview"
        current = self.client.service(name)
        selector = (current or {}).get("spec", {}).get("selector")
        if selector != self.spec.selector(slot) and self._step(
            f"point Service {name} at slot {slot}"
        ):
            self.client.apply(self.client.services, self.spec.service(name, slot, {}))

    # -- states --------------------------------------------------------------------------------
    def ensure_present(self) -> None:
        active = self.active
        if active is not None and self._slot_hash(active) == self.hash:
            summary = slot_summary(self.slots[active])
            if not self.spec.autoscaling:  # with an HPA, it owns the active slot's replicas
                self._scale(active, self.spec.replicas)
            if not summary["ready"]:
                self.module.warn(
                    f"{self.spec.name} {self.spec.version} is already active in slot {active} but "
                    f"only {summary['ready_replicas']} of {summary['replicas']} replicas are Ready"
                )
            self._ensure_hpa(active)
            self._ensure_preview(active)
            return
        slot = other_slot(active) if active else "blue"
        replicas = self.spec.replicas
        if active and self.params["preview_replicas"] is not None:
            replicas = min(self.params["preview_replicas"], replicas)
        name = self.spec.deployment_name(slot)
        if self._slot_hash(slot) != self.hash:
            if self._step(f"deploy {self.spec.image_ref} to {name} ({replicas} replicas)"):
                self.client.apply(self.client.deployments, self.spec.deployment(slot, replicas))
                self.slots[slot] = self.client.deployment(name)
            else:
                self.planned_replicas[slot] = replicas
        elif self._slot_replicas(slot) < replicas:
            self._scale(slot, replicas)
        self._ensure_preview(slot)
        self._prepare(slot, replicas)
        if self.params["promotion"] == "manual" and active is not None:
            self.outcome["awaiting_promotion"] = True
            self.plan.append(f"wait for state=promoted to switch to slot {slot}")
            return
        if self.params["promotion_delay"] and self._step(
            f"wait {self.params['promotion_delay']}s before promotion"
        ):
            time.sleep(self.params["promotion_delay"])
        self._promote(slot, active)

    def _prepare(self, slot: str, replicas: int) -> None:
        """Readiness and pre-promotion analysis (taken as passed in check mode's plan)."""
        self.plan.append(f"wait until every pod of slot {slot} is Ready and run the analysis")
        readiness = self._wait_ready(slot, self.hash, replicas)
        if not readiness.ready:
            self._give_up(
                slot,
                f"did not become Ready within {self.params['ready_timeout']}s "
                f"({readiness.reason}; {readiness.unready_pods})",
            )
        analysis = self._analyse("pre")
        if not analysis["passed"]:
            self._give_up(slot, f"failed the pre-promotion analysis: {failed_checks(analysis)}")

    def _full_replicas(self, serving: str | None) -> int:
        """Replicas a slot needs before it takes the traffic: with an HPA, as many as the
        serving slot has been scaled to (within min/max), so the switch does not shed capacity."""
        scaling = self.spec.autoscaling
        if not scaling:
            return self.spec.replicas
        current = self._slot_replicas(serving) if serving else 0
        return min(max(scaling["min_replicas"], current), scaling["max_replicas"])

    def _ensure_hpa(self, slot: str) -> None:
        """The HPA follows the active slot; without autoscaling there is none."""
        current = self.client.hpa(self.spec.name)
        if not self.spec.autoscaling:
            if current and self._step(f"remove HorizontalPodAutoscaler {self.spec.name}"):
                self.client.delete(self.client.hpas, self.spec.name)
            return
        wanted = self.spec.hpa(slot)["spec"]
        have = (current or {}).get("spec") or {}
        if any(have.get(key) != value for key, value in wanted.items()) and self._step(
            f"point HorizontalPodAutoscaler {self.spec.name} at slot {slot}"
        ):
            self.client.apply(self.client.hpas, self.spec.hpa(slot))

    def _promote(self, slot: str, previous: str | None) -> None:
        ready_at = time.monotonic()
        full = self._full_replicas(previous)
        if self._slot_replicas(slot) < full:
            self._scale(slot, full)
            readiness = self._wait_ready(slot, self.hash, full)
            if not readiness.ready:
                self._give_up(slot, f"did not scale to {full} Ready pods ({readiness.reason})")
            ready_at = time.monotonic()
        self._switch(slot, previous, self.spec.version)
        self.timings["switch"] = round(time.monotonic() - ready_at, 3)
        self._ensure_hpa(slot)
        self.previous_slot = previous
        if previous is None:
            self.outcome["promoted"] = not self.check_mode
            return
        analysis = self._analyse("post")
        if not analysis["passed"]:
            self._rollback(slot, previous, failed_checks(analysis))
        self.outcome["promoted"] = not self.check_mode
        if self.params["keep_previous"]:
            self.plan.append(f"keep slot {previous} warm")
            return
        start = time.monotonic()
        if self._slot_replicas(previous) and self._step(
            f"wait {self.params['scale_down_delay']}s for endpoint propagation"
        ):
            time.sleep(self.params["scale_down_delay"])
        self._scale(previous, 0)
        self.timings["scale_down"] = round(time.monotonic() - start, 3)

    def _return_to(self, stable: str, new: str, why: str) -> None:
        """Traffic back to ``stable`` (scaled up and Ready first), then ``new`` to zero."""
        full = max(self._full_replicas(new), self._slot_replicas(stable))
        self._scale(stable, full)
        if not self.check_mode:
            readiness = self._wait_ready(stable, self._slot_hash(stable) or "", full, record=False)
            if not readiness.ready:
                raise BlueGreenError(
                    f"{self.spec.name}: {why}, but slot {stable} is not Ready to take the "
                    f"traffic back ({readiness.reason}); slot {new} keeps serving"
                )
        self._switch(stable, new, self._slot_version(stable) or "")
        self._ensure_hpa(stable)
        self._scale(new, 0)
        self.previous_slot = new

    def _rollback(self, slot: str, previous: str, why: str) -> None:
        reason = f"post-promotion analysis of slot {slot} failed ({why})"
        self._return_to(previous, slot, reason)
        self.outcome["rolled_back"] = True
        raise BlueGreenError(f"{self.spec.name}: {reason}; rolled back to slot {previous}")

    def ensure_promoted(self) -> None:
        active = self.active
        if active is None:
            raise BlueGreenError(
                f"{self.spec.name}: no active Service yet; release with state=present first"
            )
        if self._slot_hash(active) == self.hash:
            return
        slot = other_slot(active)
        if self._slot_hash(slot) != self.hash:
            raise BlueGreenError(
                f"{self.spec.name}: version {self.spec.version} is not deployed in slot {slot}; "
                "release it with state=present first"
            )
        replicas = self._slot_replicas(slot)
        if replicas == 0:
            raise BlueGreenError(f"{self.spec.name}: slot {slot} is scaled to zero (aborted?)")
        self._prepare(slot, replicas)
        self._promote(slot, active)

    def ensure_aborted(self) -> None:
        active = self.active
        new = next((s for s in SLOTS if self._slot_hash(s) == self.hash), None)
        if active is None or new is None:
            return
        stable = other_slot(new)
        if active != new:
            self._scale(new, 0)
        elif self.slots[stable] is None:
            raise BlueGreenError(f"{self.spec.name}: no stable slot {stable} to return to")
        else:
            self._return_to(stable, new, f"aborting {self.spec.version}")

    # -- result --------------------------------------------------------------------------------
    def result(self) -> dict[str, Any]:
        after = self._state() if not self.check_mode else self.before
        active = (self.service or {}).get("spec", {}).get("selector", {}).get(SLOT_LABEL)
        self.timings["total"] = round(time.monotonic() - self.started, 3)
        result: dict[str, Any] = {
            "changed": self.changed,
            "active_slot": active,
            "previous_slot": self.previous_slot
            or ((self.service or {}).get("metadata", {}).get("annotations") or {}).get(
                PREVIOUS_ANNOTATION
            )
            or None,
            "active_version": self._slot_version(active) if active in SLOTS else None,
            "selector": (self.service or {}).get("spec", {}).get("selector") or {},
            "slots": {s: slot_summary(d) for s, d in self.slots.items()},
            "analysis": self.analysis,
            "timings": self.timings,
            "plan": self.plan,
            **self.outcome,
        }
        result["previous_version"] = self._slot_version(result["previous_slot"])
        if self.module._diff:
            result["diff"] = {
                "before": self.before,
                "after": after if not self.check_mode else self._planned(),
            }
        return result

    def _planned(self) -> dict[str, Any]:
        """The state the plan leads to (check mode's diff)."""
        after = {"service_selector": dict(self.before["service_selector"]), "slots": {}}
        after["slots"] = {s: dict(v) for s, v in self.before["slots"].items()}
        active = self.before["service_selector"].get(SLOT_LABEL)
        slot = other_slot(active) if active else "blue"
        if any(step.startswith("deploy") for step in self.plan):
            after["slots"][slot] = {"image": self.spec.image_ref, "replicas": self.spec.replicas}
        if any(step.startswith(f"switch Service {self.spec.name} ") for step in self.plan):
            after["service_selector"] = self.spec.selector(slot)
        return after


def spec_from_params(params: dict[str, Any]) -> AppSpec:
    return AppSpec(
        name=params["name"],
        namespace=params["namespace"],
        image=params["image"],
        version=params["version"],
        replicas=params["replicas"],
        port=params["port"],
        health_path=params["health_path"],
        labels=params["labels"],
        pod_labels=params["pod_labels"],
        resources=params["resources"],
        node_selector=params["node_selector"],
        tolerations=params["tolerations"],
        env_from=params["env_from"],
        service_account=params["service_account"],
        autoscaling=params["autoscaling"],
    )


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        image=dict(type="str", required=True),
        version=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "promoted", "aborted"]),
        replicas=dict(type="int", default=1),
        port=dict(type="int", default=8080),
        health_path=dict(type="str", default="/health"),
        labels=dict(type="dict", default={}),
        pod_labels=dict(type="dict", default={}),
        resources=dict(type="dict", default={}),
        node_selector=dict(type="dict", default={}),
        tolerations=dict(type="list", elements="dict", default=[]),
        env_from=dict(type="list", elements="dict", default=[]),
        service_account=dict(type="str"),
        preview=dict(type="bool", default=False),
        preview_replicas=dict(type="int"),
        promotion=dict(type="str", default="auto", choices=["auto", "manual"]),
        promotion_delay=dict(type="int", default=0),
        min_ready_seconds=dict(type="int", default=10),
        ready_timeout=dict(type="int", default=600),
        pre_analysis=dict(type="dict", options=ANALYSIS_OPTIONS),
        post_analysis=dict(type="dict", options=ANALYSIS_OPTIONS),
        scale_down_delay=dict(type="int", default=30),
        keep_previous=dict(type="bool", default=False),
        autoscaling=dict(
            type="dict",
            options=dict(
                min_replicas=dict(type="int", required=True),
                max_replicas=dict(type="int", required=True),
                cpu_target=dict(type="int", default=70),
            ),
        ),
    )
    argument_spec.update(AUTH_ARG_SPEC)
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    # AnsibleK8SModule wraps the AnsibleModule that owns no_log_values.
    module._module.no_log_values.update(
        url_passwords(params["pre_analysis"], params["post_analysis"])
    )
    for key in (
        "replicas",
        "preview_replicas",
        "promotion_delay",
        "min_ready_seconds",
        "scale_down_delay",
    ):
        if (params[key] or 0) < 0:
            module.fail_json(msg=f"{key} must be >= 0")
    for phase in ("pre_analysis", "post_analysis"):
        for check in (params[phase] or {}).get("http_checks") or []:
            if not 0 <= check["success_ratio"] <= 1 or check["tries"] < 1:
                module.fail_json(
                    msg=f"{phase}.http_checks: tries must be >= 1, success_ratio within 0-1"
                )

    manager = None
    try:
        client = SlotClient(get_api_client(module), params["namespace"])
        manager = BlueGreenManager(module, client, spec_from_params(params))
        getattr(manager, f"ensure_{params['state']}")()
    except BlueGreenError as e:
        module.fail_json(msg=e.msg, **manager.result())
    except CoreException as e:
        module.fail_from_exception(e)
    except Exception as e:  # an API error mid-release: report it with what was done so far
        done: dict[str, Any] = {}
        with contextlib.suppress(Exception):  # the API may be what failed
            done = manager.result() if manager else {}
        module.fail_json(msg=f"{params['name']}: {e}", exception=traceback.format_exc(), **done)
    module.exit_json(**manager.result())


if __name__ == "__main__":
    main()
