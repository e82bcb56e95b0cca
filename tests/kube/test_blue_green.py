"""plinth.platform.blue_green against the local cluster: releases, the unready slot, failed
analysis, manual promotion, abort, automatic rollback, idempotency and check mode.

Every switch runs under `SwitchWatch`, which watches the active Service and its EndpointSlices
and records any moment the Service selects a pod that is not Ready.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.plinth.platform.plugins.modules import blue_green, blue_green_info
from kubehelpers import exists, wait_for
from kubernetes import client, watch

from tests.support.http_server import status_server
from tests.support.playbook import run_playbook

ROOT = Path(__file__).resolve().parents[2]
APP = "shop"
IMAGE = "registry.example.com/shop:0.0.1"


def run(
    module: Any,
    kubeconfig: Path,
    namespace: str,
    check_mode: bool = False,
    diff: bool = False,
    **args: Any,
) -> dict[str, Any]:
    """Runs the module's main() in-process, as the controller would, and returns its result."""
    module_args = {
        "kubeconfig": str(kubeconfig),
        "name": APP,
        "namespace": namespace,
        **args,
        "_ansible_check_mode": check_mode,
        "_ansible_diff": diff,
    }
    out = io.StringIO()
    with patch_module_args(module_args), contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        module.main()
    return json.loads(out.getvalue())


def release(kubeconfig: Path, namespace: str, version: str, **args: Any) -> dict[str, Any]:
    defaults = {
        "image": IMAGE,
        "version": version,
        "replicas": 3,
        "port": 8080,
        "min_ready_seconds": 1,
        "ready_timeout": 60,
        "scale_down_delay": 1,
        "labels": {"plinth.dev/environment": "test"},
    }
    return run(blue_green, kubeconfig, namespace, **{**defaults, **args})


def pod_ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


class SwitchWatch:
    """Watches the active Service and its EndpointSlices; `violations` lists every observation of
    the Service selecting a pod that is not Ready.

    Each watch starts from the resourceVersion of a list taken on entry, so no change made after
    `__enter__` returns can be missed."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.core = client.CoreV1Api(api)
        self.discovery = client.DiscoveryV1Api(api)
        self.namespace = namespace
        self.violations: list[str] = []
        self.selectors: list[dict[str, str]] = []
        self.stopped = threading.Event()
        self.watches: list[watch.Watch] = []
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> SwitchWatch:
        services = self.core.list_namespaced_service(
            self.namespace, field_selector=f"metadata.name={APP}"
        )
        for service in services.items:
            self._service(service)
        slices = self.discovery.list_namespaced_endpoint_slice(
            self.namespace, label_selector=f"kubernetes.io/service-name={APP}"
        )
        for endpoint_slice in slices.items:
            self._slice(endpoint_slice)
        self._start(
            self.core.list_namespaced_service,
            self._service,
            field_selector=f"metadata.name={APP}",
            resource_version=services.metadata.resource_version,
        )
        self._start(
            self.discovery.list_namespaced_endpoint_slice,
            self._slice,
            label_selector=f"kubernetes.io/service-name={APP}",
            resource_version=slices.metadata.resource_version,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        for w in self.watches:
            w.stop()
        for thread in self.threads:
            thread.join(timeout=10)

    def _start(self, list_call: Any, handle: Any, **kwargs: Any) -> None:
        w = watch.Watch()

        def loop() -> None:
            try:
                for event in w.stream(list_call, self.namespace, timeout_seconds=300, **kwargs):
                    handle(event["object"])
            except Exception as e:  # a broken watch proves nothing: say so, unless stopping
                if not self.stopped.is_set():
                    self.violations.append(f"watch failed: {e!r}")

        thread = threading.Thread(target=loop, daemon=True)
        self.watches.append(w)
        self.threads.append(thread)
        thread.start()

    def _service(self, service: client.V1Service) -> None:
        selector = service.spec.selector or {}
        if self.selectors and self.selectors[-1] == selector:
            return
        self.selectors.append(selector)
        label_selector = ",".join(f"{k}={v}" for k, v in selector.items())
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=label_selector)
        for pod in pods.items:
            if not pod.metadata.deletion_timestamp and not pod_ready(pod):
                self.violations.append(
                    f"selector {selector} selects unready pod {pod.metadata.name}"
                )

    def _slice(self, endpoint_slice: Any) -> None:
        for endpoint in endpoint_slice.endpoints or []:
            conditions = endpoint.conditions
            if conditions.terminating:
                continue
            if not conditions.ready:
                ref = endpoint.target_ref.name if endpoint.target_ref else endpoint.addresses
                self.violations.append(f"EndpointSlice lists unready endpoint {ref}")


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    """A test HTTP server on 127.0.0.1: /ok answers 200, anything else 500."""
    with status_server() as url:
        yield url


def replicas(apps: client.AppsV1Api, namespace: str, slot: str) -> int:
    return apps.read_namespaced_deployment(f"{APP}-{slot}", namespace).spec.replicas


def selector_slot(core: client.CoreV1Api, namespace: str) -> str:
    return core.read_namespaced_service(APP, namespace).spec.selector["plinth.dev/slot"]


def test_happy_path_rerun_and_check_mode(
    kubeconfig: Path,
    api: client.ApiClient,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    namespace: str,
    http_server: str,
) -> None:
    # Check mode on an empty namespace: nothing is created, the plan says what would be.
    planned = release(kubeconfig, namespace, "1.0.0", check_mode=True, diff=True)
    assert planned["changed"] is True, planned
    assert any("deploy registry.example.com/shop:1.0.0 to shop-blue" in s for s in planned["plan"])
    assert any("switch Service shop selector to slot blue" in s for s in planned["plan"])
    assert not core.list_namespaced_service(namespace).items
    assert not apps.list_namespaced_deployment(namespace).items

    with SwitchWatch(api, namespace) as watcher:
        first = release(kubeconfig, namespace, "1.0.0")
        assert not first.get("failed"), first["msg"] if first.get("failed") else ""
        assert first["active_slot"] == "blue" and first["active_version"] == "1.0.0"

        checks = {"http_checks": [{"url": f"{http_server}/ok", "tries": 3, "interval": 0.1}]}
        second = release(
            kubeconfig, namespace, "1.1.0", pre_analysis=checks, post_analysis=checks, diff=True
        )
    assert not second.get("failed"), second.get("msg")
    assert watcher.violations == []
    assert [s.get("plinth.dev/slot") for s in watcher.selectors] == ["blue", "green"]
    assert second["changed"] and second["promoted"]
    assert second["active_slot"] == "green" and second["previous_slot"] == "blue"
    assert second["active_version"] == "1.1.0" and second["previous_version"] == "1.0.0"
    assert second["analysis"]["readiness"]["ready"] is True
    assert second["analysis"]["pre"]["passed"] and second["analysis"]["pre"]["checks"][0][
        "statuses"
    ] == [200, 200, 200]
    assert second["analysis"]["post"]["passed"]
    assert set(second["timings"]) >= {"slot_ready", "analysis", "switch", "scale_down", "total"}
    assert second["diff"]["before"]["service_selector"]["plinth.dev/slot"] == "blue"
    assert second["diff"]["after"]["service_selector"]["plinth.dev/slot"] == "green"
    assert second["diff"]["after"]["slots"]["green"]["image"] == "registry.example.com/shop:1.1.0"
    assert selector_slot(core, namespace) == "green"
    assert replicas(apps, namespace, "blue") == 0 and replicas(apps, namespace, "green") == 3
    pod = core.list_namespaced_pod(namespace, label_selector="plinth.dev/slot=green").items[0]
    assert pod.metadata.labels["app.kubernetes.io/version"] == "1.1.0"
    assert pod.spec.containers[0].security_context.read_only_root_filesystem is True
    assert pod.spec.containers[0].security_context.capabilities.drop == ["ALL"]

    # The same version again: nothing changes.
    rerun = release(kubeconfig, namespace, "1.1.0")
    assert rerun["changed"] is False, rerun["plan"]
    assert rerun["active_slot"] == "green"

    # Check mode of a new version: the full plan, no change in the cluster.
    before = core.read_namespaced_service(APP, namespace).metadata.resource_version
    planned = release(kubeconfig, namespace, "1.2.0", check_mode=True, diff=True)
    assert planned["changed"] is True
    assert planned["plan"][0] == "deploy registry.example.com/shop:1.2.0 to shop-blue (3 replicas)"
    assert "switch Service shop selector to slot blue" in planned["plan"]
    assert planned["plan"] == [
        "deploy registry.example.com/shop:1.2.0 to shop-blue (3 replicas)",
        "wait until every pod of slot blue is Ready and run the analysis",
        "switch Service shop selector to slot blue",
        "wait 1s for endpoint propagation",
        "scale shop-green to 0",
    ]
    assert planned["promoted"] is False
    assert planned["diff"]["after"]["service_selector"]["plinth.dev/slot"] == "blue"
    assert core.read_namespaced_service(APP, namespace).metadata.resource_version == before
    blue = apps.read_namespaced_deployment(f"{APP}-blue", namespace)
    assert (
        blue.spec.template.spec.containers[0].image.endswith(":1.0.0") and blue.spec.replicas == 0
    )

    info = run(blue_green_info, kubeconfig, namespace)
    assert info["active_slot"] == "green" and info["selector"]["plinth.dev/slot"] == "green"
    assert info["slots"]["green"]["version"] == "1.1.0" and info["slots"]["green"]["ready"]


def test_unready_slot_is_never_selected(
    kubeconfig: Path,
    api: client.ApiClient,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    namespace: str,
) -> None:
    assert not release(kubeconfig, namespace, "1.0.0", replicas=2).get("failed")
    with SwitchWatch(api, namespace) as watcher:
        result = release(
            kubeconfig,
            namespace,
            "2.0.0",
            replicas=2,
            ready_timeout=6,
            pod_labels={"plinth.dev/simulate": "unready"},
        )
    assert result["failed"]
    assert "release 2.0.0 in slot green did not become Ready within 6s" in result["msg"]
    assert "slot blue keeps serving" in result["msg"]
    assert result["analysis"]["readiness"]["ready"] is False
    assert result["analysis"]["readiness"]["unready_pods"]
    assert watcher.violations == [] and watcher.selectors[-1]["plinth.dev/slot"] == "blue"
    assert selector_slot(core, namespace) == "blue"
    assert replicas(apps, namespace, "green") == 0 and replicas(apps, namespace, "blue") == 2


def test_failed_http_check_keeps_blue(
    kubeconfig: Path,
    api: client.ApiClient,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    namespace: str,
    http_server: str,
) -> None:
    assert not release(kubeconfig, namespace, "1.0.0", replicas=1).get("failed")
    checks = {
        "http_checks": [
            {"url": f"{http_server}/broken", "tries": 4, "success_ratio": 0.5, "interval": 0.1}
        ]
    }
    with SwitchWatch(api, namespace) as watcher:
        result = release(kubeconfig, namespace, "2.0.0", replicas=1, pre_analysis=checks)
    assert result["failed"]
    assert "failed the pre-promotion analysis" in result["msg"] and "/broken" in result["msg"]
    check = result["analysis"]["pre"]["checks"][0]
    assert check["passed"] is False and check["statuses"] == [500, 500, 500]  # stops once lost
    assert watcher.violations == []
    assert selector_slot(core, namespace) == "blue" and replicas(apps, namespace, "green") == 0


def test_manual_promotion_with_preview(
    kubeconfig: Path,
    api: client.ApiClient,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    namespace: str,
) -> None:
    assert not release(kubeconfig, namespace, "1.0.0", preview=True).get("failed")
    staged = release(
        kubeconfig, namespace, "2.0.0", preview=True, preview_replicas=1, promotion="manual"
    )
    assert not staged.get("failed"), staged.get("msg")
    assert staged["awaiting_promotion"] is True and staged["promoted"] is False
    assert selector_slot(core, namespace) == "blue"
    preview = core.read_namespaced_service(f"{APP}-preview", namespace)
    assert preview.spec.selector["plinth.dev/slot"] == "green"
    assert replicas(apps, namespace, "green") == 1

    again = release(
        kubeconfig, namespace, "2.0.0", preview=True, preview_replicas=1, promotion="manual"
    )
    assert again["changed"] is False and again["awaiting_promotion"] is True

    planned = release(
        kubeconfig,
        namespace,
        "2.0.0",
        preview=True,
        preview_replicas=1,
        state="promoted",
        check_mode=True,
    )
    assert planned["changed"] and planned["plan"][1:3] == [
        "scale shop-green to 3",
        "switch Service shop selector to slot green",
    ]
    assert replicas(apps, namespace, "green") == 1 and selector_slot(core, namespace) == "blue"

    with SwitchWatch(api, namespace) as watcher:
        promoted = release(
            kubeconfig, namespace, "2.0.0", preview=True, preview_replicas=1, state="promoted"
        )
    assert not promoted.get("failed"), promoted.get("msg")
    assert promoted["promoted"] and promoted["active_slot"] == "green"
    assert watcher.violations == []
    assert replicas(apps, namespace, "green") == 3 and replicas(apps, namespace, "blue") == 0

    done = release(
        kubeconfig, namespace, "2.0.0", preview=True, preview_replicas=1, state="promoted"
    )
    assert done["changed"] is False


def test_abort_before_and_after_the_switch(
    kubeconfig: Path,
    api: client.ApiClient,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    namespace: str,
) -> None:
    assert not release(kubeconfig, namespace, "1.0.0", replicas=2).get("failed")
    assert release(kubeconfig, namespace, "2.0.0", replicas=2, promotion="manual")[
        "awaiting_promotion"
    ]
    aborted = release(kubeconfig, namespace, "2.0.0", replicas=2, state="aborted")
    assert aborted["changed"] and aborted["active_slot"] == "blue"
    assert replicas(apps, namespace, "green") == 0

    # Promoted with the previous slot kept warm, then aborted: traffic returns to blue.
    promoted = release(kubeconfig, namespace, "2.0.0", replicas=2, keep_previous=True)
    assert promoted["active_slot"] == "green" and replicas(apps, namespace, "blue") == 2
    with SwitchWatch(api, namespace) as watcher:
        back = release(kubeconfig, namespace, "2.0.0", replicas=2, state="aborted")
    assert not back.get("failed"), back.get("msg")
    assert back["active_slot"] == "blue" and back["active_version"] == "1.0.0"
    assert watcher.violations == [] and selector_slot(core, namespace) == "blue"
    assert replicas(apps, namespace, "green") == 0
    assert release(kubeconfig, namespace, "2.0.0", replicas=2, state="aborted")["changed"] is False


def test_failed_post_promotion_analysis_rolls_back(
    kubeconfig: Path,
    api: client.ApiClient,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    namespace: str,
    http_server: str,
) -> None:
    assert not release(kubeconfig, namespace, "1.0.0", replicas=2).get("failed")
    post = {"http_checks": [{"url": f"{http_server}/errors", "tries": 2, "interval": 0.1}]}
    with SwitchWatch(api, namespace) as watcher:
        result = release(kubeconfig, namespace, "2.0.0", replicas=2, post_analysis=post)
    assert result["failed"] and result["rolled_back"] is True
    assert "rolled back to slot blue" in result["msg"]
    assert result["analysis"]["post"]["passed"] is False
    assert watcher.violations == []
    assert [s["plinth.dev/slot"] for s in watcher.selectors] == ["blue", "green", "blue"]
    assert selector_slot(core, namespace) == "blue"
    assert replicas(apps, namespace, "green") == 0 and replicas(apps, namespace, "blue") == 2


def test_the_watch_catches_an_unready_selection(
    api: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    """The negative control: a Service pointed by hand at an unready pod is reported."""
    labels = {"app.kubernetes.io/name": APP, "plinth.dev/slot": "green"}
    core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": APP},
            "spec": {"selector": {**labels, "plinth.dev/slot": "blue"}, "ports": [{"port": 80}]},
        },
    )
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "stuck", "labels": {**labels, "plinth.dev/simulate": "unready"}},
            "spec": {"containers": [{"name": "app", "image": IMAGE}]},
        },
    )
    wait_for(
        lambda: core.read_namespaced_pod("stuck", namespace).status.pod_ip,
        timeout=30,
        what="the unready pod to run",
    )
    with SwitchWatch(api, namespace) as watcher:
        core.patch_namespaced_service(APP, namespace, {"spec": {"selector": labels}})
        wait_for(lambda: len(watcher.violations) >= 2, timeout=30, what="both watches to see it")
    assert any("selects unready pod stuck" in v for v in watcher.violations)
    assert any("EndpointSlice lists unready endpoint stuck" in v for v in watcher.violations)


def local_platform(namespace: str) -> dict[str, Any]:
    """The local inventory's platform with one blue-green app on the tainted ml node group."""
    data = yaml.safe_load((ROOT / "inventories/local/group_vars/all/platform.yml").read_text())
    platform = data["platform"]
    platform["apps"] = [
        {
            "name": APP,
            "namespace": namespace,
            "image": "registry.example.com/shop:1.0.0",
            "replicas": 2,
            "node_group": "ml",
            "port": 8000,
            "health_path": "/healthz",
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
            "env": {"LOG_LEVEL": "info"},
            "blue_green": {"enabled": True, "preview": True},
        }
    ]
    return platform


def test_playbook_releases_by_app_name_and_version(
    kubeconfig: Path, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str, tmp_path: Path
) -> None:
    platform = local_platform(namespace)
    fast = {
        "plinth_eks_kubeconfig": str(kubeconfig),
        "blue_green_min_ready_seconds": 1,
        "blue_green_scale_down_delay": 1,
        "blue_green_ready_timeout": 60,
    }
    unknown = run_playbook(
        "blue_green.yml", platform=platform, extra_vars={**fast, "app": "nope"}, tmp_path=tmp_path
    )
    assert unknown.rc != 0
    assert any("unknown app nope: platform.apps has shop" in m for m in unknown.failure_messages())
    assert not core.list_namespaced_service(namespace).items

    # No version: the tag of the configured image (what a site run releases).
    first = run_playbook(
        "blue_green.yml", platform=platform, extra_vars={**fast, "app": APP}, tmp_path=tmp_path
    )
    assert first.rc == 0, first.failure_messages()
    assert first.changed_tasks() == ["plinth.platform.blue_green : Release the version of shop"]
    blue = apps.read_namespaced_deployment(f"{APP}-blue", namespace)
    pod_spec = blue.spec.template.spec
    assert pod_spec.containers[0].image == "registry.example.com/shop:1.0.0"
    assert pod_spec.node_selector == {"eks.amazonaws.com/nodegroup": "ml"}
    assert [(t.key, t.value, t.effect) for t in pod_spec.tolerations] == [
        ("workload", "ml", "NoSchedule")
    ]
    assert pod_spec.containers[0].env_from[0].config_map_ref.name == f"{APP}-config"
    assert blue.metadata.labels["plinth.dev/environment"] == "development"
    pods = core.list_namespaced_pod(namespace, label_selector="plinth.dev/slot=blue").items
    assert {p.spec.node_name for p in pods} <= {
        n.metadata.name
        for n in core.list_node(label_selector="eks.amazonaws.com/nodegroup=ml").items
    }

    second = run_playbook(
        "blue_green.yml",
        platform=platform,
        extra_vars={**fast, "app": APP, "version": "1.0.0"},
        tmp_path=tmp_path,
    )
    assert second.rc == 0 and second.changed == 0, second.changed_tasks()

    planned = run_playbook(
        "blue_green.yml",
        platform=platform,
        extra_vars={**fast, "app": APP, "version": "1.1.0"},
        check=True,
        diff=True,
        tmp_path=tmp_path,
    )
    assert planned.rc == 0 and planned.changed == 1
    plan = planned.result("Release the version of shop")["plan"]
    # The app's blue_green.preview_replicas (schema default 1) first, full size before the switch.
    assert plan[0] == "deploy registry.example.com/shop:1.1.0 to shop-green (1 replicas)"
    assert "scale shop-green to 2" in plan, plan
    assert selector_slot(core, namespace) == "blue"
    assert not exists(lambda: apps.read_namespaced_deployment(f"{APP}-green", namespace))

    released = run_playbook(
        "blue_green.yml",
        platform=platform,
        extra_vars={**fast, "app": APP, "version": "1.1.0"},
        tmp_path=tmp_path,
    )
    assert released.rc == 0, released.failure_messages()
    output = released.result("Publish the release")["ansible_facts"]["blue_green__output"]
    assert output["active_slot"] == "green" and output["previous_version"] == "1.0.0"
    assert (
        core.read_namespaced_service(f"{APP}-preview", namespace).spec.selector["plinth.dev/slot"]
        == "green"
    )

    # The AWX survey's `state`: abort 1.1.0 after its promotion - blue (scaled down) comes back.
    aborted = run_playbook(
        "blue_green.yml",
        platform=platform,
        extra_vars={**fast, "app": APP, "version": "1.1.0", "state": "aborted"},
        tmp_path=tmp_path,
    )
    assert aborted.rc == 0, aborted.failure_messages()
    assert selector_slot(core, namespace) == "blue"
    assert replicas(apps, namespace, "blue") == 2 and replicas(apps, namespace, "green") == 0


def test_autoscaler_follows_the_active_slot(
    kubeconfig: Path, api: client.ApiClient, apps: client.AppsV1Api, namespace: str
) -> None:
    autoscaling = client.AutoscalingV2Api(api)
    scaling = {"min_replicas": 2, "max_replicas": 6, "cpu_target": 60}
    first = release(kubeconfig, namespace, "1.0.0", replicas=2, autoscaling=scaling)
    assert not first.get("failed"), first.get("msg")
    hpa = autoscaling.read_namespaced_horizontal_pod_autoscaler(APP, namespace)
    assert hpa.spec.scale_target_ref.name == f"{APP}-blue" and hpa.spec.max_replicas == 6
    assert (
        release(kubeconfig, namespace, "1.0.0", replicas=2, autoscaling=scaling)["changed"] is False
    )

    # The HPA has scaled blue to 4 (done by hand here: no metrics server): green gets 4 too.
    apps.patch_namespaced_deployment_scale(f"{APP}-blue", namespace, {"spec": {"replicas": 4}})
    wait_for(
        lambda: apps.read_namespaced_deployment(f"{APP}-blue", namespace).status.ready_replicas
        == 4,
        timeout=30,
        what="blue scaled to 4",
    )
    with SwitchWatch(api, namespace) as watcher:
        second = release(kubeconfig, namespace, "2.0.0", replicas=2, autoscaling=scaling)
    assert not second.get("failed"), second.get("msg")
    assert watcher.violations == []
    assert replicas(apps, namespace, "green") == 4 and replicas(apps, namespace, "blue") == 0
    hpa = autoscaling.read_namespaced_horizontal_pod_autoscaler(APP, namespace)
    assert hpa.spec.scale_target_ref.name == f"{APP}-green"
    assert (
        release(kubeconfig, namespace, "2.0.0", replicas=2, autoscaling=scaling)["changed"] is False
    )
