"""cluster.py up reconciles the fake nodes with the config's node groups."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from kubernetes import client


def group_nodes(core: client.CoreV1Api) -> dict[str, list[client.V1Node]]:
    out: dict[str, list[client.V1Node]] = {}
    for node in core.list_node(label_selector="eks.amazonaws.com/nodegroup").items:
        out.setdefault(node.metadata.labels["eks.amazonaws.com/nodegroup"], []).append(node)
    return out


def test_up_adds_changes_and_removes_node_groups(
    kube_cluster: ModuleType,
    cluster_name: str,
    kubeconfig: Path,
    core: client.CoreV1Api,
    node_groups: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    changed = [dict(g) for g in node_groups[1:]]  # the first group is dropped
    changed[0]["desired_size"] = 3  # and the next one grows
    changed.append(
        {
            "name": "batch",
            "instance_types": ["r6g.large", "t3.large"],
            "capacity_type": "SPOT",
            "min_size": 0,
            "desired_size": 2,
            "max_size": 5,
            "labels": {"workload": "batch"},
            "taints": [{"key": "batch", "value": "only", "effect": "NO_EXECUTE"}],
        }
    )
    config = tmp_path / "platform.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "platform": {
                    "availability_zones": ["eu-west-1a", "eu-west-1b"],
                    "region": "eu-west-1",
                    "eks": {"node_groups": changed},
                }
            }
        )
    )
    try:
        assert kube_cluster.up(cluster_name, config, build=False) == kubeconfig
        groups = group_nodes(core)
        assert set(groups) == {g["name"] for g in changed}
        assert len(groups[changed[0]["name"]]) == 3
        batch = sorted(groups["batch"], key=lambda n: n.metadata.name)
        assert [n.metadata.labels["node.kubernetes.io/instance-type"] for n in batch] == [
            "r6g.large",
            "t3.large",
        ]
        assert [n.metadata.labels["topology.kubernetes.io/zone"] for n in batch] == [
            "eu-west-1a",
            "eu-west-1b",
        ]
        assert batch[0].metadata.labels["kubernetes.io/arch"] == "arm64"
        assert batch[0].status.capacity["memory"] == "16Gi"
        assert batch[1].status.capacity["cpu"] == "2"
        assert [(t.key, t.value, t.effect) for t in batch[0].spec.taints] == [
            ("batch", "only", "NoExecute")
        ]
    finally:
        kube_cluster.up(cluster_name, None, build=False)
    groups = group_nodes(core)
    assert {g: len(n) for g, n in groups.items()} == {
        g["name"]: g["desired_size"] for g in node_groups
    }
