"""The EKS layer end to end against the embedded AWS: check mode on an empty account, apply on
top of the network layer, rerun, the resulting cluster, node groups, launch templates, roles,
key and OIDC provider, the inventory's or a written kubeconfig, changes applied in place,
removal, and bad EKS configs refused before any call.

The emulator has no EKS add-on API, so the config sets ``eks.addons: []`` (as the local inventory
does); plinth.platform.eks_addon is covered by its unit tests.
"""

from __future__ import annotations

import copy
import importlib.util
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import run_playbook

ROOT = Path(__file__).resolve().parents[2]
LOCAL = yaml.safe_load((ROOT / "inventories/local/group_vars/all/platform.yml").read_text())[
    "platform"
]
PREFIX = f"{LOCAL['name']}-{LOCAL['environment']}"
PUBLIC_CIDRS = ["203.0.113.0/24"]
LOG_TYPES = ["api", "audit", "authenticator"]


def _unit_config_cases() -> Any:
    """The unit tests' valid config, bad-config cases and patch helper: one source of truth."""
    path = ROOT / "tests/unit/plugins/module_utils/test_config.py"
    spec = importlib.util.spec_from_file_location("plinth_test_config_cases_eks", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CASES = _unit_config_cases()
EKS_CASES = [c for c in CASES.BAD_CONFIGS if c["path"].startswith("platform.eks")]


def _config() -> dict[str, Any]:
    config = copy.deepcopy(LOCAL)
    config["eks"] = dict(
        config["eks"],
        addons=[],
        endpoint_public_access=True,
        public_access_cidrs=PUBLIC_CIDRS,
        log_types=LOG_TYPES,
    )
    return config


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def _output(run: Any) -> dict[str, Any]:
    return run.result("Publish the EKS layer's output")["ansible_facts"]["eks__output"]


def _eks_state(aws: Any) -> dict[str, Any]:
    eks, iam, ec2 = aws.client("eks"), aws.client("iam"), aws.client("ec2")
    roles = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{PREFIX}-eks-")]
    templates = [
        t
        for t in ec2.describe_launch_templates()["LaunchTemplates"]
        if t["LaunchTemplateName"].startswith(f"{PREFIX}-")
    ]
    aliases = [
        a
        for a in aws.client("kms").list_aliases()["Aliases"]
        if a["AliasName"] == f"alias/{PREFIX}-eks-secrets"
    ]
    return {
        "clusters": eks.list_clusters()["clusters"],
        "roles": sorted(r["RoleName"] for r in roles),
        "templates": templates,
        "aliases": aliases,
        "oidc": iam.list_open_id_connect_providers()["OpenIDConnectProviderList"],
    }


def test_check_apply_rerun_remove(aws: Any, tmp_path: Path) -> None:
    config = _config()
    env = {"PLINTH_STATE_DIR": str(tmp_path / "state")}
    run = dict(endpoint_port=aws.port, platform=config, tmp_path=tmp_path, env=env)

    check = run_playbook("eks.yml", check=True, **run)
    assert check.rc == 0, check.failure_messages() or check.stderr
    assert check.changed > 0, "check mode on an empty account must report what it would create"
    changed = " ".join(check.changed_tasks())
    for task in ("Ensure the cluster and node IAM roles", "Ensure the EKS cluster"):
        assert task in changed, changed
    assert aws.write_calls() == [], "check mode must not write"
    assert _eks_state(aws)["clusters"] == []

    network = run_playbook("network.yml", **run)
    assert network.rc == 0, network.failure_messages() or network.stderr
    ec2 = aws.client("ec2")
    stack = [{"Name": "tag:plinth:stack", "Values": [PREFIX]}]
    private = {
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=stack)["Subnets"]
        if _tags(s)["plinth:tier"] == "private"
    }
    (nodes_sg,) = [
        g["GroupId"]
        for g in ec2.describe_security_groups(Filters=stack)["SecurityGroups"]
        if _tags(g)["plinth:role"] == "nodes"
    ]

    apply = run_playbook("eks.yml", **run)
    assert apply.rc == 0, apply.failure_messages() or apply.stderr
    output = _output(apply)

    eks, iam = aws.client("eks"), aws.client("iam")
    cluster = eks.describe_cluster(name=PREFIX)["cluster"]
    assert cluster["version"] == config["eks"]["version"]
    vpc = cluster["resourcesVpcConfig"]
    assert set(vpc["subnetIds"]) == private, "the control plane lives in the private subnets"
    assert vpc["securityGroupIds"] == [nodes_sg]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == PUBLIC_CIDRS
    enabled = {t for e in cluster["logging"]["clusterLogging"] if e["enabled"] for t in e["types"]}
    assert enabled == set(LOG_TYPES)
    ((encryption),) = cluster["encryptionConfig"]
    assert encryption["resources"] == ["secrets"]
    key = aws.client("kms").describe_key(KeyId=encryption["provider"]["keyArn"])["KeyMetadata"]
    assert key["KeyState"] == "Enabled"
    assert aws.client("kms").get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    assert cluster["roleArn"] == output["cluster_role_arn"]
    assert cluster["tags"]["plinth:stack"] == PREFIX

    cluster_role = iam.list_attached_role_policies(RoleName=f"{PREFIX}-eks-cluster")
    assert [p["PolicyName"] for p in cluster_role["AttachedPolicies"]] == ["AmazonEKSClusterPolicy"]
    node_role = iam.list_attached_role_policies(RoleName=f"{PREFIX}-eks-node")
    assert sorted(p["PolicyName"] for p in node_role["AttachedPolicies"]) == [
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
    ]
    trust = iam.get_role(RoleName=f"{PREFIX}-eks-node")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}

    groups = {g["name"]: g for g in config["eks"]["node_groups"]}
    assert sorted(eks.list_nodegroups(clusterName=PREFIX)["nodegroups"]) == sorted(groups)
    assert sorted(output["node_group_names"]) == sorted(groups)
    for name, wanted in groups.items():
        group = eks.describe_nodegroup(clusterName=PREFIX, nodegroupName=name)["nodegroup"]
        assert group["capacityType"] == wanted["capacity_type"]
        assert group["instanceTypes"] == wanted["instance_types"]
        assert group["amiType"] == wanted.get("ami_type", "AL2023_x86_64_STANDARD")
        assert group["scalingConfig"] == {
            "minSize": wanted["min_size"],
            "desiredSize": wanted["desired_size"],
            "maxSize": wanted["max_size"],
        }
        assert group["labels"] == wanted["labels"]
        assert group["taints"] == [dict(t) for t in wanted.get("taints", [])]
        assert set(group["subnets"]) == private
        assert group["nodeRole"] == output["node_role_arn"]
        template = ec2.describe_launch_template_versions(
            LaunchTemplateName=f"{PREFIX}-{name}", Versions=[group["launchTemplate"]["version"]]
        )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        assert template["MetadataOptions"]["HttpTokens"] == "required"
        assert template["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
        assert template["SecurityGroupIds"] == [nodes_sg]
        (launch_template,) = ec2.describe_launch_templates(
            LaunchTemplateNames=[f"{PREFIX}-{name}"]
        )["LaunchTemplates"]
        assert _tags(launch_template)["plinth:stack"] == PREFIX
        (volume,) = template["BlockDeviceMappings"]
        assert volume["Ebs"]["Encrypted"] is True and volume["Ebs"]["VolumeSize"] == 50
    gpu = eks.describe_nodegroup(clusterName=PREFIX, nodegroupName="gpu")["nodegroup"]
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"

    issuer = cluster["identity"]["oidc"]["issuer"]
    assert output["oidc_issuer"] == issuer
    provider = iam.get_open_id_connect_provider(
        OpenIDConnectProviderArn=output["oidc_provider_arn"]
    )
    assert provider["Url"] == issuer.removeprefix("https://")
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]

    assert output["cluster_name"] == PREFIX and output["cluster_arn"] == cluster["arn"]
    assert output["endpoint"] == cluster["endpoint"]
    assert output["certificate_authority_data"] == cluster["certificateAuthority"]["data"]
    # The local inventory has its own API server (KWOK): the layer hands its kubeconfig over.
    assert output["kubeconfig"] == str(tmp_path / "state" / "kube" / "kubeconfig")
    kubeconfig = tmp_path / "state" / f"{PREFIX}.kubeconfig"
    assert not kubeconfig.exists()

    rerun = run_playbook("eks.yml", **run)
    assert rerun.rc == 0, rerun.failure_messages() or rerun.stderr
    assert rerun.changed == 0, f"rerun changed: {rerun.changed_tasks()}"

    # Without one (a real account), it writes a kubeconfig from the endpoint and CA.
    own = dict(run, extra_vars={"plinth_eks_kubeconfig": ""})
    written_run = run_playbook("eks.yml", **own)
    assert written_run.rc == 0, written_run.failure_messages()
    assert "plinth.platform.eks : Write the kubeconfig" in written_run.changed_tasks()
    assert _output(written_run)["kubeconfig"] == str(kubeconfig)
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    written = yaml.safe_load(kubeconfig.read_text())
    assert written["clusters"][0]["cluster"]["server"] == cluster["endpoint"]
    assert written["clusters"][0]["cluster"]["certificate-authority-data"] == (
        cluster["certificateAuthority"]["data"]
    )
    user = written["users"][0]["user"]
    assert "token" not in user, "the kubeconfig authenticates with aws eks get-token only"
    assert user["exec"]["args"][2:6] == ["eks", "get-token", "--cluster-name", PREFIX]
    written_again = run_playbook("eks.yml", **own)
    assert written_again.rc == 0 and written_again.changed == 0, written_again.changed_tasks()

    # Changed config is applied in place: cluster logging and endpoint access, node group scaling,
    # labels, taints and update config (UpdateClusterConfig / UpdateNodegroupConfig).
    changed_config = copy.deepcopy(config)
    changed_config["eks"]["log_types"] = ["api", "audit"]
    changed_config["eks"]["endpoint_public_access"] = False
    ml = next(g for g in changed_config["eks"]["node_groups"] if g["name"] == "ml")
    ml.update(desired_size=2, max_unavailable=2, labels={"workload": "ml", "tier": "batch"})
    ml["taints"] = [{"key": "workload", "value": "batch", "effect": "NO_EXECUTE"}]
    # A node group dropped from the config is removed, with its launch template.
    changed_config["eks"]["node_groups"] = [
        g for g in changed_config["eks"]["node_groups"] if g["name"] != "gpu"
    ]
    changed_run = dict(run, platform=changed_config)
    update = run_playbook("eks.yml", **changed_run)
    assert update.rc == 0, update.failure_messages() or update.stderr
    assert sorted(update.changed_tasks()) == [
        "plinth.platform.eks : Ensure the EKS cluster",
        "plinth.platform.eks : Ensure the managed node groups",
        "plinth.platform.eks : Remove the launch templates of node groups no longer configured",
    ], update.changed_tasks()
    assert sorted(eks.list_nodegroups(clusterName=PREFIX)["nodegroups"]) == ["general", "ml"]
    assert f"{PREFIX}-gpu" not in [t["LaunchTemplateName"] for t in _eks_state(aws)["templates"]]
    cluster = eks.describe_cluster(name=PREFIX)["cluster"]
    assert cluster["resourcesVpcConfig"]["endpointPublicAccess"] is False
    enabled = {t for e in cluster["logging"]["clusterLogging"] if e["enabled"] for t in e["types"]}
    assert enabled == {"api", "audit"}
    group = eks.describe_nodegroup(clusterName=PREFIX, nodegroupName="ml")["nodegroup"]
    assert group["scalingConfig"]["desiredSize"] == 2
    assert group["labels"] == {"workload": "ml", "tier": "batch"}
    assert group["taints"] == [{"key": "workload", "value": "batch", "effect": "NO_EXECUTE"}]
    assert group["updateConfig"] == {"maxUnavailable": 2}
    settled = run_playbook("eks.yml", **changed_run)
    assert settled.rc == 0, settled.failure_messages()
    assert settled.changed == 0, settled.changed_tasks()

    remove = run_playbook(
        "eks.yml", **dict(run, extra_vars={"eks_state": "absent", "plinth_eks_kubeconfig": ""})
    )
    assert remove.rc == 0, remove.failure_messages() or remove.stderr
    after = _eks_state(aws)
    assert after["clusters"] == [] and after["roles"] == [] and after["templates"] == []
    assert after["oidc"] == []
    (alias,) = after["aliases"]
    pending = aws.client("kms").describe_key(KeyId=alias["TargetKeyId"])["KeyMetadata"]
    assert pending["KeyState"] == "PendingDeletion"
    assert not kubeconfig.exists(), "the written kubeconfig goes with the cluster"

    again = run_playbook("eks.yml", extra_vars={"eks_state": "absent"}, **run)
    assert again.rc == 0, again.failure_messages()
    assert again.changed == 0, again.changed_tasks()

    teardown = run_playbook("teardown.yml", **run)
    assert teardown.rc == 0, teardown.failure_messages() or teardown.stderr


@pytest.mark.parametrize("case", EKS_CASES[:6], ids=[c["description"] for c in EKS_CASES[:6]])
def test_bad_eks_config_fails_before_any_aws_call(
    aws: Any, case: dict[str, Any], tmp_path: Path
) -> None:
    config = CASES.apply_patch(CASES.VALID, case)
    run = run_playbook("eks.yml", endpoint_port=aws.port, platform=config, tmp_path=tmp_path)
    assert run.rc != 0
    messages = "\n".join(run.failure_messages())
    assert case["path"] in messages and case["match"] in messages, messages
    assert aws.recorded_requests() == [], "validation must fail before any AWS call"
