"""Helpers shared by the DR integration test and the DR benchmark: the local cluster's module
(tools/kube/cluster.py, loaded by path) and an app as the apps role renders it (contract 2)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_MODULE = "plinth_kube_cluster"


def load_cluster() -> ModuleType:
    """tools/ is not a package; load tools/kube/cluster.py by path (once)."""
    if CLUSTER_MODULE in sys.modules:
        return sys.modules[CLUSTER_MODULE]
    spec = importlib.util.spec_from_file_location(CLUSTER_MODULE, ROOT / "tools/kube/cluster.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module executes.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def deploy_app(
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    namespace: str,
    database_url: str,
    replicas: int = 2,
) -> None:
    """Namespace, Secret api-env (DATABASE_URL) and Deployment api, labelled for database main."""
    labels = {
        "app.kubernetes.io/managed-by": "plinth",
        "app.kubernetes.io/name": "api",
        "plinth.dev/environment": "development",
        "plinth.dev/database": "main",
    }
    selector = {"app.kubernetes.io/name": "api"}
    core.create_namespace({"metadata": {"name": namespace}})
    core.create_namespaced_secret(
        namespace,
        {
            "metadata": {"name": "api-env", "labels": labels},
            "stringData": {"DATABASE_URL": database_url, "REDIS_URL": "redis://cache:6379"},
        },
    )
    apps.create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "api", "labels": labels},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": selector},
                    "spec": {
                        "containers": [
                            {
                                "name": "api",
                                "image": "registry.example/api:1",
                                "envFrom": [{"secretRef": {"name": "api-env"}}],
                            }
                        ]
                    },
                },
            },
        },
    )
