"""The apps layer end to end: playbooks/apps.yml against the local cluster and the embedded AWS.

One module-scoped deployment (3 apps over 2 namespaces, one on the tainted ``ml`` group, one with an
IRSA role, Secrets assembled from an RDS instance, an ElastiCache group and a Secrets Manager
secret) is checked by many assertions: ``--check`` on empty state first, then apply, rerun with
``changed=0``, an image change that changes one app only (reported by ``--check`` first), drift
edited by hand corrected and reported, entries dropped from the config removed from the cluster,
opt-in pruning, and secret values never in the output. The data layer is created directly through
the emulator's API (fast) and found by the playbook's read-only lookups, as in a standalone run.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubehelpers import exists
from kubernetes import client

from tests.support.playbook import PlaybookRun, run_playbook

ROOT = Path(__file__).resolve().parents[2]
LOCAL = yaml.safe_load((ROOT / "inventories/local/group_vars/all/platform.yml").read_text())
PREFIX = "appstest-development"
NS_API, NS_ML = "appstest-api", "appstest-ml"
PASSWORD = "Db-pass-7f3a9c1e5b"
TOKEN = "cache-token-0d4e8b2a6c9f1e3d5a7b"
SIGNING_KEY = "signing-key-9a8b7c6d5e4f3a2b1c0d"
POLICY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/{}:1.0.0"
SELECTOR = f"app.kubernetes.io/managed-by=plinth,plinth.dev/stack={PREFIX}"


def _apps() -> list[dict[str, Any]]:
    return [
        {
            "name": "research-api",
            "namespace": NS_API,
            "namespace_labels": {"tier": "application"},
            "image": IMAGE.format("research-api"),
            "replicas": 2,
            "node_group": "general",
            "port": 8000,
            "readiness_path": "/ready",
            "resources": {
                "requests": {"cpu": "250m", "memory": "256Mi"},
                "limits": {"cpu": "1", "memory": "1Gi"},
            },
            "env": {"LOG_LEVEL": "info"},
            "database": "main",
            "cache": "sessions",
            "secrets": ["api/signing-key"],
            "iam_policy_arns": [POLICY],
            "ingress": {"host": "api.appstest.example.com", "path": "/v1"},
            "autoscaling": {"min_replicas": 2, "max_replicas": 5, "cpu_target": 70},
            "disruption": {"min_available": 1},
            "allow_from": [{"app": "web"}, {"namespace": "monitoring"}],
        },
        {
            "name": "web",
            "namespace": NS_API,
            "image": IMAGE.format("web"),
            "replicas": 2,
            "node_group": "general",
            "disruption": {"max_unavailable": 1},
        },
        {
            "name": "ml-service",
            "namespace": NS_ML,
            "image": IMAGE.format("ml-service"),
            "replicas": 1,
            "node_group": "ml",
            "cache": "sessions",
            "allow_from": [{"namespace": NS_API, "app": "research-api"}],
        },
    ]


def platform(apps: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    config = copy.deepcopy(LOCAL["platform"])
    config["name"] = "appstest"
    config["apps"] = _apps() if apps is None else apps
    config.update(extra)
    return config


def _seed_data_layer(aws: Any) -> None:
    """What the rds, elasticache, storage and eks layers leave behind, named as they name it."""
    sm = aws.client("secretsmanager")
    master = {"username": "plinth_admin", "password": PASSWORD, "dbname": "app", "port": 5432}
    sm.create_secret(Name=f"plinth/{PREFIX}/rds/main/master", SecretString=json.dumps(master))
    sm.create_secret(Name=f"{PREFIX}/elasticache/sessions/auth-token", SecretString=TOKEN)
    sm.create_secret(Name=f"{PREFIX}/api/signing-key", SecretString=SIGNING_KEY)
    aws.client("rds").create_db_instance(
        DBInstanceIdentifier=f"{PREFIX}-main",
        Engine="postgres",
        DBInstanceClass="db.t4g.medium",
        MasterUsername="plinth_admin",
        MasterUserPassword=PASSWORD,
        AllocatedStorage=50,
        DBName="app",
        Tags=[{"Key": "plinth:stack", "Value": PREFIX}],
    )
    aws.client("elasticache").create_replication_group(
        ReplicationGroupId=f"{PREFIX}-sessions",
        ReplicationGroupDescription="sessions",
        Engine="redis",
        CacheNodeType="cache.t4g.small",
        NumCacheClusters=2,
        TransitEncryptionEnabled=True,
        AuthToken=TOKEN,
    )
    aws.client("iam").create_open_id_connect_provider(
        Url="https://oidc.eks.us-east-1.amazonaws.com/id/APPSTEST",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
        Tags=[{"Key": "plinth:stack", "Value": PREFIX}],
    )


def apps_run(
    emulator: Any, kubeconfig: Path, tmp_path: Path, config: dict[str, Any], **kwargs: Any
) -> PlaybookRun:
    return run_playbook(
        "apps.yml",
        endpoint_port=emulator.port,
        platform=config,
        extra_vars={"plinth_eks_kubeconfig": str(kubeconfig)},
        tmp_path=tmp_path,
        **kwargs,
    )


def output(run: PlaybookRun) -> dict[str, Any]:
    return run.result("Publish the apps layer's output")["ansible_facts"]["apps__output"]


def _ok(run: PlaybookRun) -> None:
    assert run.rc == 0, run.failure_messages() or (run.stdout[-3000:] + run.stderr[-3000:])


def _secrets_absent(run: PlaybookRun) -> None:
    text = run.stdout + run.stderr
    for value in (PASSWORD, TOKEN, SIGNING_KEY):
        assert value not in text, "a secret value appeared in the output"
        assert base64.b64encode(value.encode()).decode() not in text, "a secret appeared (base64)"


def _namespace_exists(core: client.CoreV1Api, name: str) -> bool:
    return exists(lambda: core.read_namespace(name))


def _cleanup(core: client.CoreV1Api) -> None:
    for name in (NS_API, NS_ML):
        if _namespace_exists(core, name):
            core.delete_namespace(name)


@pytest.fixture(scope="module")
def deployed(
    emulator: Any,
    kubeconfig: Path,
    core: client.CoreV1Api,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    """Check on empty state, apply, rerun; the three runs for the tests to read."""
    tmp_path = tmp_path_factory.mktemp("apps")
    emulator.reset()
    _seed_data_layer(emulator)
    _cleanup(core)
    check = apps_run(emulator, kubeconfig, tmp_path, platform(), check=True, diff=True)
    created_by_check = [n for n in (NS_API, NS_ML) if _namespace_exists(core, n)]
    iam_roles_by_check = emulator.client("iam").list_roles()["Roles"]
    apply = apps_run(emulator, kubeconfig, tmp_path, platform(), verbosity=3, diff=True)
    _ok(apply)
    rerun = apps_run(emulator, kubeconfig, tmp_path, platform())
    yield {
        "check": check,
        "created_by_check": created_by_check,
        "iam_roles_by_check": iam_roles_by_check,
        "apply": apply,
        "rerun": rerun,
        "tmp_path": tmp_path,
    }
    _cleanup(core)


def test_check_on_empty_state_reports_and_applies_nothing(deployed: Any) -> None:
    check = deployed["check"]
    _ok(check)
    assert deployed["created_by_check"] == []
    assert deployed["iam_roles_by_check"] == []
    report = output(check)
    assert sorted(report["changed_apps"]) == ["ml-service", "research-api", "web"]
    assert "Deployment/appstest-ml/ml-service" in report["apps"]["ml-service"]["changed_objects"]
    _secrets_absent(check)


def test_apply_deploys_every_app_ready(
    deployed: Any, apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    report = output(deployed["apply"])
    assert sorted(report["changed_apps"]) == ["ml-service", "research-api", "web"]
    assert "Secret/appstest-api/research-api-env" in (
        report["apps"]["research-api"]["changed_objects"]
    )
    found = apps.list_deployment_for_all_namespaces(label_selector=SELECTOR).items
    assert sorted(d.metadata.name for d in found) == ["ml-service", "research-api", "web"]
    for dep in found:
        assert dep.status.ready_replicas == dep.spec.replicas >= 1, dep.metadata.name
        labels = dep.metadata.labels
        assert labels["app.kubernetes.io/managed-by"] == "plinth"
        assert labels["plinth.dev/environment"] == "development"
        assert labels["app.kubernetes.io/name"] == dep.metadata.name
    for namespace, name in ((NS_API, "research-api"), (NS_API, "web"), (NS_ML, "ml-service")):
        endpoints = core.read_namespaced_endpoints(name, namespace)
        addresses = [a for s in endpoints.subsets or [] for a in s.addresses or []]
        assert addresses, f"Service {namespace}/{name} has no ready endpoints"
    ns = core.read_namespace(NS_API).metadata.labels
    assert ns["tier"] == "application" and ns["app.kubernetes.io/managed-by"] == "plinth"


def test_deployment_is_hardened_and_targets_its_node_group(
    deployed: Any, apps: client.AppsV1Api
) -> None:
    dep = apps.read_namespaced_deployment("research-api", NS_API)
    assert dep.metadata.labels["plinth.dev/database"] == "main"
    pod = dep.spec.template.spec
    assert pod.node_selector == {"eks.amazonaws.com/nodegroup": "general"}
    assert pod.security_context.run_as_non_root is True
    container = pod.containers[0]
    assert container.security_context.read_only_root_filesystem is True
    assert container.security_context.allow_privilege_escalation is False
    assert container.security_context.capabilities.drop == ["ALL"]
    assert container.readiness_probe.http_get.path == "/ready"
    assert container.liveness_probe.http_get.path == "/health"
    assert container.resources.requests == {"cpu": "250m", "memory": "256Mi"}
    refs = [(e.config_map_ref or e.secret_ref).name for e in container.env_from]
    assert refs == ["research-api-config", "research-api-env"]


def test_tainted_group_app_schedules_only_there(
    deployed: Any, core: client.CoreV1Api, apps: client.AppsV1Api
) -> None:
    dep = apps.read_namespaced_deployment("ml-service", NS_ML)
    tolerations = [(t.key, t.value, t.effect) for t in dep.spec.template.spec.tolerations]
    assert tolerations == [("workload", "ml", "NoSchedule")]
    pods = core.list_namespaced_pod(NS_ML, label_selector="app.kubernetes.io/name=ml-service")
    assert pods.items
    for pod in pods.items:
        node = core.read_node(pod.spec.node_name)
        assert node.metadata.labels["eks.amazonaws.com/nodegroup"] == "ml"
    api_pods = core.list_namespaced_pod(NS_API).items
    assert api_pods and all(p.spec.node_name.startswith("general-") for p in api_pods)


def test_hpa_pdb_ingress_network_policies(deployed: Any, api: client.ApiClient) -> None:
    hpa = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(
        "research-api", NS_API
    )
    assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (2, 5)
    assert hpa.spec.behavior.scale_down.stabilization_window_seconds == 300
    assert hpa.spec.behavior.scale_up.policies
    policy = client.PolicyV1Api(api)
    assert policy.read_namespaced_pod_disruption_budget("research-api", NS_API).spec.min_available
    assert policy.read_namespaced_pod_disruption_budget("web", NS_API).spec.max_unavailable == 1
    ingress = client.NetworkingV1Api(api).read_namespaced_ingress("research-api", NS_API)
    annotations = ingress.metadata.annotations
    assert ingress.spec.ingress_class_name == "alb"
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert ingress.spec.tls[0].hosts == ["api.appstest.example.com"]
    net = client.NetworkingV1Api(api)
    names = {p.metadata.name for p in net.list_namespaced_network_policy(NS_API).items}
    assert names == {"plinth-default-deny", "research-api", "web"}
    deny = net.read_namespaced_network_policy("plinth-default-deny", NS_API)
    assert deny.spec.pod_selector.match_labels is None
    assert sorted(deny.spec.policy_types) == ["Egress", "Ingress"]
    flows = net.read_namespaced_network_policy("ml-service", NS_ML).spec.ingress[0]._from
    assert flows[0].pod_selector.match_labels == {"app.kubernetes.io/name": "research-api"}
    assert flows[0].namespace_selector.match_labels == {"kubernetes.io/metadata.name": NS_API}
    quota = client.CoreV1Api(api).read_namespaced_resource_quota("plinth-quota", NS_API)
    assert int(quota.spec.hard["pods"]) >= 5 + 2 + 3  # research-api at max + surge, web + surge


def test_secret_assembled_from_the_data_layer(
    deployed: Any, core: client.CoreV1Api, emulator: Any
) -> None:
    secret = core.read_namespaced_secret("research-api-env", NS_API)
    data = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
    assert sorted(data) == ["API_SIGNING_KEY", "DATABASE_URL", "REDIS_URL"]
    host = emulator.client("rds").describe_db_instances()["DBInstances"][0]["Endpoint"]["Address"]
    assert data["DATABASE_URL"] == (
        f"postgresql://plinth_admin:{PASSWORD}@{host}:5432/app?sslmode=require"
    )
    assert data["REDIS_URL"].startswith(f"rediss://:{TOKEN}@") and data["REDIS_URL"].endswith(
        ":6379/0"
    )
    assert data["API_SIGNING_KEY"] == SIGNING_KEY
    assert secret.metadata.labels["plinth.dev/database"] == "main"
    _secrets_absent(deployed["apply"])
    _secrets_absent(deployed["rerun"])


def test_irsa_role_for_the_service_account(
    deployed: Any, core: client.CoreV1Api, emulator: Any
) -> None:
    sa = core.read_namespaced_service_account("research-api", NS_API)
    arn = sa.metadata.annotations["eks.amazonaws.com/role-arn"]
    role = emulator.client("iam").get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]
    statement = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    condition = statement["Condition"]["StringEquals"]
    sub = "oidc.eks.us-east-1.amazonaws.com/id/APPSTEST:sub"
    assert condition[sub] == f"system:serviceaccount:{NS_API}:research-api"
    attached = emulator.client("iam").list_attached_role_policies(RoleName=role["RoleName"])
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [POLICY]
    web = core.read_namespaced_service_account("web", NS_API)
    assert not (web.metadata.annotations or {}).get("eks.amazonaws.com/role-arn")


def test_rerun_changes_nothing(deployed: Any) -> None:
    rerun = deployed["rerun"]
    _ok(rerun)
    assert rerun.changed == 0, rerun.changed_tasks()
    assert output(rerun)["changed_apps"] == []


def test_drift_in_the_cluster_is_corrected_and_reported(
    deployed: Any, emulator: Any, kubeconfig: Path, api: client.ApiClient
) -> None:
    """Fields Plinth sets, edited by hand (another field manager), are applied again."""
    core, apps_api = client.CoreV1Api(api), client.AppsV1Api(api)
    net = client.NetworkingV1Api(api)
    core.patch_namespaced_config_map(
        "research-api-config", NS_API, {"data": {"LOG_LEVEL": "debug"}}
    )
    apps_api.patch_namespaced_deployment("ml-service", NS_ML, {"spec": {"revisionHistoryLimit": 9}})
    # Without the managed-by label the policy is no longer in the listing: applied again too.
    net.patch_namespaced_network_policy(
        "web", NS_API, {"metadata": {"labels": {"app.kubernetes.io/managed-by": None}}}
    )
    run = apps_run(emulator, kubeconfig, deployed["tmp_path"], platform())
    _ok(run)
    report = output(run)
    assert report["apps"]["research-api"]["changed_objects"] == [
        "ConfigMap/appstest-api/research-api-config"
    ]
    assert report["apps"]["ml-service"]["changed_objects"] == ["Deployment/appstest-ml/ml-service"]
    assert report["apps"]["web"]["changed_objects"] == ["NetworkPolicy/appstest-api/web"]
    assert core.read_namespaced_config_map("research-api-config", NS_API).data == {
        "LOG_LEVEL": "info"
    }
    assert apps_api.read_namespaced_deployment("ml-service", NS_ML).spec.revision_history_limit == 5
    labels = net.read_namespaced_network_policy("web", NS_API).metadata.labels
    assert labels["app.kubernetes.io/managed-by"] == "plinth"
    _secrets_absent(run)


def test_keys_removed_from_the_config_are_removed_from_the_cluster(
    deployed: Any, emulator: Any, kubeconfig: Path, core: client.CoreV1Api
) -> None:
    tmp_path = deployed["tmp_path"]
    more = _apps()
    more[0]["env"]["FEATURE_X"] = "on"
    more[0]["namespace_labels"]["team"] = "research"
    _ok(apps_run(emulator, kubeconfig, tmp_path, platform(more)))
    assert core.read_namespaced_config_map("research-api-config", NS_API).data["FEATURE_X"] == "on"
    assert core.read_namespace(NS_API).metadata.labels["team"] == "research"

    # The entries dropped from the config: the desired objects are a subset of the live ones.
    run = apps_run(emulator, kubeconfig, tmp_path, platform())
    _ok(run)
    report = output(run)
    assert "ConfigMap/appstest-api/research-api-config" in (
        report["apps"]["research-api"]["changed_objects"]
    )
    assert f"Namespace/{NS_API}" in report["namespace_objects_changed"]
    assert core.read_namespaced_config_map("research-api-config", NS_API).data == {
        "LOG_LEVEL": "info"
    }
    assert "team" not in core.read_namespace(NS_API).metadata.labels

    rerun = apps_run(emulator, kubeconfig, tmp_path, platform())
    _ok(rerun)
    assert rerun.changed == 0, rerun.changed_tasks()
    assert output(rerun)["changed_apps"] == []


def test_image_change_changes_only_that_app(
    deployed: Any, emulator: Any, kubeconfig: Path, apps: client.AppsV1Api
) -> None:
    tmp_path = deployed["tmp_path"]
    changed = _apps()
    changed[1]["image"] = IMAGE.format("web").replace("1.0.0", "1.1.0")
    before = {
        d.metadata.name: d.metadata.resource_version
        for d in apps.list_deployment_for_all_namespaces(label_selector=SELECTOR).items
    }
    check = apps_run(emulator, kubeconfig, tmp_path, platform(changed), check=True)
    _ok(check)
    assert output(check)["changed_apps"] == ["web"]
    assert output(check)["apps"]["web"]["changed_objects"] == ["Deployment/appstest-api/web"]
    dep = apps.read_namespaced_deployment("web", NS_API)
    assert dep.spec.template.spec.containers[0].image == IMAGE.format("web"), "check applied"

    run = apps_run(emulator, kubeconfig, tmp_path, platform(changed))
    _ok(run)
    assert output(run)["changed_apps"] == ["web"]
    after = {
        d.metadata.name: d
        for d in apps.list_deployment_for_all_namespaces(label_selector=SELECTOR).items
    }
    assert after["web"].spec.template.spec.containers[0].image.endswith(":1.1.0")
    assert after["web"].status.ready_replicas == 2
    for name in ("research-api", "ml-service"):
        assert after[name].metadata.resource_version == before[name], f"{name} was touched"


def test_removed_app_is_pruned_only_on_opt_in(
    deployed: Any, emulator: Any, kubeconfig: Path, apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    tmp_path = deployed["tmp_path"]
    remaining = [a for a in _apps() if a["name"] != "ml-service"]
    kept = apps_run(emulator, kubeconfig, tmp_path, platform(remaining))
    _ok(kept)
    assert exists(lambda: apps.read_namespaced_deployment("ml-service", NS_ML))

    pruned = apps_run(emulator, kubeconfig, tmp_path, platform(remaining, apps_prune=True))
    _ok(pruned)
    gone = output(pruned)["pruned"]
    assert "Deployment/appstest-ml/ml-service" in gone
    assert "Secret/appstest-ml/ml-service-env" in gone
    assert not exists(lambda: apps.read_namespaced_deployment("ml-service", NS_ML))
    assert not exists(lambda: core.read_namespaced_secret("ml-service-env", NS_ML))
    assert exists(lambda: apps.read_namespaced_deployment("research-api", NS_API))
    _secrets_absent(pruned)


@pytest.mark.parametrize(
    ("patch", "path", "fragment"),
    [
        ({"name": "web"}, "platform.apps[1].name", "is a duplicate of platform.apps[0]"),
        ({"image": "Research-API:latest!"}, "platform.apps[0].image", "is not an image reference"),
        ({"image": "research-api"}, "platform.apps[0].image", "has no tag or digest"),
        ({"replicas": -1}, "platform.apps[0].replicas", "out of range"),
        ({"node_group": "batch"}, "platform.apps[0].node_group", "is not a node group"),
    ],
)
def test_bad_apps_are_refused_before_anything_is_applied(
    emulator: Any,
    kubeconfig: Path,
    core: client.CoreV1Api,
    tmp_path: Path,
    patch: dict[str, Any],
    path: str,
    fragment: str,
) -> None:
    bad = _apps()
    bad[0]["namespace"] = "appstest-refused"
    bad[0].update(patch)
    emulator.clear_recording()
    run = apps_run(emulator, kubeconfig, tmp_path, platform(bad))
    assert run.rc != 0
    messages = "\n".join(run.failure_messages())
    assert path in messages and fragment in messages, messages
    assert emulator.recorded_requests() == [], "a bad config must fail before any AWS call"
    assert not _namespace_exists(core, "appstest-refused")
    assert not any(t["name"].startswith("plinth.platform.apps") for t in run.tasks)
