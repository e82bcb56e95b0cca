"""Which desired Kubernetes objects differ from the cluster's (module_utils/k8s_reconcile and the
k8s_pending / k8s_unready filters)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.plinth.platform.plugins.filter.k8s_reconcile import (
    FilterModule,
    k8s_pending,
    k8s_unready,
)
from ansible_collections.plinth.platform.plugins.module_utils.k8s_reconcile import (
    HASH_ANNOTATION,
    content_hash,
    deployment_ready,
    pending,
    subset_matches,
    with_hash,
)


def config_map(data: dict[str, str], **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "web-config",
            "namespace": "shop",
            "labels": {"app.kubernetes.io/managed-by": "plinth", **labels},
        },
        "data": data,
    }


def deployment(replicas: int = 2, cpu: str = "0.5", image: str = "web:1.0") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "tolerations": [],
                    "containers": [
                        {
                            "name": "web",
                            "image": image,
                            "resources": {"requests": {"cpu": cpu, "memory": "1024Mi"}},
                            "securityContext": {"readOnlyRootFilesystem": True},
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "0.25Gi"}}],
                },
            },
        },
    }


def as_applied(obj: dict[str, Any], unhashed: tuple[str, ...] = ()) -> dict[str, Any]:
    """What the API server returns for an applied object: the desired fields as it normalises
    them, plus defaults, bookkeeping and status; empty maps and lists dropped."""
    live = with_hash(obj, unhashed)
    live["metadata"].update(uid="0b1c", resourceVersion="42", generation=1, managedFields=[{}])
    if live["kind"] == "Deployment":
        spec = live["spec"]
        spec.update(progressDeadlineSeconds=600, revisionHistoryLimit=10)
        pod = spec["template"]["spec"]
        del pod["tolerations"]
        pod.update(restartPolicy="Always", dnsPolicy="ClusterFirst")
        container = pod["containers"][0]
        container.update(
            imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log"
        )
        container["resources"]["requests"] = {"cpu": "500m", "memory": "1Gi"}
        pod["volumes"][0]["emptyDir"]["sizeLimit"] = "256Mi"
        live["status"] = {"replicas": spec["replicas"], "observedGeneration": 1}
    return live


def test_an_applied_object_read_back_is_not_pending() -> None:
    desired = [deployment(), config_map({"LOG_LEVEL": "info"})]
    live = {
        "Deployment": [as_applied(desired[0])],
        "ConfigMap": [as_applied(desired[1])],
    }
    assert pending(desired, live) == []


def test_listed_items_without_kind_compare_as_the_listing_kind() -> None:
    live = as_applied(config_map({"A": "1"}))
    del live["kind"], live["apiVersion"]
    assert pending([config_map({"A": "1"})], {"ConfigMap": [live]}) == []


def test_a_missing_object_is_pending_with_its_hash_and_the_input_is_left_alone() -> None:
    desired = config_map({"LOG_LEVEL": "info"})
    before = copy.deepcopy(desired)
    out = pending([desired], {"ConfigMap": []})
    assert desired == before
    assert len(out) == 1
    assert out[0]["metadata"]["annotations"] == {HASH_ANNOTATION: content_hash(desired)}
    assert {k: v for k, v in out[0].items() if k != "metadata"} == {
        k: v for k, v in desired.items() if k != "metadata"
    }


def test_same_name_in_another_namespace_or_kind_is_another_object() -> None:
    desired = config_map({"A": "1"})
    elsewhere = as_applied(desired)
    elsewhere["metadata"]["namespace"] = "other"
    assert len(pending([desired], {"ConfigMap": [elsewhere], "Secret": [as_applied(desired)]})) == 1


@pytest.mark.parametrize(
    "edit",
    [
        lambda live: live["spec"]["template"]["spec"]["containers"][0].update(image="web:hack"),
        lambda live: live["metadata"]["labels"].update(app="other"),
        lambda live: live["metadata"]["labels"].pop("app"),
        lambda live: live["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(
            readOnlyRootFilesystem=False
        ),
        lambda live: live["spec"]["template"]["spec"]["containers"][0]["resources"][
            "requests"
        ].update(cpu="400m"),
        lambda live: live["spec"]["template"]["spec"]["containers"][0].pop("volumeMounts"),
        lambda live: live["metadata"]["annotations"].pop(HASH_ANNOTATION),
        lambda live: live["spec"].update(replicas=5),
    ],
    ids=["image", "label", "label-removed", "bool", "quantity", "list-removed", "hash", "replicas"],
)
def test_drift_on_a_field_plinth_sets_is_pending(edit: Any) -> None:
    desired = deployment()
    live = as_applied(desired, ("spec.replicas",))
    edit(live)
    assert [o["metadata"]["name"] for o in pending([desired], {"Deployment": [live]})] == ["web"]


def test_fields_plinth_does_not_set_are_left_to_others() -> None:
    desired = deployment()
    live = as_applied(desired)
    live["metadata"]["labels"]["team"] = "payments"
    live["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "x"}
    assert pending([desired], {"Deployment": [live]}) == []


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"LOG_LEVEL": "info", "DEBUG": "1"}, {"LOG_LEVEL": "info"}),  # an env entry removed
        ({"LOG_LEVEL": "info"}, {"LOG_LEVEL": "debug"}),
    ],
)
def test_a_key_removed_from_the_config_is_pending(
    before: dict[str, str], after: dict[str, str]
) -> None:
    live = as_applied(config_map(before))
    # The new desired object is a subset of the live one: only the hash tells it changed.
    assert pending([config_map(after)], {"ConfigMap": [live]}) != []


def test_a_label_removed_from_the_config_is_pending() -> None:
    live = as_applied(config_map({"A": "1"}, tier="web"))
    assert subset_matches(config_map({"A": "1"})["metadata"]["labels"], live["metadata"]["labels"])
    assert len(pending([config_map({"A": "1"})], {"ConfigMap": [live]})) == 1


def test_unhashed_fields_follow_the_cluster_but_are_compared() -> None:
    # The HPA scaled the Deployment to 4: the desired object takes that count, still unchanged.
    live = as_applied(deployment(replicas=2), ("spec.replicas",))
    live["spec"]["replicas"] = 4
    assert pending([deployment(replicas=4)], {"Deployment": [live]}, ["spec.replicas"]) == []
    # Without leaving it out of the hash, the same object would be applied on every HPA move.
    assert pending([deployment(replicas=4)], {"Deployment": [live]}) != []
    assert content_hash(deployment(replicas=2), ["spec.replicas"]) == content_hash(
        deployment(replicas=9), ["spec.replicas", "spec.absent.path"]
    )


@pytest.mark.parametrize(
    ("path", "want", "have", "same"),
    [
        (("spec", "containers", 0, "resources", "limits", "cpu"), "1", "1000m", True),
        (("spec", "containers", 0, "resources", "limits", "cpu"), "0.5", "500m", True),
        (("spec", "containers", 0, "resources", "requests", "memory"), "1Gi", "1024Mi", True),
        (("spec", "containers", 0, "resources", "requests", "memory"), "1G", "1Gi", False),
        (("spec", "hard", "requests.cpu"), "2", "2000m", True),
        (("spec", "hard", "pods"), "12", "13", False),
        (("spec", "limits", 0, "default", "memory"), "512Mi", "0.5Gi", True),
        (("spec", "volumes", 0, "emptyDir", "sizeLimit"), "256Mi", "268435456", True),
        # Not a quantity: a ConfigMap value is compared as written.
        (("data", "limits"), "1k", "1000", False),
        (("metadata", "labels", "cpu"), "1", "1000m", False),
        (("spec", "hard", "pods"), "12", "not-a-quantity", False),
    ],
)
def test_quantities_compare_by_value_where_the_server_rewrites_them(
    path: tuple[Any, ...], want: str, have: str, same: bool
) -> None:
    assert subset_matches(want, have, path) is same


@pytest.mark.parametrize(
    ("want", "have", "same"),
    [
        ({}, None, True),
        ([], None, True),
        ({}, {"other": "x"}, True),
        (None, None, True),
        (None, "x", False),
        ([], [{"name": "x"}], False),
        ([1, 2], [1, 2, 3], False),
        ([{"a": 1}], [{"a": 1, "b": 2}], True),
        ({"a": 1}, "text", False),
        ([1], {"a": 1}, False),
        (True, 1, False),
        (0, False, False),
        (80, 80, True),
        ("http", 80, False),
    ],
)
def test_subset_rules(want: Any, have: Any, same: bool) -> None:
    assert subset_matches(want, have) is same


def test_hash_is_canonical_and_ignores_its_own_annotation() -> None:
    one = config_map({"A": "1", "B": "2"})
    two = config_map({"B": "2", "A": "1"})
    assert content_hash(one) == content_hash(two)
    assert content_hash(with_hash(one)) == content_hash(one)
    assert content_hash(config_map({"A": "1"})) != content_hash(one)


def ready_deployment(**status: Any) -> dict[str, Any]:
    base = {"replicas": 2, "availableReplicas": 2, "readyReplicas": 2, "observedGeneration": 3}
    return {
        "metadata": {"name": "web", "namespace": "shop", "generation": 3},
        "spec": {"replicas": 2},
        "status": {**base, **status},
    }


def test_deployment_ready_is_kubernetes_core_test() -> None:
    assert deployment_ready(ready_deployment())
    assert not deployment_ready(ready_deployment(availableReplicas=1, unavailableReplicas=1))
    assert not deployment_ready(ready_deployment(observedGeneration=2))
    scaled_to_zero = ready_deployment()
    scaled_to_zero["spec"]["replicas"] = 0
    scaled_to_zero["status"] = {"observedGeneration": 3}
    assert deployment_ready(scaled_to_zero)


def test_filters() -> None:
    assert set(FilterModule().filters()) == {"k8s_pending", "k8s_unready"}
    stalled = ready_deployment(observedGeneration=2)
    stalled["metadata"]["name"] = "api"
    assert k8s_unready([ready_deployment(), stalled]) == ["shop/api"]
    assert k8s_pending([config_map({})], {}) != []
    with pytest.raises(AnsibleFilterError, match="live must map each kind"):
        k8s_pending([config_map({})], [])
    with pytest.raises(AnsibleFilterError, match="not a Kubernetes object"):
        k8s_pending([{"kind": "ConfigMap", "metadata": {}}], {})
