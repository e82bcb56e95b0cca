#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_addon
version_added: 0.1.0
short_description: Manage an Amazon EKS add-on
description:
  - Create, update and delete an add-on (for example C(vpc-cni), C(coredns), C(kube-proxy),
    C(aws-ebs-csi-driver)) on an Amazon EKS cluster.
  - An existing add-on is updated with a single C(UpdateAddon) call, and only when its version,
    service account role, configuration values or pod identity associations differ from the
    requested ones. Tags are reconciled separately.
author: Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - Name of the add-on, as listed by C(aws eks describe-addon-versions).
    required: true
    type: str
    aliases: [addon_name]
  addon_version:
    description:
      - Version of the add-on, for example C(v1.18.3-eksbuild.1).
      - When omitted on creation, the default version for the cluster's Kubernetes version (as
        reported by C(DescribeAddonVersions)) is installed.
      - When omitted for an existing add-on, its version is left as it is.
    type: str
  service_account_role_arn:
    description:
      - ARN of the IAM role the add-on's service account assumes (IAM roles for service accounts).
      - When omitted, the current role of an existing add-on is left as it is.
    type: str
  configuration_values:
    description:
      - Configuration values for the add-on, as a dictionary or as a JSON (or YAML) string.
      - Compared semantically, so a dictionary and a JSON string with the same content are equal,
        whatever their key order or whitespace. YAML text is compared verbatim.
      - An empty dictionary removes any custom configuration.
      - When omitted, the current configuration of an existing add-on is left as it is.
    type: raw
  resolve_conflicts:
    description:
      - How EKS resolves conflicts between the add-on's settings and fields changed in the
        cluster by other means, on creation and on update.
      - When omitted, the EKS default (V(NONE)) applies.
    type: str
    choices: [NONE, OVERWRITE, PRESERVE]
  pod_identity_associations:
    description:
      - EKS Pod Identity associations owned by the add-on, as an alternative to
        O(service_account_role_arn).
      - The list is the complete set; an empty list removes the add-on's associations.
      - When omitted, the associations of an existing add-on are left as they are.
    type: list
    elements: dict
    suboptions:
      service_account:
        description: Name of the Kubernetes service account, in the add-on's namespace.
        type: str
        required: true
      role_arn:
        description: ARN of the IAM role associated with the service account.
        type: str
        required: true
  preserve:
    description:
      - When O(state=absent), leave the add-on's Kubernetes resources on the cluster and only
        stop EKS managing them.
    type: bool
    default: false
  state:
    description:
      - Whether the add-on should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait for the add-on to become C(ACTIVE) after creation or update, or to be gone after
        deletion, using the botocore C(addon_active) and C(addon_deleted) waiters.
      - The C(addon_active) waiter fails as soon as the add-on is C(DEGRADED), which is what
        add-ons such as C(coredns) report on a cluster without nodes.
      - An add-on that is still being created or updated is always waited for before it is
        updated, because EKS rejects updates in that state.
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait when waiting.
    type: int
    default: 1200
notes:
  - The embedded moto emulator does not implement the EKS add-on API (C(CreateAddon),
    C(DescribeAddon), C(ListAddons), C(DescribeAddonVersions) and C(DeleteAddon) fail with
    C(404 Not yet implemented)); the module is tested with botocore stubs, and playbooks run
    against the emulator cannot use it.
  - O(purge_tags=true) never removes tags whose key starts with C(aws:).
extends_documentation_fragment:
  - plinth.platform.eks
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Install the VPC CNI at the cluster's default version, with an IRSA role
  plinth.platform.eks_addon:
    cluster_name: prod
    name: vpc-cni
    service_account_role_arn: arn:aws:iam::123456789012:role/prod-vpc-cni
    configuration_values:
      env:
        ENABLE_PREFIX_DELEGATION: "true"
    resolve_conflicts: OVERWRITE
    wait: true
    tags:
      team: platform

- name: Pin CoreDNS to a version
  plinth.platform.eks_addon:
    cluster_name: prod
    name: coredns
    addon_version: v1.11.3-eksbuild.2

- name: EBS CSI driver with EKS Pod Identity
  plinth.platform.eks_addon:
    cluster_name: prod
    name: aws-ebs-csi-driver
    pod_identity_associations:
      - service_account: ebs-csi-controller-sa
        role_arn: arn:aws:iam::123456789012:role/prod-ebs-csi

- name: Stop managing kube-proxy but keep it running
  plinth.platform.eks_addon:
    cluster_name: prod
    name: kube-proxy
    state: absent
    preserve: true
"""

RETURN = r"""
addon:
  description:
    - The add-on as EKS describes it, snake-cased (tag keys are left as they are).
    - Empty when O(state=absent), and in check mode when the add-on would be created.
  returned: always
  type: dict
  contains:
    addon_name:
      description: Name of the add-on.
      type: str
      sample: vpc-cni
    addon_arn:
      description: ARN of the add-on.
      type: str
      sample: arn:aws:eks:eu-west-1:123456789012:addon/prod/vpc-cni/a1b2c3d4-0000-1111-2222-3333
    addon_version:
      description: Installed version.
      type: str
      sample: v1.18.3-eksbuild.1
    cluster_name:
      description: Name of the cluster.
      type: str
      sample: prod
    status:
      description: C(CREATING), C(ACTIVE), C(CREATE_FAILED), C(UPDATING), C(DELETING),
        C(DELETE_FAILED), C(DEGRADED) or C(UPDATE_FAILED).
      type: str
      sample: ACTIVE
    health:
      description: Health issues reported by EKS.
      type: dict
      sample: {"issues": []}
    service_account_role_arn:
      description: IAM role of the add-on's service account, when set.
      type: str
      sample: arn:aws:iam::123456789012:role/prod-vpc-cni
    configuration_values:
      description: Configuration values, as the string EKS stores.
      type: str
      sample: '{"env": {"ENABLE_PREFIX_DELEGATION": "true"}}'
    pod_identity_associations:
      description: ARNs of the pod identity associations owned by the add-on.
      type: list
      elements: str
      sample: []
    tags:
      description: Tags of the add-on.
      type: dict
      sample: {"team": "platform"}
    created_at:
      description: Creation time.
      type: str
      sample: "2026-01-01T00:00:00+00:00"
    modified_at:
      description: Last modification time.
      type: str
      sample: "2026-01-01T00:00:00+00:00"
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import WaiterError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.plinth.platform.plugins.module_utils.eks import (
    ADDON_BUSY_STATUSES,
    describe_addon,
    describe_addon_pod_identities,
    normalize_addon,
    parse_configuration,
    serialize_configuration,
    sort_pod_identities,
)
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager


class EksAddonManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.client = module.client("eks", retry_decorator=AWSRetry.jittered_backoff())
        self.cluster_name = module.params["cluster_name"]
        self.name = module.params["name"]
        self.changed = False
        self.diff = {"before": {}, "after": {}}

    def exit(self, addon) -> None:
        result = {"changed": self.changed, "addon": normalize_addon(addon) if addon else {}}
        if self.module._diff:
            result["diff"] = self.diff
        self.module.exit_json(**result)

    def wait(self, waiter_name: str) -> None:
        waiter = self.client.get_waiter(waiter_name)
        delay = waiter.config.delay
        attempts = max(1, self.module.params["wait_timeout"] // delay)
        try:
            waiter.wait(
                clusterName=self.cluster_name,
                addonName=self.name,
                WaiterConfig={"Delay": delay, "MaxAttempts": attempts},
            )
        except WaiterError as e:
            self.module.fail_json_aws(
                e, msg=f"Timed out or failed waiting for add-on {self.name} ({waiter_name})"
            )

    def default_version(self) -> str:
        """The version EKS marks as default for the cluster's Kubernetes version."""
        cluster = self.client.describe_cluster(name=self.cluster_name, aws_retry=True)["cluster"]
        kubernetes_version = cluster["version"]
        response = self.client.describe_addon_versions(
            addonName=self.name, kubernetesVersion=kubernetes_version, aws_retry=True
        )
        for info in response.get("addons", []):
            for version in info.get("addonVersions", []):
                for compatibility in version.get("compatibilities", []):
                    if compatibility.get(
                        "clusterVersion"
                    ) == kubernetes_version and compatibility.get("defaultVersion"):
                        return version["addonVersion"]
        self.module.fail_json(
            msg=(
                f"EKS reports no default version of add-on {self.name} for Kubernetes "
                f"{kubernetes_version}; set addon_version"
            )
        )

    @staticmethod
    def state_view(addon_version, role_arn, configuration, pod_identities, tags) -> dict:
        """The managed settings, in the form shown in diff mode."""
        return {
            "addon_version": addon_version,
            "service_account_role_arn": role_arn,
            "configuration_values": configuration,
            "pod_identity_associations": pod_identities,
            "tags": tags,
        }

    def ensure_present(self) -> None:
        addon = describe_addon(self.client, self.cluster_name, self.name)
        if addon and addon["status"] == "DELETING":
            # A deletion in progress cannot be cancelled: let it finish, then create afresh.
            if self.module.check_mode:
                addon = None
            else:
                self.wait("addon_deleted")
                addon = describe_addon(self.client, self.cluster_name, self.name)
        if addon is None:
            self.create()
        else:
            self.update(addon)

    def create(self) -> None:
        params = self.module.params
        version = params["addon_version"] or self.default_version()
        request = {
            "clusterName": self.cluster_name,
            "addonName": self.name,
            "addonVersion": version,
        }
        if params["service_account_role_arn"] is not None:
            request["serviceAccountRoleArn"] = params["service_account_role_arn"]
        if params["configuration_values"] is not None:
            request["configurationValues"] = serialize_configuration(params["configuration_values"])
        if params["resolve_conflicts"]:
            request["resolveConflicts"] = params["resolve_conflicts"]
        if params["pod_identity_associations"] is not None:
            request["podIdentityAssociations"] = [
                {"serviceAccount": p["service_account"], "roleArn": p["role_arn"]}
                for p in params["pod_identity_associations"]
            ]
        if params["tags"]:
            request["tags"] = params["tags"]

        self.changed = True
        self.diff["after"] = self.state_view(
            version,
            params["service_account_role_arn"],
            parse_configuration(params["configuration_values"]),
            sort_pod_identities(params["pod_identity_associations"] or []),
            params["tags"] or {},
        )
        if self.module.check_mode:
            self.exit(None)

        self.client.create_addon(aws_retry=True, **request)
        if params["wait"]:
            self.wait("addon_active")
        self.exit(describe_addon(self.client, self.cluster_name, self.name))

    def update(self, addon: dict) -> None:
        params = self.module.params
        current_pods = []
        if params["pod_identity_associations"] is not None:
            current_pods = describe_addon_pod_identities(self.client, self.cluster_name, addon)
        current_tags = addon.get("tags") or {}
        before = self.state_view(
            addon.get("addonVersion"),
            addon.get("serviceAccountRoleArn"),
            parse_configuration(addon.get("configurationValues")),
            current_pods,
            current_tags,
        )
        after = dict(before)

        request = {}
        if params["addon_version"] and params["addon_version"] != before["addon_version"]:
            request["addonVersion"] = after["addon_version"] = params["addon_version"]
        role_arn = params["service_account_role_arn"]
        if role_arn is not None and role_arn != (before["service_account_role_arn"] or ""):
            request["serviceAccountRoleArn"] = after["service_account_role_arn"] = role_arn
        configuration = params["configuration_values"]
        if configuration is not None:
            wanted = parse_configuration(configuration)
            if wanted != before["configuration_values"]:
                request["configurationValues"] = serialize_configuration(configuration)
                after["configuration_values"] = wanted
        if params["pod_identity_associations"] is not None:
            wanted_pods = sort_pod_identities(params["pod_identity_associations"])
            if wanted_pods != current_pods:
                request["podIdentityAssociations"] = [
                    {"serviceAccount": p["service_account"], "roleArn": p["role_arn"]}
                    for p in wanted_pods
                ]
                after["pod_identity_associations"] = wanted_pods

        tags_to_set, tags_to_unset = {}, []
        if params["tags"] is not None:
            tags_to_set, tags_to_unset = compare_aws_tags(
                current_tags, params["tags"], params["purge_tags"]
            )
            after["tags"] = {
                **{k: v for k, v in current_tags.items() if k not in tags_to_unset},
                **tags_to_set,
            }

        self.changed = bool(request or tags_to_set or tags_to_unset)
        self.diff = {"before": before, "after": after}
        if not self.changed:
            if params["wait"] and addon["status"] != "ACTIVE":
                self.wait("addon_active")
                addon = describe_addon(self.client, self.cluster_name, self.name)
            self.exit(addon)
        if self.module.check_mode:
            self.exit(addon)

        if tags_to_unset:
            self.client.untag_resource(
                resourceArn=addon["addonArn"], tagKeys=tags_to_unset, aws_retry=True
            )
        if tags_to_set:
            self.client.tag_resource(
                resourceArn=addon["addonArn"], tags=tags_to_set, aws_retry=True
            )
        if request:
            if addon["status"] in ADDON_BUSY_STATUSES:
                self.wait("addon_active")
            if params["resolve_conflicts"]:
                request["resolveConflicts"] = params["resolve_conflicts"]
            self.client.update_addon(
                clusterName=self.cluster_name, addonName=self.name, aws_retry=True, **request
            )
            if params["wait"]:
                self.wait("addon_active")
        self.exit(describe_addon(self.client, self.cluster_name, self.name))

    def ensure_absent(self) -> None:
        addon = describe_addon(self.client, self.cluster_name, self.name)
        if addon is None:
            self.exit(None)
        self.diff["before"] = {
            "addon_version": addon.get("addonVersion"),
            "status": addon["status"],
        }
        if addon["status"] != "DELETING":
            self.changed = True
            if self.module.check_mode:
                self.exit(None)
            self.client.delete_addon(
                clusterName=self.cluster_name,
                addonName=self.name,
                preserve=self.module.params["preserve"],
                aws_retry=True,
            )
        if self.module.params["wait"]:
            self.wait("addon_deleted")
        self.exit(None)


def main() -> None:
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", required=True, aliases=["addon_name"]),
        addon_version=dict(type="str"),
        service_account_role_arn=dict(type="str"),
        configuration_values=dict(type="raw"),
        resolve_conflicts=dict(type="str", choices=["NONE", "OVERWRITE", "PRESERVE"]),
        pod_identity_associations=dict(
            type="list",
            elements="dict",
            options=dict(
                service_account=dict(type="str", required=True),
                role_arn=dict(type="str", required=True),
            ),
        ),
        preserve=dict(type="bool", default=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1200),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    configuration = module.params["configuration_values"]
    if configuration is not None and not isinstance(configuration, (dict, str)):
        module.fail_json(msg="configuration_values must be a dictionary or a string")

    run_manager(module, EksAddonManager(module), f"EKS add-on {module.params['name']}")


if __name__ == "__main__":
    main()
