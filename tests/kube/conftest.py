"""A real local control plane (kube-apiserver, etcd, controller-manager, scheduler) with KWOK
nodes for the tests in tests/kube: brought up once per session by tools/kube/cluster.py.

PLINTH_KEEP_CLUSTER=1 leaves the cluster running after the session. A cluster that was already
running before the session (someone's `make kube-up`) is reused and never torn down.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kubehelpers import exists, wait_for
from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]


def _load_cluster_module() -> ModuleType:
    """tools/ is not a package; load tools/kube/cluster.py by path."""
    spec = importlib.util.spec_from_file_location(
        "plinth_kube_cluster", ROOT / "tools/kube/cluster.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cluster = _load_cluster_module()


@pytest.fixture(scope="session")
def kube_cluster() -> ModuleType:
    return cluster


TEST_CLUSTER = "plinth-test"


@pytest.fixture(scope="session")
def cluster_name() -> str:
    # Not `make site`'s cluster (plinth): the tests assert on what a cluster holds, so a developer's
    # local environment on it must not leak into them.
    return os.environ.get("PLINTH_KUBE_CLUSTER", TEST_CLUSTER)


@pytest.fixture(scope="session")
def kubeconfig(cluster_name: str) -> Iterator[Path]:
    name = cluster_name
    already_running = cluster.is_healthy(cluster.kubeconfig_path(name))
    path = cluster.up(name)  # runs build.sh first: a no-op when the pinned binaries are cached
    yield path
    if already_running or os.environ.get("PLINTH_KEEP_CLUSTER") == "1":
        return
    cluster.down(name)


@pytest.fixture(scope="session")
def api(kubeconfig: Path) -> Iterator[client.ApiClient]:
    with cluster.api_client(kubeconfig) as api_client:
        yield api_client


@pytest.fixture(scope="session")
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture(scope="session")
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture(scope="session")
def node_groups() -> list[dict[str, Any]]:
    """The node groups the cluster mirrors (same source as cluster.py up)."""
    groups, _zones, _region = cluster.load_platform(None)
    return groups


@pytest.fixture()
def namespace(core: client.CoreV1Api, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting for it to go)."""
    base = request.node.name.lower().replace("_", "-")[:40].strip("-")
    name = f"{base}-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"plinth.dev/test": "kube"}}})
    # Pods need the namespace's default ServiceAccount (created by the controller-manager).
    wait_for(
        lambda: exists(lambda: core.read_namespaced_service_account("default", name)),
        timeout=30,
        what=f"ServiceAccount default in {name}",
    )
    yield name
    core.delete_namespace(name)
