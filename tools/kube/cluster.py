#!/usr/bin/env python3
"""Local Kubernetes control plane for Plinth's tests: real kube-apiserver, fake (KWOK) nodes.

    cluster.py up [--name plinth] [--config inventories/local/group_vars/all/platform.yml]
    cluster.py down [--name plinth]
    cluster.py status [--name plinth]

`up` runs `kwokctl create cluster --runtime binary` with the binaries tools/kube/build.sh built
from pinned sources (nothing is downloaded), the stage set in tools/kube/stages/, and then
reconciles one KWOK node per desired EKS node of the environment config's node groups. It is
idempotent: a running cluster only gets its nodes reconciled. State (kwokctl's cluster dirs,
pids, logs) lives under ``$PLINTH_STATE_DIR/kube`` (default ``~/.cache/plinth/state/kube``); the
kubeconfig is written to ``$PLINTH_STATE_DIR/kube/kubeconfig``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.utils.quantity import parse_quantity

ROOT = Path(__file__).resolve().parents[2]
KUBE_DIR = ROOT / "tools" / "kube"
STAGES_DIR = KUBE_DIR / "stages"
DEFAULT_CONFIG = ROOT / "inventories" / "local" / "group_vars" / "all" / "platform.yml"
DEFAULT_NAME = "plinth"

# Labels and annotations on the nodes this script owns; only nodes carrying MANAGED_LABEL are ever
# deleted by the reconcile.
MANAGED_LABEL = "plinth.dev/fake-node"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"

# Used when the config file is missing or has no eks section: mirrors the local inventory.
DEFAULT_NODE_GROUPS: list[dict[str, Any]] = [
    {
        "name": "general",
        "instance_types": ["m5.xlarge"],
        "capacity_type": "ON_DEMAND",
        "min_size": 2,
        "desired_size": 2,
        "max_size": 4,
        "labels": {"workload": "general"},
    },
    {
        "name": "ml",
        "instance_types": ["c5.2xlarge"],
        "capacity_type": "SPOT",
        "min_size": 0,
        "desired_size": 1,
        "max_size": 4,
        "labels": {"workload": "ml"},
        "taints": [{"key": "workload", "value": "ml", "effect": "NO_SCHEDULE"}],
    },
    {
        "name": "gpu",
        "instance_types": ["g4dn.xlarge"],
        "capacity_type": "SPOT",
        "min_size": 0,
        "desired_size": 1,
        "max_size": 2,
        "ami_type": "AL2023_x86_64_NVIDIA",
        "labels": {"workload": "gpu", "accelerator": "nvidia"},
        "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
    },
]
DEFAULT_ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class InstanceType:
    """What EC2 gives a node of this type: vCPUs, memory, GPUs, and EKS' max pods (VPC CNI)."""

    vcpu: int
    memory_gib: int
    gpus: int
    max_pods: int
    arch: str = "amd64"


# Real EC2 figures; max pods from the EKS AMI's eni-max-pods table (VPC CNI, no prefix delegation).
INSTANCE_TYPES: dict[str, InstanceType] = {
    "t3.medium": InstanceType(2, 4, 0, 17),
    "t3.large": InstanceType(2, 8, 0, 35),
    "t3.xlarge": InstanceType(4, 16, 0, 58),
    "t3.2xlarge": InstanceType(8, 32, 0, 58),
    "m5.large": InstanceType(2, 8, 0, 29),
    "m5.xlarge": InstanceType(4, 16, 0, 58),
    "m5.2xlarge": InstanceType(8, 32, 0, 58),
    "m5.4xlarge": InstanceType(16, 64, 0, 234),
    "c5.large": InstanceType(2, 4, 0, 29),
    "c5.xlarge": InstanceType(4, 8, 0, 58),
    "c5.2xlarge": InstanceType(8, 16, 0, 58),
    "c5.4xlarge": InstanceType(16, 32, 0, 234),
    "r5.large": InstanceType(2, 16, 0, 29),
    "r5.xlarge": InstanceType(4, 32, 0, 58),
    "r5.2xlarge": InstanceType(8, 64, 0, 58),
    "r5.4xlarge": InstanceType(16, 128, 0, 234),
    "r6g.large": InstanceType(2, 16, 0, 29, "arm64"),
    "r6g.xlarge": InstanceType(4, 32, 0, 58, "arm64"),
    "r6g.2xlarge": InstanceType(8, 64, 0, 58, "arm64"),
    "g4dn.xlarge": InstanceType(4, 16, 1, 29),
    "g4dn.2xlarge": InstanceType(8, 32, 1, 29),
    "g4dn.4xlarge": InstanceType(16, 64, 1, 29),
    "g4dn.12xlarge": InstanceType(48, 192, 4, 234),
    "p3.2xlarge": InstanceType(8, 61, 1, 58),
    "p3.8xlarge": InstanceType(32, 244, 4, 234),
    "p3.16xlarge": InstanceType(64, 488, 8, 234),
}

TAINT_EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "NO_EXECUTE": "NoExecute",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
}


def log(message: str) -> None:
    print(f"[kube] {message}", flush=True)


# --- paths -----------------------------------------------------------------------------------


def state_dir() -> Path:
    base = os.environ.get("PLINTH_STATE_DIR") or str(Path.home() / ".cache" / "plinth" / "state")
    return Path(base) / "kube"


def kubeconfig_path(name: str = DEFAULT_NAME) -> Path:
    """The default cluster's kubeconfig is ``kube/kubeconfig``; others get their own file."""
    filename = "kubeconfig" if name == DEFAULT_NAME else f"kubeconfig-{name}"
    return state_dir() / filename


def kwok_workdir() -> Path:
    return state_dir() / "kwok"


# --- toolchain -------------------------------------------------------------------------------


def ensure_built(build: bool = True) -> Path:
    """Run build.sh (a no-op when the pinned binaries are cached) and return their directory."""
    script = KUBE_DIR / "build.sh"
    if build:
        subprocess.run([str(script)], check=True)
    out = subprocess.run([str(script), "--bin-dir"], check=True, capture_output=True, text=True)
    bin_dir = Path(out.stdout.strip())
    if not (bin_dir / "kwokctl").exists():
        raise RuntimeError(f"{bin_dir} has no kwokctl; run tools/kube/build.sh")
    return bin_dir


def kube_version() -> str:
    for line in (KUBE_DIR / "versions.env").read_text().splitlines():
        if line.startswith("KUBE_VERSION="):
            return line.split("=", 1)[1].strip()
    raise RuntimeError("KUBE_VERSION missing from versions.env")


def kwokctl(
    bin_dir: Path, name: str, *args: str, capture: bool = False, check: bool = True
) -> subprocess.CompletedProcess[str]:
    # KWOK_WORKDIR keeps kwokctl's clusters, pids and logs under our state dir, not ~/.kwok.
    env = dict(os.environ, KWOK_WORKDIR=str(kwok_workdir()))
    cmd = [str(bin_dir / "kwokctl"), "--name", name, *args]
    return subprocess.run(cmd, env=env, check=check, text=True, capture_output=capture)


def fingerprint(bin_dir: Path) -> str:
    """What a cluster was created from: the binaries' directory (keyed by the pins) and the
    stages. kwokctl reads both only at create time."""
    digest = hashlib.sha256(str(bin_dir).encode())
    for stage in sorted(STAGES_DIR.glob("*.yaml")):
        digest.update(stage.name.encode() + stage.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint_path(name: str) -> Path:
    return state_dir() / f"fingerprint-{name}"


def write_kwokctl_config(bin_dir: Path, name: str) -> Path:
    """A KwokctlConfiguration pointing every component at the locally built binaries."""
    options = {
        "runtime": "binary",
        "kubeVersion": kube_version(),
        "kubeApiserverBinary": str(bin_dir / "kube-apiserver"),
        "kubeControllerManagerBinary": str(bin_dir / "kube-controller-manager"),
        "kubeSchedulerBinary": str(bin_dir / "kube-scheduler"),
        "kubectlBinary": str(bin_dir / "kubectl"),
        "etcdBinary": str(bin_dir / "etcd"),
        "kwokControllerBinary": str(bin_dir / "kwok"),
        # Nothing is pulled (every binary is a local path); keep kwokctl's output short anyway.
        "quietPull": True,
        # kwokctl stretches node heartbeats 5x by default (200s node leases). With 1x a restarted
        # kwok takes over the nodes within one 10s renew interval instead of minutes.
        "heartbeatFactor": 1,
    }
    doc = {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokctlConfiguration",
        "options": options,
    }
    path = state_dir() / f"kwokctl-{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# --- node groups -----------------------------------------------------------------------------


@dataclass
class NodeSpec:
    name: str
    group: str
    labels: dict[str, str]
    taints: list[dict[str, str]]
    resources: dict[str, dict[str, str]]
    arch: str
    annotations: dict[str, str] = field(default_factory=dict)


def load_platform(config_path: Path | None) -> tuple[list[dict[str, Any]], list[str], str]:
    """Node groups, availability zones and region from the environment config (or defaults)."""
    path = config_path or DEFAULT_CONFIG
    if not path.exists():
        log(f"{path} does not exist; using the built-in node groups")
        return DEFAULT_NODE_GROUPS, DEFAULT_ZONES, DEFAULT_REGION
    platform = (yaml.safe_load(path.read_text()) or {}).get("platform") or {}
    zones = platform.get("availability_zones") or DEFAULT_ZONES
    region = platform.get("region") or DEFAULT_REGION
    eks = platform.get("eks")
    if not eks:
        log(f"{path} has no platform.eks; using the built-in node groups")
        return DEFAULT_NODE_GROUPS, zones, region
    return list(eks.get("node_groups") or []), zones, region


def allocatable(itype: InstanceType) -> dict[str, str]:
    """Capacity minus EKS' kube-reserved (CPU by core tiers; 11 MiB a pod + 255 MiB) and the
    100Mi hard eviction threshold, as the EKS AMIs compute it."""
    cores = itype.vcpu
    reserved_mcpu = 60 + (10 if cores >= 2 else 0) + 5 * max(0, min(cores, 4) - 2)
    reserved_mcpu += int(2.5 * max(0, cores - 4))
    reserved_mib = 11 * itype.max_pods + 255 + 100
    out = {
        "cpu": f"{cores * 1000 - reserved_mcpu}m",
        "memory": f"{itype.memory_gib * 1024 - reserved_mib}Mi",
        "pods": str(itype.max_pods),
        "ephemeral-storage": "47Gi",
    }
    if itype.gpus:
        out["nvidia.com/gpu"] = str(itype.gpus)
    return out


def capacity(itype: InstanceType) -> dict[str, str]:
    out = {
        "cpu": str(itype.vcpu),
        "memory": f"{itype.memory_gib}Gi",
        "pods": str(itype.max_pods),
        "ephemeral-storage": "50Gi",
    }
    if itype.gpus:
        out["nvidia.com/gpu"] = str(itype.gpus)
    return out


def node_specs(
    groups: list[dict[str, Any]], zones: list[str], region: str = DEFAULT_REGION
) -> list[NodeSpec]:
    """One spec per desired node: EKS' well-known labels, the group's labels and taints."""
    specs: list[NodeSpec] = []
    for group in groups:
        gname = group["name"]
        types = group.get("instance_types") or ["m5.large"]
        unknown = [t for t in types if t not in INSTANCE_TYPES]
        if unknown:
            known = ", ".join(sorted(INSTANCE_TYPES))
            raise ValueError(
                f"node group {gname}: unknown instance types {unknown}; known: {known}"
            )
        capacity_type = group.get("capacity_type", "ON_DEMAND")
        taints = [
            {
                "key": taint["key"],
                "value": str(taint.get("value", "")),
                "effect": TAINT_EFFECTS.get(taint["effect"], taint["effect"]),
            }
            for taint in group.get("taints") or []
        ]
        desired = int(group.get("desired_size", group.get("min_size", 1)))
        for index in range(desired):
            # Mixed instance types and AZs are spread round-robin, like an ASG balancing AZs.
            itype_name = types[index % len(types)]
            itype = INSTANCE_TYPES[itype_name]
            zone = zones[index % len(zones)]
            name = f"{gname}-{index}"
            labels = {str(k): str(v) for k, v in (group.get("labels") or {}).items()}
            labels.update(
                {
                    "eks.amazonaws.com/nodegroup": gname,
                    "eks.amazonaws.com/capacityType": capacity_type,
                    "node.kubernetes.io/instance-type": itype_name,
                    "topology.kubernetes.io/zone": zone,
                    "topology.kubernetes.io/region": region,
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": itype.arch,
                    # Real EKS nodes still carry the deprecated beta labels (the API server's
                    # node admission adds them otherwise, which would look like drift).
                    "beta.kubernetes.io/os": "linux",
                    "beta.kubernetes.io/arch": itype.arch,
                    "type": "kwok",
                    MANAGED_LABEL: "true",
                }
            )
            if group.get("ami_type"):
                labels["eks.amazonaws.com/nodegroup-image"] = str(group["ami_type"])
            resources = {"capacity": capacity(itype), "allocatable": allocatable(itype)}
            specs.append(NodeSpec(name, gname, labels, taints, resources, itype.arch))
    return specs


def node_body(spec: NodeSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": spec.name,
            "labels": spec.labels,
            # KWOK only manages nodes carrying this annotation (kwok's --manage-nodes-with-...).
            "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"taints": spec.taints} if spec.taints else {},
        "status": {
            "capacity": spec.resources["capacity"],
            "allocatable": spec.resources["allocatable"],
            "nodeInfo": {"architecture": spec.arch, "operatingSystem": "linux"},
        },
    }


def _split_taints(taints: list[Any] | None) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(ours, the node controller's): node.kubernetes.io/* taints (not-ready, unreachable...) are
    Kubernetes' own and survive a reconcile."""
    ours, system = [], []
    for taint in taints or []:
        item = {"key": taint.key, "value": taint.value or "", "effect": taint.effect}
        is_system = taint.key.startswith(
            ("node.kubernetes.io/", "node.cloudprovider.kubernetes.io/")
        )
        (system if is_system else ours).append(item)
    return ours, system


def _same_resources(current: dict[str, Any] | None, wanted: dict[str, str]) -> bool:
    """Compare quantities by value: the API server canonicalises them (e.g. 1024Mi -> 1Gi)."""
    current = current or {}
    if set(current) != set(wanted):
        return False
    return all(parse_quantity(current[k]) == parse_quantity(v) for k, v in wanted.items())


def reconcile_nodes(api: client.CoreV1Api, specs: list[NodeSpec]) -> dict[str, list[str]]:
    """Create missing nodes, fix drifted ones, delete ours that no group wants any more."""
    result: dict[str, list[str]] = {"created": [], "updated": [], "deleted": [], "unchanged": []}
    existing = {n.metadata.name: n for n in api.list_node(label_selector=MANAGED_LABEL).items}
    wanted = {s.name: s for s in specs}
    for name, spec in wanted.items():
        node = existing.get(name)
        if node is None:
            api.create_node(node_body(spec))
            result["created"].append(name)
            continue
        ours, system = _split_taints(node.spec.taints)
        changed = False
        if (node.metadata.labels or {}) != spec.labels or ours != spec.taints:
            node.metadata.labels = spec.labels
            node.spec.taints = spec.taints + system or None
            api.replace_node(name, node)
            changed = True
        if not _same_resources(node.status.capacity, spec.resources["capacity"]) or not (
            _same_resources(node.status.allocatable, spec.resources["allocatable"])
        ):
            api.patch_node_status(name, {"status": dict(spec.resources)})
            changed = True
        result["updated" if changed else "unchanged"].append(name)
    for name in sorted(set(existing) - set(wanted)):
        api.delete_node(name)
        result["deleted"].append(name)
    return result


NOT_READY_TAINTS = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}
NODE_LEASE_NAMESPACE = "kube-node-lease"
CONTROL_PLANE_LEASES = ("kube-controller-manager", "kube-scheduler")


def release_node_leases(api: client.ApiClient) -> None:
    """After a restart the node leases still name the previous kwok process, and the new one
    leaves nodes alone until those expire (--node-lease-duration-seconds=200, kwok's sharding
    between controllers): pods would sit Pending for minutes. Nobody else holds them here."""
    coordination = client.CoordinationV1Api(api)
    for lease in coordination.list_namespaced_lease(NODE_LEASE_NAMESPACE).items:
        try:
            coordination.delete_namespaced_lease(lease.metadata.name, NODE_LEASE_NAMESPACE)
        except ApiException as exc:
            if exc.status != 404:
                raise


def wait_control_plane_leaders(api: client.ApiClient, since: datetime, timeout: float = 90) -> None:
    """Wait until the controller-manager and scheduler started at `since` lead. After a restart
    they wait out the old leader leases (~15-20s) and do nothing meanwhile."""
    coordination = client.CoordinationV1Api(api)
    deadline = time.monotonic() + timeout
    for name in CONTROL_PLANE_LEASES:
        while True:
            try:
                lease = coordination.read_namespaced_lease(name, "kube-system")
                acquired = lease.spec.acquire_time
                if acquired is not None and acquired >= since:
                    break
            except ApiException as exc:
                if exc.status != 404:
                    raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not take its leader lease within {timeout}s")
            time.sleep(0.5)


def wait_nodes_ready(api: client.CoreV1Api, names: list[str], timeout: float = 120) -> None:
    """Wait until every node is Ready and schedulable: the node lifecycle controller removes its
    not-ready/unreachable taints a moment after Ready (new nodes, or after a restart when the
    leases had expired), and until then pods stay Pending or get evicted."""
    coordination = client.CoordinationV1Api(api.api_client)
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        pending = set(names)
        # kwok holds a lease per node it simulates; no lease yet means no kwok serves its pods.
        leased = {
            lease.metadata.name
            for lease in coordination.list_namespaced_lease(NODE_LEASE_NAMESPACE).items
        }
        for node in api.list_node(label_selector=MANAGED_LABEL).items:
            conditions = {c.type: c.status for c in node.status.conditions or []}
            taints = {t.key for t in node.spec.taints or []}
            if (
                conditions.get("Ready") == "True"
                and not taints & NOT_READY_TAINTS
                and node.metadata.name in leased
            ):
                pending.discard(node.metadata.name)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nodes not Ready after {timeout}s: {sorted(pending)}")
        time.sleep(0.5)


# --- cluster lifecycle -----------------------------------------------------------------------


def api_client(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


def is_healthy(kubeconfig: Path) -> bool:
    if not kubeconfig.exists():
        return False
    try:
        with api_client(kubeconfig) as api:
            api.call_api("/readyz", "GET", _request_timeout=3, _preload_content=False)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def cluster_exists(bin_dir: Path, name: str) -> bool:
    out = kwokctl(bin_dir, name, "get", "clusters", capture=True, check=False)
    return name in out.stdout.split()


def write_kubeconfig(bin_dir: Path, name: str) -> Path:
    out = kwokctl(bin_dir, name, "get", "kubeconfig", capture=True)
    path = kubeconfig_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(out.stdout)
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


def wait_api_ready(kubeconfig: Path, timeout: float = 120) -> None:
    """Ready means pods can be created: /readyz answers and `default` has its ServiceAccount."""
    deadline = time.monotonic() + timeout
    while True:
        if is_healthy(kubeconfig):
            try:
                with api_client(kubeconfig) as api:
                    client.CoreV1Api(api).read_namespaced_service_account("default", "default")
                return
            except ApiException as exc:
                if exc.status != 404:
                    raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"cluster API not ready after {timeout}s ({kubeconfig})")
        time.sleep(0.5)


def up(name: str = DEFAULT_NAME, config_path: Path | None = None, build: bool = True) -> Path:
    """Bring the cluster up (or keep it up) and reconcile its nodes; return the kubeconfig."""
    started = time.monotonic()
    bin_dir = ensure_built(build)
    kubeconfig = kubeconfig_path(name)
    # Leader leases taken after this moment belong to the processes started below (rounded down
    # to the second for slack; the API server runs on this same clock).
    launched: datetime | None = datetime.now(UTC).replace(microsecond=0)
    restarted = False
    if cluster_exists(bin_dir, name):
        if is_healthy(kubeconfig):
            log(f"cluster {name} already running")
            launched = None
            recorded = fingerprint_path(name)
            if not recorded.exists() or recorded.read_text() != fingerprint(bin_dir):
                log(
                    f"warning: cluster {name} was created from other binaries or stages than "
                    f"the current ones; `cluster.py down` and `up` to pick them up"
                )
        else:
            log(f"cluster {name} exists but is not answering; starting it")
            kwokctl(bin_dir, name, "start", "cluster", "--wait", "120s")
            restarted = True
    else:
        log(f"creating cluster {name} (kwokctl --runtime binary, binaries from {bin_dir})")
        kwok_config = write_kwokctl_config(bin_dir, name)
        stage_args: list[str] = []
        for stage in sorted(STAGES_DIR.glob("*.yaml")):
            stage_args += ["--config", str(stage)]
        kwokctl(
            bin_dir,
            name,
            "--config",
            str(kwok_config),
            *stage_args,
            "create",
            "cluster",
            "--runtime",
            "binary",
            "--kubeconfig",
            "",
            "--wait",
            "120s",
        )
        fingerprint_path(name).write_text(fingerprint(bin_dir))
    kubeconfig = write_kubeconfig(bin_dir, name)
    wait_api_ready(kubeconfig)
    groups, zones, region = load_platform(config_path)
    specs = node_specs(groups, zones, region)
    with api_client(kubeconfig) as api:
        if restarted:
            release_node_leases(api)
        if launched is not None:
            wait_control_plane_leaders(api, launched)
            log(f"controller-manager and scheduler leading after {time.monotonic() - started:.1f}s")
        core = client.CoreV1Api(api)
        result = reconcile_nodes(core, specs)
        wait_nodes_ready(core, [s.name for s in specs])
    summary = ", ".join(f"{k} {len(v)}" for k, v in result.items() if v)
    log(f"nodes: {summary or 'none'}")
    log(f"cluster {name} up in {time.monotonic() - started:.1f}s")
    print(kubeconfig)
    return kubeconfig


def down(name: str = DEFAULT_NAME) -> None:
    bin_dir = ensure_built(build=False)
    if cluster_exists(bin_dir, name):
        # kwokctl removes its context from --kubeconfig (default ~/.kube/config, which must stay
        # untouched; an empty value is rejected by delete), so point it at our own file.
        kwokctl(bin_dir, name, "delete", "cluster", "--kubeconfig", str(kubeconfig_path(name)))
        log(f"cluster {name} deleted")
    else:
        log(f"cluster {name} does not exist")
    kubeconfig_path(name).unlink(missing_ok=True)
    (state_dir() / f"kwokctl-{name}.yaml").unlink(missing_ok=True)
    fingerprint_path(name).unlink(missing_ok=True)


def status(name: str = DEFAULT_NAME) -> int:
    bin_dir = ensure_built(build=False)
    kubeconfig = kubeconfig_path(name)
    if not cluster_exists(bin_dir, name):
        print(f"cluster {name}: absent")
        return 1
    if not is_healthy(kubeconfig):
        print(f"cluster {name}: stopped or unhealthy (kubeconfig {kubeconfig})")
        return 1
    print(f"cluster {name}: running, kubeconfig {kubeconfig}")
    with api_client(kubeconfig) as api:
        version = client.VersionApi(api).get_code()
        print(f"  kube-apiserver {version.git_version}")
        for node in client.CoreV1Api(api).list_node().items:
            labels = node.metadata.labels or {}
            ready = {c.type: c.status for c in node.status.conditions or []}.get("Ready")
            print(
                f"  {node.metadata.name:<12} ready={ready:<5} "
                f"group={labels.get('eks.amazonaws.com/nodegroup', '-')} "
                f"{labels.get('node.kubernetes.io/instance-type', '-')} "
                f"{labels.get('topology.kubernetes.io/zone', '-')}"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--name", default=os.environ.get("PLINTH_KUBE_CLUSTER", DEFAULT_NAME))
    parser.add_argument("--config", type=Path, default=None, help=f"default: {DEFAULT_CONFIG}")
    parser.add_argument("--no-build", action="store_true", help="do not run build.sh first")
    args = parser.parse_args(argv)
    if args.action == "up":
        up(args.name, args.config, build=not args.no_build)
        return 0
    if args.action == "down":
        down(args.name)
        return 0
    return status(args.name)


if __name__ == "__main__":
    sys.exit(main())
