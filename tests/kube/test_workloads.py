"""Workloads on the local control plane: real controllers and scheduler, KWOK-simulated kubelets.

Each test runs in its own namespace; pods get their status from tools/kube/stages/.
"""

from __future__ import annotations

from typing import Any

from kubehelpers import exists, wait_for
from kubernetes import client

SIMULATE = "plinth.dev/simulate"


def deployment(
    name: str,
    replicas: int,
    pod_labels: dict[str, str] | None = None,
    pod_spec: dict[str, Any] | None = None,
    progress_deadline: int | None = None,
) -> dict[str, Any]:
    labels = {"app": name, **(pod_labels or {})}
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}], **(pod_spec or {})},
        },
    }
    if progress_deadline is not None:
        spec["progressDeadlineSeconds"] = progress_deadline
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def pods_of(core: client.CoreV1Api, namespace: str, app: str) -> list[client.V1Pod]:
    return core.list_namespaced_pod(namespace, label_selector=f"app={app}").items


def condition(obj: Any, kind: str) -> Any:
    return next((c for c in obj.status.conditions or [] if c.type == kind), None)


def nodes_by_group(core: client.CoreV1Api) -> dict[str, dict[str, dict[str, str]]]:
    """{group: {node name: labels}} for the fake EKS nodes."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for node in core.list_node(label_selector="eks.amazonaws.com/nodegroup").items:
        labels = node.metadata.labels
        out.setdefault(labels["eks.amazonaws.com/nodegroup"], {})[node.metadata.name] = labels
    return out


def gpu_group(node_groups: list[dict[str, Any]]) -> dict[str, Any]:
    return next(
        g for g in node_groups if any(t["key"] == "nvidia.com/gpu" for t in g.get("taints") or [])
    )


def test_nodes_mirror_the_node_groups(
    core: client.CoreV1Api, node_groups: list[dict[str, Any]]
) -> None:
    groups = nodes_by_group(core)
    assert set(groups) == {g["name"] for g in node_groups}
    for group in node_groups:
        nodes = groups[group["name"]]
        assert len(nodes) == group["desired_size"]
        for name in nodes:
            node = core.read_node(name)
            assert node.metadata.annotations["kwok.x-k8s.io/node"] == "fake"
            assert condition(node, "Ready").status == "True"
            labels = node.metadata.labels
            for key, value in (group.get("labels") or {}).items():
                assert labels[key] == value
            assert labels["eks.amazonaws.com/capacityType"] == group["capacity_type"]
            assert labels["node.kubernetes.io/instance-type"] in group["instance_types"]
            assert labels["topology.kubernetes.io/zone"].startswith("us-")
            taints = {(t.key, t.value, t.effect) for t in node.spec.taints or []}
            for taint in group.get("taints") or []:
                effect = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute"}.get(
                    taint["effect"], "PreferNoSchedule"
                )
                assert (taint["key"], taint["value"], effect) in taints
    gpu_node = core.read_node(next(iter(groups[gpu_group(node_groups)["name"]])))
    assert gpu_node.status.allocatable["nvidia.com/gpu"] == "1"
    assert gpu_node.status.capacity["cpu"] == "4"  # g4dn.xlarge: 4 vCPU, 16 GiB, 1 T4
    assert gpu_node.status.capacity["memory"] == "16Gi"


def test_deployment_rolls_out_and_service_has_ready_endpoints(
    api: client.ApiClient, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_deployment(namespace, deployment("web", 3))
    core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
        },
    )

    def rolled_out() -> bool:
        dep = apps.read_namespaced_deployment_status("web", namespace)
        status = dep.status
        return (
            status.observed_generation == dep.metadata.generation
            and status.updated_replicas == 3
            and status.ready_replicas == 3
            and status.available_replicas == 3
        )

    wait_for(rolled_out, timeout=60, what="deployment web to roll out")
    dep = apps.read_namespaced_deployment_status("web", namespace)
    assert condition(dep, "Available").status == "True"
    assert condition(dep, "Progressing").reason == "NewReplicaSetAvailable"
    pods = pods_of(core, namespace, "web")
    assert len(pods) == 3
    assert all(p.status.phase == "Running" and p.status.pod_ip for p in pods)
    assert all(condition(p, "Ready").status == "True" for p in pods)

    discovery = client.DiscoveryV1Api(api)

    def ready_addresses() -> list[str]:
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=web"
        ).items
        return sorted(
            address
            for s in slices
            for ep in s.endpoints or []
            if ep.conditions and ep.conditions.ready
            for address in ep.addresses
        )

    addresses = wait_for(
        lambda: len(a := ready_addresses()) == 3 and a,
        timeout=30,
        what="3 ready addresses in web's EndpointSlices",
    )
    assert addresses == sorted(p.status.pod_ip for p in pods)


def test_gpu_pod_lands_on_gpu_nodes_and_others_stay_off(
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    namespace: str,
    node_groups: list[dict[str, Any]],
) -> None:
    gpu = gpu_group(node_groups)
    gpu_nodes = nodes_by_group(core)[gpu["name"]]
    tainted_groups = {g["name"] for g in node_groups if g.get("taints")}

    toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    selector = {"eks.amazonaws.com/nodegroup": gpu["name"]}
    gpu_container = {
        "name": "cuda",
        "image": "nvidia/cuda:12.4.1-base-ubuntu22.04",
        "resources": {"limits": {"nvidia.com/gpu": "1"}},
    }
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "trainer"},
            "spec": {
                "containers": [gpu_container],
                "tolerations": [toleration],
                "nodeSelector": selector,
            },
        },
    )
    # Same selector, no toleration: the taint must keep it off the GPU nodes (unschedulable).
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "intruder"},
            "spec": {
                "containers": [{"name": "app", "image": "nginx:1.27"}],
                "nodeSelector": selector,
            },
        },
    )
    # No selector, no toleration: spread over the untainted groups only.
    apps.create_namespaced_deployment(namespace, deployment("plain", 6))

    trainer = wait_for(
        lambda: (p := core.read_namespaced_pod("trainer", namespace)).status.phase == "Running"
        and p,
        timeout=60,
        what="pod trainer Running",
    )
    assert trainer.spec.node_name in gpu_nodes
    node_labels = core.read_node(trainer.spec.node_name).metadata.labels
    assert node_labels["eks.amazonaws.com/nodegroup"] == gpu["name"]
    for key, value in gpu["labels"].items():
        assert node_labels[key] == value
    assert condition(trainer, "Ready").status == "True"

    def unschedulable() -> Any:
        pod = core.read_namespaced_pod("intruder", namespace)
        cond = condition(pod, "PodScheduled")
        return cond is not None and cond.status == "False" and pod

    intruder = wait_for(unschedulable, timeout=30, what="pod intruder to be unschedulable")
    assert intruder.spec.node_name is None
    assert intruder.status.phase == "Pending"
    assert condition(intruder, "PodScheduled").reason == "Unschedulable"
    assert "untolerated taint" in condition(intruder, "PodScheduled").message

    wait_for(
        lambda: (apps.read_namespaced_deployment_status("plain", namespace).status.ready_replicas)
        == 6,
        timeout=60,
        what="deployment plain ready",
    )
    for pod in pods_of(core, namespace, "plain"):
        assert pod.spec.node_name not in gpu_nodes
        group = core.read_node(pod.spec.node_name).metadata.labels["eks.amazonaws.com/nodegroup"]
        assert group not in tainted_groups


def test_unready_pod_stays_not_ready_and_deployment_exceeds_deadline(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_deployment(
        namespace, deployment("stuck", 1, {SIMULATE: "unready"}, progress_deadline=5)
    )

    def deadline_exceeded() -> Any:
        dep = apps.read_namespaced_deployment_status("stuck", namespace)
        cond = condition(dep, "Progressing")
        return cond is not None and cond.reason == "ProgressDeadlineExceeded" and cond

    progressing = wait_for(deadline_exceeded, timeout=90, what="ProgressDeadlineExceeded")
    assert progressing.status == "False"
    dep = apps.read_namespaced_deployment_status("stuck", namespace)
    assert not dep.status.ready_replicas
    assert dep.status.unavailable_replicas == 1
    [pod] = pods_of(core, namespace, "stuck")
    assert pod.status.phase == "Running"
    assert pod.status.pod_ip
    assert condition(pod, "Ready").status == "False"
    [container] = pod.status.container_statuses
    assert container.state.running is not None
    assert container.ready is False


def test_crash_pod_never_restart_fails(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "oneshot", "labels": {SIMULATE: "crash"}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "app", "image": "busybox:1.36"}],
            },
        },
    )
    pod = wait_for(
        lambda: (p := core.read_namespaced_pod("oneshot", namespace)).status.phase == "Failed"
        and p,
        timeout=60,
        what="pod oneshot Failed",
    )
    [container] = pod.status.container_statuses
    assert container.state.terminated.exit_code == 1
    assert container.state.terminated.reason == "Error"
    assert container.ready is False
    assert condition(pod, "Ready").status == "False"


def test_crash_pod_in_deployment_crash_loops(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    apps.create_namespaced_deployment(namespace, deployment("crashy", 1, {SIMULATE: "crash"}))

    def crashing() -> Any:
        pods = pods_of(core, namespace, "crashy")
        statuses = pods[0].status.container_statuses if len(pods) == 1 else None
        return statuses and statuses[0].state.waiting and pods[0]

    pod = wait_for(crashing, timeout=60, what="crashy's container waiting")
    [container] = pod.status.container_statuses
    assert pod.status.phase == "Running"
    assert condition(pod, "Ready").status == "False"
    assert container.state.waiting.reason == "CrashLoopBackOff"
    assert container.last_state.terminated.exit_code == 1
    first = container.restart_count
    assert first >= 1

    # The crash loop goes on: restarts keep growing (about one every 5-6s).
    def restarted_again() -> bool:
        [p] = pods_of(core, namespace, "crashy")
        return p.status.container_statuses[0].restart_count >= first + 2

    wait_for(restarted_again, timeout=40, what="restartCount to grow")
    dep = apps.read_namespaced_deployment_status("crashy", namespace)
    assert not dep.status.ready_replicas
    assert condition(dep, "Available").status == "False"


def test_job_pod_completes(api: client.ApiClient, core: client.CoreV1Api, namespace: str) -> None:
    batch = client.BatchV1Api(api)
    batch.create_namespaced_job(
        namespace,
        {
            "metadata": {"name": "migrate"},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "migrate", "image": "busybox:1.36"}],
                    }
                },
            },
        },
    )
    job = wait_for(
        lambda: (j := batch.read_namespaced_job_status("migrate", namespace)).status.succeeded == 1
        and j,
        timeout=60,
        what="job migrate to succeed",
    )
    assert condition(job, "Complete").status == "True"
    [pod] = core.list_namespaced_pod(namespace, label_selector="job-name=migrate").items
    assert pod.status.phase == "Succeeded"
    assert pod.status.container_statuses[0].state.terminated.exit_code == 0


def test_pod_with_finalizer_is_deleted(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "held", "finalizers": ["plinth.dev/test-hold"]},
            "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]},
        },
    )
    wait_for(
        lambda: core.read_namespaced_pod("held", namespace).status.phase == "Running",
        timeout=60,
        what="pod held Running",
    )
    core.delete_namespaced_pod("held", namespace)
    wait_for(
        lambda: not exists(lambda: core.read_namespaced_pod("held", namespace)),
        timeout=30,
        what="pod held (with a finalizer) to be gone",
    )
