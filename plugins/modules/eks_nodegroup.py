#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)
# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eks_nodegroup
version_added: 0.1.0
short_description: Manage an Amazon EKS managed node group
description:
  - Create, update and delete a managed node group of an Amazon EKS cluster.
  - An existing node group is updated in place where EKS allows it. Scaling, Kubernetes labels,
    taints and the update configuration change with a single C(UpdateNodegroupConfig) call that
    adds, updates and removes exactly the labels and taints that differ; the Kubernetes
    version, the AMI release version and the launch template version change with
    C(UpdateNodegroupVersion). Settings EKS cannot change (node role, subnets, instance types,
    capacity type, AMI type, disk size, launch template) make the module fail with their old
    and new values instead of being ignored.
  - Written because M(community.aws.eks_nodegroup) fails on an existing node group whose
    description has no C(updateConfig), cannot update taints (it indexes a list with a string)
    and only adds labels whose key is new.
author: Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - Name of the node group.
    required: true
    type: str
    aliases: [nodegroup_name]
  node_role:
    description:
      - ARN of the IAM role of the nodes. Required to create a node group.
    type: str
  subnets:
    description:
      - IDs of the subnets the nodes are launched in. Required to create a node group.
    type: list
    elements: str
  scaling_config:
    description:
      - Size of the node group's Auto Scaling group.
      - When omitted on creation, EKS's defaults apply (1 node; 1..2). For an existing node group
        only the given sizes are compared.
    type: dict
    suboptions:
      min_size:
        description: Minimum number of nodes.
        type: int
      max_size:
        description: Maximum number of nodes.
        type: int
      desired_size:
        description:
          - Wanted number of nodes. Omit it when an autoscaler owns the size, so that the module
            does not undo its changes.
        type: int
  instance_types:
    description:
      - Instance types of the nodes (several for C(SPOT) diversification).
    type: list
    elements: str
  capacity_type:
    description:
      - Purchase option of the nodes.
    type: str
    choices: [ON_DEMAND, SPOT, CAPACITY_BLOCK]
  ami_type:
    description:
      - AMI type of the nodes, for example C(AL2023_x86_64_STANDARD) or, for GPUs,
        C(AL2023_x86_64_NVIDIA).
    type: str
  disk_size:
    description:
      - Root volume size in GiB. Not allowed together with O(launch_template), which then
        defines the volumes.
    type: int
  labels:
    description:
      - The complete set of Kubernetes labels EKS puts on the nodes; labels not listed are
        removed. When omitted, the labels are left as they are.
    type: dict
  taints:
    description:
      - The complete set of Kubernetes taints EKS puts on the nodes, identified by key and
        effect; taints not listed are removed. When omitted, the taints are left as they are.
    type: list
    elements: dict
    suboptions:
      key:
        description: Taint key.
        type: str
        required: true
      value:
        description: Taint value.
        type: str
        default: ""
      effect:
        description: Taint effect.
        type: str
        required: true
        choices: [NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE]
  launch_template:
    description:
      - The EC2 launch template of the nodes, by O(launch_template.id) or O(launch_template.name).
      - A node group keeps the template it was created with; only its version can change.
    type: dict
    suboptions:
      id:
        description: ID of the launch template.
        type: str
      name:
        description: Name of the launch template.
        type: str
      version:
        description:
          - Version of the launch template, as a number.
          - When omitted on creation, EKS uses the template's default version; for an existing
            node group, the version is left as it is.
        type: str
  update_config:
    description:
      - How many nodes EKS may replace at once during an update, as a count or a percentage.
      - EKS's default is one node; a node group whose description has no update configuration
        is taken to have that default.
    type: dict
    suboptions:
      max_unavailable:
        description: Number of nodes.
        type: int
      max_unavailable_percentage:
        description: Percentage of nodes.
        type: int
  version:
    description:
      - Kubernetes version of the nodes. On creation, the cluster's version when omitted; a
        different version for an existing node group updates it with
        C(UpdateNodegroupVersion).
    type: str
  release_version:
    description:
      - AMI release version of the nodes (EKS-optimised AMIs only). When omitted, the latest
        release is used on creation and the current one is left as it is.
    type: str
  force_update:
    description:
      - On a version update, replace nodes even when pod disruption budgets block draining them.
    type: bool
    default: false
  state:
    description:
      - Whether the node group should exist.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait for the node group to be C(ACTIVE) after creation or update (C(nodegroup_active)
        waiter), or to be gone after deletion (C(nodegroup_deleted) waiter).
    type: bool
    default: false
  wait_timeout:
    description:
      - How many seconds to wait when waiting.
    type: int
    default: 1800
notes:
  - EKS accepts one update at a time; when both a configuration and a version update are
    needed, the module waits for the node group to be C(ACTIVE) between them.
  - The embedded moto emulator does not implement C(UpdateNodegroupVersion) (tested with botocore
    stubs), its C(TagResource) and C(UntagResource) only know clusters (tag changes of an
    existing node group are tested with stubs too), and its C(CreateNodegroup) ignores
    C(updateConfig), so a node group created there reports none until it is updated.
  - O(purge_tags=true) never removes tags whose key starts with C(aws:).
extends_documentation_fragment:
  - plinth.platform.eks
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Spot GPU node group, tainted so only GPU workloads land there
  plinth.platform.eks_nodegroup:
    cluster_name: shop-production
    name: gpu
    node_role: arn:aws:iam::123456789012:role/shop-production-eks-node
    subnets: [subnet-0a1, subnet-0b2, subnet-0c3]
    instance_types: [g4dn.xlarge, p3.2xlarge]
    capacity_type: SPOT
    ami_type: AL2023_x86_64_NVIDIA
    scaling_config: {min_size: 0, desired_size: 1, max_size: 4}
    labels: {workload: gpu}
    taints:
      - {key: nvidia.com/gpu, value: "true", effect: NO_SCHEDULE}
    launch_template: {name: shop-production-gpu, version: "1"}
    update_config: {max_unavailable: 1}
    wait: true

- name: Remove the node group
  plinth.platform.eks_nodegroup:
    cluster_name: shop-production
    name: gpu
    state: absent
    wait: true
"""

RETURN = r"""
nodegroup:
  description: The node group as EKS describes it (keys snake-cased, label, taint and tag keys as
    given); empty when it does not exist or is only about to be created in check mode.
  returned: always
  type: dict
  contains:
    nodegroup_name:
      description: Name of the node group.
      type: str
      sample: gpu
    nodegroup_arn:
      description: ARN of the node group.
      type: str
    cluster_name:
      description: Name of the cluster.
      type: str
    status:
      description: C(CREATING), C(ACTIVE), C(UPDATING), C(DELETING), C(CREATE_FAILED),
        C(DELETE_FAILED) or C(DEGRADED).
      type: str
      sample: ACTIVE
    scaling_config:
      description: C(min_size), C(max_size) and C(desired_size).
      type: dict
    instance_types:
      description: Instance types.
      type: list
      elements: str
    capacity_type:
      description: Purchase option.
      type: str
    ami_type:
      description: AMI type.
      type: str
    labels:
      description: Kubernetes labels.
      type: dict
    taints:
      description: Kubernetes taints.
      type: list
      elements: dict
    launch_template:
      description: The launch template (C(id), C(name), C(version)).
      type: dict
    update_config:
      description: The update configuration.
      type: dict
    version:
      description: Kubernetes version.
      type: str
    release_version:
      description: AMI release version.
      type: str
    tags:
      description: Tags of the node group.
      type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.plinth.platform.plugins.module_utils.eks import (
    EksResourceManager,
    nodegroup_argument_spec,
    nodegroup_create_diff,
    nodegroup_create_request,
    nodegroup_immutable_problems,
    nodegroup_launch_template_request,
    nodegroup_update_plan,
    nodegroup_view,
)
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager


class EksNodegroupManager(EksResourceManager):
    kind = "node group"
    result_key = "nodegroup"
    waiter_prefix = "nodegroup"
    keep_keys = ("tags", "labels")

    def __init__(self, module: AnsibleAWSModule) -> None:
        super().__init__(module)
        self.cluster_name = module.params["cluster_name"]

    def identifiers(self) -> dict:
        return {"clusterName": self.cluster_name, "nodegroupName": self.name}

    def describe_call(self) -> dict:
        return self.client.describe_nodegroup(aws_retry=True, **self.identifiers())["nodegroup"]

    def delete_call(self) -> None:
        self.client.delete_nodegroup(aws_retry=True, **self.identifiers())

    def launch_template_request(self) -> dict | None:
        return nodegroup_launch_template_request(self.params["launch_template"])

    def view(self, nodegroup: dict) -> dict:
        return nodegroup_view(nodegroup)

    def create(self) -> None:
        self.require_for_create("node_role", "subnets")
        request = nodegroup_create_request(self.cluster_name, self.name, self.params)
        self.changed = True
        self.diff["after"] = nodegroup_create_diff(request)
        if self.module.check_mode:
            self.exit(None)
        self.client.create_nodegroup(aws_retry=True, **request)
        if self.params["wait"]:
            self.wait("active")
        self.exit(self.describe())

    def check_immutable(self, before: dict) -> None:
        self.refuse_immutable(nodegroup_immutable_problems(self.params, before))

    def update(self, nodegroup: dict) -> None:
        params = self.params
        before = self.view(nodegroup)
        self.check_immutable(before)
        config_request, version_request, after = nodegroup_update_plan(params, before)
        tags_to_set, tags_to_unset, after["tags"] = self.tag_changes(before["tags"])

        self.changed = bool(config_request or version_request or tags_to_set or tags_to_unset)
        self.diff = {"before": before, "after": after}
        if self.module.check_mode:
            self.exit(nodegroup)

        self.apply_tags(nodegroup["nodegroupArn"], tags_to_set, tags_to_unset)
        busy = nodegroup["status"] != "ACTIVE"
        ids = self.identifiers()
        if config_request:
            if busy:
                # EKS rejects an update while the node group is being created or updated.
                self.wait("active")
            self.client.update_nodegroup_config(aws_retry=True, **ids, **config_request)
            busy = True
        if version_request:
            if busy:
                self.wait("active")
            self.client.update_nodegroup_version(
                aws_retry=True, force=params["force_update"], **ids, **version_request
            )
            busy = True
        if params["wait"] and busy:
            self.wait("active")
        self.exit(self.describe())


def main() -> None:
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", required=True, aliases=["nodegroup_name"]),
        **nodegroup_argument_spec(),
        force_update=dict(type="bool", default=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1800),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["disk_size", "launch_template"]],
    )

    run_manager(module, EksNodegroupManager(module), f"EKS node group {module.params['name']}")


if __name__ == "__main__":
    main()
