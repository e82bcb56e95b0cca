#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)
# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eks_cluster
version_added: 0.1.0
short_description: Manage an Amazon EKS cluster with endpoint access, logging and encryption
description:
  - Create, update and delete an Amazon EKS cluster (control plane).
  - Unlike M(community.aws.eks_cluster), which creates a cluster with EKS's defaults and never
    changes an existing one, this module manages the API endpoint's private and public access
    (and the CIDRs allowed to reach the public endpoint), the control-plane log types, envelope
    encryption of Kubernetes secrets with a KMS key, the Kubernetes version and tags, and
    updates an existing cluster to match.
  - EKS accepts one configuration update at a time; when several are needed, the module waits
    for the cluster to be C(ACTIVE) again between them (botocore C(cluster_active) waiter).
author: Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - Name of the cluster.
    required: true
    type: str
  version:
    description:
      - Kubernetes version (C(1.N)).
      - On creation, EKS's default version is used when omitted.
      - A higher version than the cluster's upgrades the control plane with
        C(UpdateClusterVersion); EKS upgrades one minor version at a time. A lower version fails.
    type: str
  role_arn:
    description:
      - ARN of the IAM role the control plane assumes. Required to create a cluster; cannot be
        changed afterwards.
    type: str
  subnets:
    description:
      - IDs of the subnets for the control plane's network interfaces (at least two AZs).
      - Required to create a cluster. A different set for an existing cluster fails; the module
        does not move a cluster between subnets.
    type: list
    elements: str
  security_groups:
    description:
      - IDs of additional security groups for the control plane's network interfaces (EKS also
        creates and attaches its own cluster security group).
      - A different set for an existing cluster fails; when omitted, they are not compared.
    type: list
    elements: str
  endpoint_private_access:
    description:
      - Whether the API server endpoint is reachable from within the VPC.
    type: bool
    default: true
  endpoint_public_access:
    description:
      - Whether the API server endpoint is reachable from the internet.
    type: bool
    default: false
  public_access_cidrs:
    description:
      - CIDRs allowed to reach the public endpoint; only used when O(endpoint_public_access=true).
    type: list
    elements: str
    default: ["0.0.0.0/0"]
  log_types:
    description:
      - Control-plane log types sent to CloudWatch Logs; every other type is disabled, so an
        empty list disables control-plane logging.
      - When omitted, EKS's default (no logs) applies on creation and the logging of an existing
        cluster is left as it is.
    type: list
    elements: str
    choices: [api, audit, authenticator, controllerManager, scheduler]
  encryption_key_arn:
    description:
      - ARN of the KMS key that encrypts Kubernetes secrets (envelope encryption).
      - Encryption is enabled on an existing cluster with C(AssociateEncryptionConfig). EKS can
        neither disable it nor change the key, so a different key fails, and omitting the
        option leaves an encrypted cluster as it is.
    type: str
  state:
    description:
      - Whether the cluster should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait for the cluster to be C(ACTIVE) after creation or update (C(cluster_active)
        waiter), or to be gone after deletion (C(cluster_deleted) waiter).
      - Fields such as the endpoint, the certificate authority and the OIDC issuer are only
        returned once the cluster is active.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait when waiting.
    type: int
    default: 1800
notes:
  - The embedded moto emulator does not implement C(UpdateClusterVersion) and
    C(AssociateEncryptionConfig); upgrading the version and encrypting an existing cluster are
    tested with botocore stubs. moto's C(UpdateClusterConfig) replaces the whole
    C(resourcesVpcConfig) with the endpoint settings it is sent, so after an endpoint update the
    emulator reports no subnets or security groups; the module compares them only when EKS
    reports them.
  - O(purge_tags=true) never removes tags whose key starts with C(aws:).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Private cluster with audited control plane and encrypted secrets
  plinth.platform.eks_cluster:
    name: shop-production
    version: "1.33"
    role_arn: arn:aws:iam::123456789012:role/shop-production-eks-cluster
    subnets: [subnet-0a1, subnet-0b2, subnet-0c3]
    security_groups: [sg-0123456789abcdef0]
    endpoint_private_access: true
    endpoint_public_access: true
    public_access_cidrs: [203.0.113.0/24]
    log_types: [api, audit, authenticator]
    encryption_key_arn: arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-0000-0000-000000000000
    tags:
      Environment: production
    wait: true

- name: Remove the cluster (its node groups must be gone first)
  plinth.platform.eks_cluster:
    name: shop-production
    state: absent
    wait: true
"""

RETURN = r"""
cluster:
  description: The cluster as EKS describes it (keys snake-cased, tag keys as given); empty when
    it does not exist or is only about to be created in check mode.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the cluster.
      type: str
      sample: shop-production
    arn:
      description: ARN of the cluster.
      type: str
      sample: arn:aws:eks:eu-west-1:123456789012:cluster/shop-production
    status:
      description: C(CREATING), C(ACTIVE), C(UPDATING), C(DELETING) or C(FAILED).
      type: str
      sample: ACTIVE
    version:
      description: Kubernetes version.
      type: str
      sample: "1.33"
    endpoint:
      description: URL of the API server (once active).
      type: str
      sample: https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com
    certificate_authority:
      description: The cluster's certificate authority; C(data) is its base64 PEM certificate.
      type: dict
    identity:
      description: The cluster's identity provider; C(oidc.issuer) is the IRSA issuer URL.
      type: dict
    resources_vpc_config:
      description: Subnets, security groups (incl. C(cluster_security_group_id)) and endpoint
        access.
      type: dict
    logging:
      description: Control-plane logging configuration.
      type: dict
    encryption_config:
      description: Envelope encryption configuration.
      type: list
      elements: dict
    role_arn:
      description: The control plane's IAM role.
      type: str
    tags:
      description: Tags of the cluster.
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.plinth.platform.plugins.module_utils.eks import EksResourceManager
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def enabled_log_types(cluster: dict) -> list[str]:
    enabled = set()
    for entry in (cluster.get("logging") or {}).get("clusterLogging") or []:
        if entry.get("enabled"):
            enabled.update(entry.get("types") or [])
    return sorted(enabled)


def secrets_key_arn(cluster: dict) -> str | None:
    for entry in cluster.get("encryptionConfig") or []:
        if "secrets" in (entry.get("resources") or []):
            return (entry.get("provider") or {}).get("keyArn")
    return None


class EksClusterManager(EksResourceManager):
    kind = "cluster"
    result_key = "cluster"
    waiter_prefix = "cluster"

    def identifiers(self) -> dict:
        return {"name": self.name}

    def describe_call(self) -> dict:
        return self.client.describe_cluster(name=self.name, aws_retry=True)["cluster"]

    def delete_call(self) -> None:
        self.client.delete_cluster(name=self.name, aws_retry=True)

    def wanted_access(self) -> dict:
        public = self.params["endpoint_public_access"]
        return {
            "endpoint_private_access": self.params["endpoint_private_access"],
            "endpoint_public_access": public,
            "public_access_cidrs": sorted(self.params["public_access_cidrs"]) if public else [],
        }

    @staticmethod
    def current_access(cluster: dict) -> dict:
        vpc = cluster.get("resourcesVpcConfig") or {}
        public = bool(vpc.get("endpointPublicAccess"))
        return {
            "endpoint_private_access": bool(vpc.get("endpointPrivateAccess")),
            "endpoint_public_access": public,
            # EKS keeps reporting the CIDRs of a disabled public endpoint; they mean nothing then.
            "public_access_cidrs": sorted(vpc.get("publicAccessCidrs") or []) if public else [],
        }

    def view(self, cluster: dict) -> dict:
        vpc = cluster.get("resourcesVpcConfig") or {}
        return {
            "version": cluster.get("version"),
            "role_arn": cluster.get("roleArn"),
            "subnets": sorted(vpc.get("subnetIds") or []),
            "security_groups": sorted(vpc.get("securityGroupIds") or []),
            **self.current_access(cluster),
            "log_types": enabled_log_types(cluster),
            "encryption_key_arn": secrets_key_arn(cluster),
            "tags": cluster.get("tags") or {},
        }

    def create(self) -> None:
        params = self.params
        self.require_for_create("role_arn", "subnets")
        access = self.wanted_access()
        vpc_config = {
            "subnetIds": params["subnets"],
            "securityGroupIds": params["security_groups"] or [],
            "endpointPrivateAccess": access["endpoint_private_access"],
            "endpointPublicAccess": access["endpoint_public_access"],
        }
        if access["endpoint_public_access"]:
            vpc_config["publicAccessCidrs"] = params["public_access_cidrs"]
        request = {
            "name": self.name,
            "roleArn": params["role_arn"],
            "resourcesVpcConfig": vpc_config,
        }
        if params["log_types"] is not None:
            request["logging"] = self.logging_request()
        if params["version"]:
            request["version"] = params["version"]
        if params["encryption_key_arn"]:
            request["encryptionConfig"] = [
                {"resources": ["secrets"], "provider": {"keyArn": params["encryption_key_arn"]}}
            ]
        if params["tags"]:
            request["tags"] = params["tags"]

        self.changed = True
        self.diff["after"] = {
            "version": params["version"],
            "role_arn": params["role_arn"],
            "subnets": sorted(params["subnets"]),
            "security_groups": sorted(params["security_groups"] or []),
            **access,
            "log_types": sorted(params["log_types"] or []),
            "encryption_key_arn": params["encryption_key_arn"],
            "tags": params["tags"] or {},
        }
        if self.module.check_mode:
            self.exit(None)
        self.client.create_cluster(aws_retry=True, **request)
        if params["wait"]:
            self.wait("active")
        self.exit(self.describe())

    def logging_request(self) -> dict:
        """The whole logging configuration: the wanted types enabled, every other one disabled."""
        enabled = [t for t in LOG_TYPES if t in self.params["log_types"]]
        disabled = [t for t in LOG_TYPES if t not in self.params["log_types"]]
        entries = []
        if enabled:
            entries.append({"types": enabled, "enabled": True})
        if disabled:
            entries.append({"types": disabled, "enabled": False})
        return {"clusterLogging": entries}

    def check_immutable(self, before: dict) -> None:
        params = self.params
        problems = []
        if params["role_arn"] and params["role_arn"] != before["role_arn"]:
            problems.append(f"role_arn ({before['role_arn']} -> {params['role_arn']})")
        # EKS always reports the subnets and security groups; compare only what it reports.
        if (
            before["subnets"]
            and params["subnets"]
            and sorted(params["subnets"]) != before["subnets"]
        ):
            problems.append(f"subnets ({before['subnets']} -> {sorted(params['subnets'])})")
        wanted_groups = sorted(params["security_groups"] or [])
        if (
            params["security_groups"] is not None
            and before["security_groups"]
            and wanted_groups != before["security_groups"]
        ):
            problems.append(f"security_groups ({before['security_groups']} -> {wanted_groups})")
        key = params["encryption_key_arn"]
        if key and before["encryption_key_arn"] and key != before["encryption_key_arn"]:
            problems.append(f"encryption_key_arn ({before['encryption_key_arn']} -> {key})")
        version = params["version"]
        if (
            version
            and before["version"]
            and _version_tuple(version) < _version_tuple(before["version"])
        ):
            problems.append(f"version ({before['version']} -> {version}: EKS cannot downgrade)")
        self.refuse_immutable(problems)

    def update(self, cluster: dict) -> None:
        params = self.params
        before = self.view(cluster)
        self.check_immutable(before)
        after = dict(before)
        steps = []

        access = self.wanted_access()
        if any(access[key] != before[key] for key in access):
            vpc_config = {
                "endpointPrivateAccess": access["endpoint_private_access"],
                "endpointPublicAccess": access["endpoint_public_access"],
            }
            if access["endpoint_public_access"]:
                vpc_config["publicAccessCidrs"] = params["public_access_cidrs"]
            after.update(access)
            steps.append(
                lambda: self.client.update_cluster_config(
                    name=self.name, resourcesVpcConfig=vpc_config, aws_retry=True
                )
            )
        if params["log_types"] is not None and sorted(params["log_types"]) != before["log_types"]:
            after["log_types"] = sorted(params["log_types"])
            steps.append(
                lambda: self.client.update_cluster_config(
                    name=self.name, logging=self.logging_request(), aws_retry=True
                )
            )
        key = params["encryption_key_arn"]
        if key and not before["encryption_key_arn"]:
            after["encryption_key_arn"] = key
            steps.append(
                lambda: self.client.associate_encryption_config(
                    clusterName=self.name,
                    encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": key}}],
                    aws_retry=True,
                )
            )
        version = params["version"]
        if version and version != before["version"]:
            after["version"] = version
            steps.append(
                lambda: self.client.update_cluster_version(
                    name=self.name, version=version, aws_retry=True
                )
            )

        tags_to_set, tags_to_unset, after["tags"] = self.tag_changes(before["tags"])

        self.changed = bool(steps or tags_to_set or tags_to_unset)
        self.diff = {"before": before, "after": after}
        if self.module.check_mode:
            self.exit(cluster)

        self.apply_tags(cluster["arn"], tags_to_set, tags_to_unset)
        for index, step in enumerate(steps):
            # EKS rejects an update while another one is in progress.
            if index or cluster["status"] != "ACTIVE":
                self.wait("active")
            step()
        if params["wait"] and (steps or cluster["status"] != "ACTIVE"):
            self.wait("active")
        self.exit(self.describe())


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        version=dict(type="str"),
        role_arn=dict(type="str"),
        subnets=dict(type="list", elements="str"),
        security_groups=dict(type="list", elements="str"),
        endpoint_private_access=dict(type="bool", default=True),
        endpoint_public_access=dict(type="bool", default=False),
        public_access_cidrs=dict(type="list", elements="str", default=["0.0.0.0/0"]),
        log_types=dict(type="list", elements="str", choices=LOG_TYPES),
        encryption_key_arn=dict(type="str", no_log=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1800),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not (module.params["endpoint_private_access"] or module.params["endpoint_public_access"]):
        module.fail_json(msg="endpoint_private_access or endpoint_public_access must be true")

    run_manager(module, EksClusterManager(module), f"EKS cluster {module.params['name']}")


if __name__ == "__main__":
    main()
