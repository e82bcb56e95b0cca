# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Blue-green releases: rendering of the two slots, readiness, analysis and the switch.

Shared by the ``blue_green``, ``blue_green_info`` and ``blue_green_alb`` modules. Kubernetes is
reached only through the client kubernetes.core's ``get_api_client`` returns (``K8SClient``),
passed in by the module.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.urls import open_url

try:
    from kubernetes.dynamic.exceptions import NotFoundError
except ImportError:  # the module reports the missing library through AnsibleK8SModule
    NotFoundError = Exception

SLOTS = ("blue", "green")
NAME_LABEL = "app.kubernetes.io/name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
VERSION_LABEL = "app.kubernetes.io/version"
SLOT_LABEL = "plinth.dev/slot"
HASH_ANNOTATION = "plinth.dev/template-hash"
VERSION_ANNOTATION = "plinth.dev/active-version"
PREVIOUS_ANNOTATION = "plinth.dev/previous-slot"
FIELD_MANAGER = "plinth-blue-green"
MERGE_PATCH = "application/merge-patch+json"

# The argument spec of an analysis (pre_analysis/post_analysis of blue_green, analysis of
# blue_green_alb).
ANALYSIS_OPTIONS: dict[str, Any] = dict(
    http_checks=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            url=dict(type="str", required=True),
            expected_status=dict(type="int", default=200),
            tries=dict(type="int", default=5),
            success_ratio=dict(type="float", default=1.0),
            interval=dict(type="float", default=1.0),
            timeout=dict(type="int", default=5),
            validate_certs=dict(type="bool", default=True),
        ),
    ),
    prometheus=dict(
        type="dict",
        options=dict(
            url=dict(type="str", required=True),
            query=dict(type="str", required=True),
            min_value=dict(type="float"),
            max_value=dict(type="float"),
            timeout=dict(type="int", default=10),
        ),
    ),
)


def url_passwords(*analyses: dict[str, Any] | None) -> set[str]:
    """Passwords embedded in analysis URLs (``user:password@host``), for ``no_log_values``.

    Only the password is hidden, so results still name which check ran against which host.
    """
    urls: list[str] = []
    for analysis in analyses:
        analysis = analysis or {}
        urls += [check["url"] for check in analysis.get("http_checks") or []]
        if analysis.get("prometheus"):
            urls.append(analysis["prometheus"]["url"])
    return {password for password in (urlsplit(url).password for url in urls) if password}


class BlueGreenError(Exception):
    """A release step failed; ``result`` carries what happened so far."""

    def __init__(self, msg: str, **result: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result


def other_slot(slot: str) -> str:
    return "green" if slot == "blue" else "blue"


def image_ref(image: str, version: str) -> str:
    """``image`` with its tag or digest replaced by ``version``."""
    repository = image.split("@", 1)[0]
    name_start = repository.rfind("/") + 1
    if ":" in repository[name_start:]:
        repository = repository[: repository.rindex(":")]
    return f"{repository}:{version}"


@dataclass
class AppSpec:
    """What the slot Deployments and the Services are rendered from (the module's options)."""

    name: str
    namespace: str
    image: str
    version: str
    replicas: int
    port: int
    health_path: str = "/health"
    labels: dict[str, str] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    env_from: list[dict[str, Any]] = field(default_factory=list)
    service_account: str | None = None
    autoscaling: dict[str, Any] | None = None

    @property
    def image_ref(self) -> str:
        return image_ref(self.image, self.version)

    def common_labels(self) -> dict[str, str]:
        return {**self.labels, NAME_LABEL: self.name, MANAGED_BY_LABEL: "plinth"}

    def deployment_name(self, slot: str) -> str:
        return f"{self.name}-{slot}"

    def selector(self, slot: str) -> dict[str, str]:
        return {NAME_LABEL: self.name, SLOT_LABEL: slot}

    def pod_template(self, slot: str) -> dict[str, Any]:
        probe = {"httpGet": {"path": self.health_path, "port": "http"}, "periodSeconds": 5}
        container: dict[str, Any] = {
            "name": "app",
            "image": self.image_ref,
            "ports": [{"name": "http", "containerPort": self.port, "protocol": "TCP"}],
            "readinessProbe": probe,
            "livenessProbe": {**probe, "initialDelaySeconds": 10, "periodSeconds": 10},
            "securityContext": {
                "runAsNonRoot": True,
                "readOnlyRootFilesystem": True,
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
            },
        }
        if self.resources:
            container["resources"] = self.resources
        if self.env_from:
            container["envFrom"] = self.env_from
        spec: dict[str, Any] = {
            "containers": [container],
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        }
        if self.node_selector:
            spec["nodeSelector"] = self.node_selector
        if self.tolerations:
            spec["tolerations"] = self.tolerations
        if self.service_account:
            spec["serviceAccountName"] = self.service_account
        labels = {
            **self.common_labels(),
            **self.pod_labels,
            **self.selector(slot),
            VERSION_LABEL: self.version,
        }
        return {"metadata": {"labels": labels}, "spec": spec}

    def template_hash(self) -> str:
        """Identifies a release independently of the slot it runs in."""
        template = self.pod_template("slot")
        return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:16]

    def deployment(self, slot: str, replicas: int) -> dict[str, Any]:
        template = self.pod_template(slot)
        template["metadata"]["annotations"] = {HASH_ANNOTATION: self.template_hash()}
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": self.deployment_name(slot),
                "namespace": self.namespace,
                "labels": {**self.common_labels(), SLOT_LABEL: slot, VERSION_LABEL: self.version},
                "annotations": {HASH_ANNOTATION: self.template_hash()},
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": self.selector(slot)},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
                },
                "template": template,
            },
        }

    def hpa(self, slot: str) -> dict[str, Any]:
        """The HorizontalPodAutoscaler ``<name>``, scaling the active slot only."""
        scaling = self.autoscaling or {}
        return {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": self.common_labels(),
            },
            "spec": {
                "scaleTargetRef": {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": self.deployment_name(slot),
                },
                "minReplicas": scaling["min_replicas"],
                "maxReplicas": scaling["max_replicas"],
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {
                                "type": "Utilization",
                                "averageUtilization": scaling["cpu_target"],
                            },
                        },
                    }
                ],
            },
        }

    def service(self, name: str, slot: str, annotations: dict[str, str]) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": name,
                "namespace": self.namespace,
                "labels": self.common_labels(),
                "annotations": annotations,
            },
            "spec": {
                "type": "ClusterIP",
                "selector": self.selector(slot),
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        }


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def ready_since(pod: dict[str, Any]) -> datetime | None:
    """The latest moment the pod can have become Ready, or None when it is not Ready.

    Condition timestamps have one-second resolution (truncated), so the transition happened
    within the second after the stamp: counting from its end never overstates readiness."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            if condition.get("status") != "True":
                return None
            stamp = condition.get("lastTransitionTime")
            if not stamp:
                return datetime.now(UTC)
            return _parse_time(stamp) + timedelta(seconds=1)
    return None


def unready_reason(pod: dict[str, Any]) -> str:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("message") or condition.get("reason") or "not Ready"
    return (pod.get("status") or {}).get("phase") or "not scheduled"


@dataclass
class Readiness:
    """The readiness of one slot's pods for one release (template hash)."""

    ready: bool
    wanted: int
    ready_pods: int
    pods: int
    reason: str
    unready_pods: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "wanted_replicas": self.wanted,
            "ready_replicas": self.ready_pods,
            "pods": self.pods,
            "reason": self.reason,
            "unready_pods": self.unready_pods,
        }


def slot_readiness(
    pods: list[dict[str, Any]],
    template_hash: str,
    replicas: int,
    min_ready_seconds: float,
    now: datetime | None = None,
) -> Readiness:
    """Every live pod of the slot runs ``template_hash``, there are ``replicas`` of them and each
    has been Ready for at least ``min_ready_seconds``."""
    now = now or datetime.now(UTC)
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    stale = [
        p["metadata"]["name"]
        for p in live
        if (p["metadata"].get("annotations") or {}).get(HASH_ANNOTATION) != template_hash
    ]
    unready: dict[str, str] = {}
    ready = 0
    for pod in live:
        since = ready_since(pod)
        if since is None:
            unready[pod["metadata"]["name"]] = unready_reason(pod)
        elif (now - since).total_seconds() < min_ready_seconds:
            unready[pod["metadata"]["name"]] = f"Ready for less than {min_ready_seconds}s"
        else:
            ready += 1
    if stale:
        reason = f"{len(stale)} pod(s) of an earlier release still running"
    elif len(live) != replicas:
        reason = f"{len(live)} of {replicas} pods exist"
    elif unready:
        reason = f"{ready} of {replicas} pods Ready for {min_ready_seconds}s"
    else:
        reason = f"all {replicas} pods Ready for at least {min_ready_seconds}s"
    ok = not stale and len(live) == replicas and not unready
    return Readiness(ok, replicas, ready, len(live), reason, unready)


def http_check(
    check: dict[str, Any], sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """GET ``url`` ``tries`` times; passes when the share answering ``expected_status`` reaches
    ``success_ratio``. Stops early once the ratio can no longer be reached."""
    tries = check.get("tries") or 1
    ratio = check.get("success_ratio", 1.0)
    expected = check.get("expected_status") or 200
    allowed_failures = tries - int(-(-ratio * tries // 1))  # ceil(ratio * tries) must succeed
    statuses: list[Any] = []
    failures = 0
    for attempt in range(tries):
        try:
            response = open_url(
                check["url"],
                method="GET",
                timeout=check.get("timeout") or 5,
                validate_certs=check.get("validate_certs", True),
                follow_redirects="none",
            )
            status: Any = response.getcode()
        except HTTPError as e:
            status = e.code
        except Exception as e:  # connection refused, timeout, DNS: a failed try, not a crash
            status = f"error: {e}"
        statuses.append(status)
        failures += status != expected
        if failures > allowed_failures:
            break
        if attempt < tries - 1 and check.get("interval"):
            sleep(check["interval"])
    successes = len(statuses) - failures
    return {
        "type": "http",
        "url": check["url"],
        "expected_status": expected,
        "tries": len(statuses),
        "successes": successes,
        "success_ratio": round(successes / tries, 4),
        "required_ratio": ratio,
        "statuses": statuses,
        "passed": failures <= allowed_failures and len(statuses) == tries,
    }


def prometheus_check(check: dict[str, Any]) -> dict[str, Any]:
    """Evaluates an instant query; passes when its (first) value is within min/max."""
    url = check["url"].rstrip("/") + "/api/v1/query?" + urlencode({"query": check["query"]})
    result: dict[str, Any] = {
        "type": "prometheus",
        "query": check["query"],
        "min_value": check.get("min_value"),
        "max_value": check.get("max_value"),
        "value": None,
        "passed": False,
    }
    try:
        body = json.loads(open_url(url, timeout=check.get("timeout") or 10).read())
    except Exception as e:
        result["error"] = f"query failed: {e}"
        return result
    data = body.get("data") or {}
    values = data.get("result")
    if data.get("resultType") == "scalar":
        values = [{"value": values}]
    if not values:
        result["error"] = "the query returned no data"
        return result
    value = float(values[0]["value"][1])
    result["value"] = value
    low, high = check.get("min_value"), check.get("max_value")
    result["passed"] = (low is None or value >= low) and (high is None or value <= high)
    return result


def run_analysis(
    analysis: dict[str, Any] | None, sleep: Callable[[float], None] = time.sleep
) -> dict[str, Any]:
    """Every HTTP check and the Prometheus query (when set); all must pass."""
    analysis = analysis or {}
    checks = [http_check(c, sleep) for c in analysis.get("http_checks") or []]
    if analysis.get("prometheus"):
        checks.append(prometheus_check(analysis["prometheus"]))
    return {"passed": all(c["passed"] for c in checks), "checks": checks}


def failed_checks(analysis: dict[str, Any]) -> str:
    parts = []
    for check in analysis["checks"]:
        if check["passed"]:
            continue
        if check["type"] == "http":
            parts.append(
                f"GET {check['url']}: {check['successes']}/{check['tries']} answered "
                f"{check['expected_status']} (need ratio {check['required_ratio']}), "
                f"statuses {check['statuses']}"
            )
        else:
            parts.append(
                f"prometheus {check['query']!r}: "
                f"{check.get('error') or 'value ' + str(check['value']) + ' out of bounds'}"
            )
    return "; ".join(parts)


class SlotClient:
    """Reads and writes the slots of one app through kubernetes.core's ``K8SClient``."""

    def __init__(self, k8s: Any, namespace: str) -> None:
        self.k8s = k8s
        self.namespace = namespace
        self.deployments = k8s.resource("Deployment", "apps/v1")
        self.services = k8s.resource("Service", "v1")
        self.pods = k8s.resource("Pod", "v1")
        self.hpas = k8s.resource("HorizontalPodAutoscaler", "autoscaling/v2")

    def _read(self, resource: Any, name: str) -> dict[str, Any] | None:
        try:
            return self.k8s.get(resource, name=name, namespace=self.namespace).to_dict()
        except NotFoundError:
            return None

    def deployment(self, name: str) -> dict[str, Any] | None:
        return self._read(self.deployments, name)

    def service(self, name: str) -> dict[str, Any] | None:
        return self._read(self.services, name)

    def hpa(self, name: str) -> dict[str, Any] | None:
        return self._read(self.hpas, name)

    def delete(self, resource: Any, name: str) -> None:
        resource.delete(name=name, namespace=self.namespace)

    def slot_pods(self, app: str, slot: str) -> list[dict[str, Any]]:
        selector = f"{NAME_LABEL}={app},{SLOT_LABEL}={slot}"
        found = self.k8s.get(self.pods, namespace=self.namespace, label_selector=selector)
        return found.to_dict()["items"]

    def apply(self, resource: Any, body: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply as the blue-green field manager (ours to own: force)."""
        return resource.server_side_apply(
            body=body,
            name=body["metadata"]["name"],
            namespace=self.namespace,
            field_manager=FIELD_MANAGER,
            force_conflicts=True,
        ).to_dict()

    def patch(self, resource: Any, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return resource.patch(
            body=body,
            name=name,
            namespace=self.namespace,
            content_type=MERGE_PATCH,
            field_manager=FIELD_MANAGER,
        ).to_dict()

    def scale(self, name: str, replicas: int) -> None:
        self.patch(self.deployments, name, {"spec": {"replicas": replicas}})

    def switch(self, service: dict[str, Any], selector: dict[str, str], annotations: dict) -> None:
        """One merge patch of the selector; the resourceVersion makes a concurrent change of the
        Service fail (409) instead of being overwritten."""
        body = {
            "metadata": {
                "resourceVersion": service["metadata"]["resourceVersion"],
                "annotations": annotations,
            },
            "spec": {"selector": selector},
        }
        self.patch(self.services, service["metadata"]["name"], body)


def slot_summary(deployment: dict[str, Any] | None) -> dict[str, Any]:
    """What ``blue_green_info`` and the results report about one slot."""
    if deployment is None:
        return {"exists": False}
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    container = spec["template"]["spec"]["containers"][0]
    return {
        "exists": True,
        "deployment": meta["name"],
        "version": (meta.get("labels") or {}).get(VERSION_LABEL),
        "image": container.get("image"),
        "template_hash": (meta.get("annotations") or {}).get(HASH_ANNOTATION),
        "replicas": spec.get("replicas", 0),
        "ready_replicas": status.get("readyReplicas", 0),
        "updated_replicas": status.get("updatedReplicas", 0),
        "ready": status.get("readyReplicas", 0) == spec.get("replicas", 0)
        and status.get("observedGeneration", 0) >= meta.get("generation", 0),
    }


def forward_weights(actions: list[dict[str, Any]]) -> dict[str, int]:
    """Target group ARN -> weight of the forward action (a plain TargetGroupArn is weight 1)."""
    for action in actions:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
        if groups:
            return {g["TargetGroupArn"]: g.get("Weight", 1) for g in groups}
        if action.get("TargetGroupArn"):
            return {action["TargetGroupArn"]: 1}
    return {}


def share(weights: dict[str, int], arn: str) -> int:
    """Percentage of the traffic ``arn`` receives under ``weights``."""
    total = sum(weights.values())
    return round(100 * weights.get(arn, 0) / total) if total else 0


def weighted_actions(
    actions: list[dict[str, Any]], weights: dict[str, int]
) -> list[dict[str, Any]]:
    """``actions`` with the forward action replaced by a weighted ForwardConfig; other actions
    (authenticate-*, fixed-response before it) are kept as they are."""
    result = []
    for action in actions:
        if action.get("Type") != "forward":
            result.append(action)
            continue
        config = action.get("ForwardConfig") or {}
        forward: dict[str, Any] = {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [{"TargetGroupArn": a, "Weight": w} for a, w in weights.items()],
                "TargetGroupStickinessConfig": config.get("TargetGroupStickinessConfig")
                or {"Enabled": False},
            },
        }
        if action.get("Order") is not None:
            forward["Order"] = action["Order"]
        result.append(forward)
    return result


def weight_steps(current_share: int, steps: list[int]) -> list[int]:
    """The steps still ahead of ``current_share``, always ending at 100."""
    ahead = sorted({s for s in steps if current_share < s < 100})
    return ahead + [100]
