#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)
# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eks_nodegroups
version_added: 0.1.0
short_description: Manage the set of managed node groups of an Amazon EKS cluster in one task
description:
  - Makes a list of managed node groups of one EKS cluster exist as given, with the same options
    and the same in-place updates as M(plinth.platform.eks_nodegroup) (which it shares its
    comparison and update code with), and with O(purge=true) removes the cluster's node groups
    that are not listed.
  - Written because one M(plinth.platform.eks_nodegroup) task per node group (plus
    M(plinth.platform.eks_nodegroup_info) and a removal loop for node groups no longer
    configured) costs a module run each. This module proves unchanged node groups with
    one C(DescribeNodegroup) per node group (plus C(ListNodegroups) with O(purge=true)), and
    writes only what differs.
  - All creations and updates are started first, then, with O(wait=true), waited on together
    (C(nodegroup_active) waiter); node groups removed by O(purge) are deleted after that (so the
    new capacity is up before the old goes) and waited on together (C(nodegroup_deleted) waiter).
  - Settings EKS cannot change, or a node group to create without O(node_groups[].node_role) or
    O(node_groups[].subnets), fail the module before any write.
author: Plinth engineering (!UNKNOWN)
options:
  node_groups:
    description:
      - The node groups. Each takes the options of M(plinth.platform.eks_nodegroup) named below.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the node group.
        type: str
        required: true
      node_role:
        description: ARN of the IAM role of the nodes. Required to create a node group.
        type: str
      subnets:
        description: IDs of the subnets of the nodes. Required to create a node group.
        type: list
        elements: str
      scaling_config:
        description:
          - C(min_size), C(max_size), C(desired_size). Only the given sizes are compared (omit
            C(desired_size) when an autoscaler owns it).
        type: dict
        suboptions:
          min_size:
            description: Minimum number of nodes.
            type: int
          max_size:
            description: Maximum number of nodes.
            type: int
          desired_size:
            description: Wanted number of nodes.
            type: int
      instance_types:
        description: Instance types of the nodes.
        type: list
        elements: str
      capacity_type:
        description: Purchase option of the nodes.
        type: str
        choices: [ON_DEMAND, SPOT, CAPACITY_BLOCK]
      ami_type:
        description: AMI type of the nodes.
        type: str
      disk_size:
        description: Root volume size in GiB; not with O(node_groups[].launch_template).
        type: int
      labels:
        description: The complete set of Kubernetes labels; omitted, they are left as they are.
        type: dict
      taints:
        description:
          - The complete set of Kubernetes taints, identified by key and effect; omitted, they
            are left as they are.
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
        description: The launch template, by C(id) or C(name), and its C(version).
        type: dict
        suboptions:
          id:
            description: ID of the launch template.
            type: str
          name:
            description: Name of the launch template.
            type: str
          version:
            description: Version of the launch template, as a number.
            type: str
      update_config:
        description: How many nodes EKS may replace at once (EKS's default is one node).
        type: dict
        suboptions:
          max_unavailable:
            description: Number of nodes.
            type: int
          max_unavailable_percentage:
            description: Percentage of nodes.
            type: int
      version:
        description: Kubernetes version of the nodes.
        type: str
      release_version:
        description: AMI release version of the nodes.
        type: str
      tags:
        description: Tags of the node group; omitted, they are left as they are.
        type: dict
  purge:
    description:
      - Remove the cluster's node groups that O(node_groups) does not list (only those carrying
        every tag in O(purge_tag_filter)).
    type: bool
    default: false
  purge_tag_filter:
    description:
      - With O(purge=true), only unlisted node groups with all these tags are removed, so that a
        stack removes its own node groups and leaves others' alone.
    type: dict
    default: {}
  purge_tags:
    description: Whether tags not in O(node_groups[].tags) are removed from the node groups.
    type: bool
    default: true
  force_update:
    description:
      - On a version update, replace nodes even when pod disruption budgets block draining them.
    type: bool
    default: false
  wait:
    description:
      - Wait for the created or updated node groups to be C(ACTIVE) and for the removed ones to
        be gone.
    type: bool
    default: false
  wait_timeout:
    description: How many seconds to wait in all.
    type: int
    default: 1800
notes:
  - A cluster that does not exist has no node groups (check mode on an empty account).
  - EKS accepts one update at a time, so a node group needing both a configuration and a version
    update (or an update while it is not C(ACTIVE)) is waited on between them.
  - The embedded moto emulator has no C(UpdateNodegroupVersion), its C(TagResource) knows only
    clusters, and its C(DescribeNodegroup) omits C(updateConfig) (taken as EKS's default, one
    node); those paths are tested with botocore stubs.
extends_documentation_fragment:
  - plinth.platform.eks
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The node groups of the cluster; node groups of the stack no longer listed are removed
  plinth.platform.eks_nodegroups:
    cluster_name: shop-production
    node_groups:
      - name: general
        node_role: arn:aws:iam::123456789012:role/shop-production-eks-node
        subnets: [subnet-0a1, subnet-0b2]
        instance_types: [m6i.large]
        capacity_type: ON_DEMAND
        scaling_config: {min_size: 2, desired_size: 3, max_size: 6}
        launch_template: {name: shop-production-general, version: "3"}
        tags: {"plinth:stack": shop-production}
      - name: gpu
        node_role: arn:aws:iam::123456789012:role/shop-production-eks-node
        subnets: [subnet-0a1, subnet-0b2]
        instance_types: [g4dn.xlarge]
        capacity_type: SPOT
        ami_type: AL2023_x86_64_NVIDIA
        taints:
          - {key: nvidia.com/gpu, value: "true", effect: NO_SCHEDULE}
        tags: {"plinth:stack": shop-production}
    purge: true
    purge_tag_filter: {"plinth:stack": shop-production}
    wait: true
"""

RETURN = r"""
nodegroups:
  description:
    - The node groups in the order of O(node_groups), as EKS describes them (keys snake-cased,
      label and tag keys as given); C({}) for one only about to be created in check mode.
  returned: always
  type: list
  elements: dict
  contains:
    nodegroup_name:
      description: Name of the node group.
      type: str
      sample: general
    status:
      description: C(CREATING), C(ACTIVE), C(UPDATING), C(DELETING)...
      type: str
      sample: ACTIVE
    scaling_config:
      description: C(min_size), C(max_size) and C(desired_size).
      type: dict
    launch_template:
      description: The launch template (C(id), C(name), C(version)).
      type: dict
    labels:
      description: Kubernetes labels.
      type: dict
    taints:
      description: Kubernetes taints.
      type: list
      elements: dict
    tags:
      description: Tags of the node group.
      type: dict
purged:
  description: Names of the node groups removed by O(purge) (in check mode, that would be).
  returned: always
  type: list
  elements: str
  sample: [batch]
diff:
  description: Before and after of the node groups that change, by name.
  returned: when diff mode is on
  type: dict
"""

import contextlib
import time
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.bulk import refuse_duplicates
from ansible_collections.plinth.platform.plugins.module_utils.eks import (
    nodegroup_argument_spec,
    nodegroup_create_diff,
    nodegroup_create_request,
    nodegroup_immutable_problems,
    nodegroup_missing_for_create,
    nodegroup_update_plan,
    nodegroup_view,
    tag_changes,
)

KEEP_KEYS = ["tags", "labels"]


class EksNodegroupsManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.cluster_name: str = module.params["cluster_name"]
        self.client = module.client("eks", retry_decorator=AWSRetry.jittered_backoff())
        self.deadline = time.monotonic() + module.params["wait_timeout"]
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def ids(self, name: str) -> dict[str, str]:
        return {"clusterName": self.cluster_name, "nodegroupName": name}

    # Reads -------------------------------------------------------------------------------------

    def list_names(self) -> list[str]:
        paginator = self.client.get_paginator("list_nodegroups")
        list_all = AWSRetry.jittered_backoff()(
            lambda: paginator.paginate(clusterName=self.cluster_name).build_full_result()
        )
        return list_all()["nodegroups"]

    def cluster_exists(self) -> bool:
        # Asked only when no wanted node group was found: moto answers ListNodegroups on a
        # missing cluster with HTTP 500 rather than ResourceNotFoundException.
        try:
            self.client.describe_cluster(name=self.cluster_name, aws_retry=True)
        except is_boto3_error_code("ResourceNotFoundException"):
            return False
        return True

    def describe(self, name: str) -> dict[str, Any] | None:
        try:
            return self.client.describe_nodegroup(aws_retry=True, **self.ids(name))["nodegroup"]
        except is_boto3_error_code("ResourceNotFoundException"):
            return None

    def wait(self, name: str, state: str) -> None:
        waiter = self.client.get_waiter(f"nodegroup_{state}")
        delay = waiter.config.delay
        attempts = max(1, int(self.deadline - time.monotonic()) // delay)
        try:
            waiter.wait(**self.ids(name), WaiterConfig={"Delay": delay, "MaxAttempts": attempts})
        except WaiterError as e:
            self.module.fail_json_aws(
                e, msg=f"Timed out or failed waiting for node group {name} (nodegroup_{state})"
            )

    # Planning (no writes) ----------------------------------------------------------------------

    def plan_group(self, wanted: dict[str, Any], current: dict[str, Any] | None) -> dict:
        name = wanted["name"]
        if current is None or current["status"] == "DELETING":
            missing = nodegroup_missing_for_create(wanted)
            if missing:
                self.module.fail_json(msg=f"Creating node group {name} needs {', '.join(missing)}")
            request = nodegroup_create_request(self.cluster_name, name, wanted)
            self.before[name] = {}
            self.after[name] = nodegroup_create_diff(request)
            return {"name": name, "create": request, "deleting": current is not None}
        before = nodegroup_view(current)
        problems = nodegroup_immutable_problems(wanted, before)
        if problems:
            self.module.fail_json(
                msg=f"Cannot change these settings of existing node group {name}: "
                + "; ".join(problems)
            )
        config, version, after = nodegroup_update_plan(wanted, before)
        to_set, to_unset, after["tags"] = tag_changes(
            before["tags"], wanted["tags"], self.params["purge_tags"]
        )
        plan = {
            "name": name,
            "current": current,
            "config": config,
            "version": version,
            "tags": (to_set, to_unset),
        }
        if config or version or to_set or to_unset:
            self.before[name], self.after[name] = before, after
            plan["changed"] = True
        return plan

    def stale(self, names: list[str], wanted: set[str]) -> list[dict[str, Any]]:
        """The unlisted node groups to purge (described, to match the tag filter)."""
        if not self.params["purge"]:
            return []
        selector = self.params["purge_tag_filter"] or {}
        groups = []
        for name in names:
            if name in wanted:
                continue
            group = self.describe(name)
            tags = (group or {}).get("tags") or {}
            if group and all(tags.get(k) == v for k, v in selector.items()):
                groups.append(group)
        return groups

    # Writes ------------------------------------------------------------------------------------

    def start(self, plan: dict[str, Any]) -> bool:
        """Start the group's writes; True when it will have to be waited on."""
        name, ids = plan["name"], self.ids(plan["name"])
        if "create" in plan:
            if plan["deleting"]:
                self.wait(name, "deleted")  # a deletion cannot be cancelled
            self.client.create_nodegroup(aws_retry=True, **plan["create"])
            return True
        to_set, to_unset = plan["tags"]
        arn = plan["current"]["nodegroupArn"]
        if to_unset:
            self.client.untag_resource(resourceArn=arn, tagKeys=to_unset, aws_retry=True)
        if to_set:
            self.client.tag_resource(resourceArn=arn, tags=to_set, aws_retry=True)
        busy = plan["current"]["status"] != "ACTIVE"
        for action, request, extra in (
            ("update_nodegroup_config", plan["config"], {}),
            ("update_nodegroup_version", plan["version"], {"force": self.params["force_update"]}),
        ):
            if not request:
                continue
            if busy:
                # EKS rejects an update while the node group is being created or updated.
                self.wait(name, "active")
            getattr(self.client, action)(aws_retry=True, **ids, **extra, **request)
            busy = True
        return busy

    def run(self) -> None:
        params = self.params
        wanted = params["node_groups"]
        refuse_duplicates(self.module, [group["name"] for group in wanted], "node group names")
        for group in wanted:
            if group["disk_size"] and group["launch_template"]:
                self.module.fail_json(
                    msg=f"node group {group['name']}: disk_size and launch_template are "
                    "mutually exclusive (the launch template defines the volumes)"
                )

        # DescribeNodegroup per wanted group, then (for purge) ListNodegroups: a group found
        # proves the cluster exists, so the no-op needs no DescribeCluster.
        existing = {group["name"]: self.describe(group["name"]) for group in wanted}
        names: list[str] = []
        if params["purge"] and (any(existing.values()) or self.cluster_exists()):
            names = self.list_names()
        plans = [self.plan_group(group, existing[group["name"]]) for group in wanted]
        purge = self.stale(names, {group["name"] for group in wanted})
        for group in purge:
            if group["status"] != "DELETING":
                self.before[group["nodegroupName"]] = nodegroup_view(group)
                self.after[group["nodegroupName"]] = {}
        changed = bool(self.after)

        results = [
            camel_dict_to_snake_dict(existing[plan["name"]] or {}, ignore_list=KEEP_KEYS)
            for plan in plans
        ]
        if not self.module.check_mode and changed:
            writes = [plan for plan in plans if "create" in plan or plan.get("changed")]
            busy = [plan["name"] for plan in writes if self.start(plan)]
            if params["wait"]:
                for name in busy:
                    self.wait(name, "active")
            for group in purge:
                if group["status"] != "DELETING":
                    self.client.delete_nodegroup(aws_retry=True, **self.ids(group["nodegroupName"]))
            if params["wait"]:
                for group in purge:
                    self.wait(group["nodegroupName"], "deleted")
            touched = {plan["name"] for plan in writes}
            for index, plan in enumerate(plans):
                if plan["name"] in touched:
                    fresh = self.describe(plan["name"]) or {}
                    results[index] = camel_dict_to_snake_dict(fresh, ignore_list=KEEP_KEYS)
        out: dict[str, Any] = {
            "changed": changed,
            "nodegroups": results,
            "purged": [group["nodegroupName"] for group in purge],
        }
        if self.module._diff:
            out["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**out)


def main() -> None:
    group = dict(
        name=dict(type="str", required=True),
        **nodegroup_argument_spec(),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        node_groups=dict(type="list", elements="dict", required=True, options=group),
        purge=dict(type="bool", default=False),
        purge_tag_filter=dict(type="dict", default={}),
        purge_tags=dict(type="bool", default=True),
        force_update=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1800),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        EksNodegroupsManager(module).run()
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(
            e,
            msg=f"Failed to manage the node groups of EKS cluster {module.params['cluster_name']}",
        )


if __name__ == "__main__":
    main()
