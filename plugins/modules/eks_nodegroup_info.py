#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)
# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: eks_nodegroup_info
version_added: 0.1.0
short_description: Describe the managed node groups of an Amazon EKS cluster
description:
  - Describe one managed node group, or every managed node group of a cluster.
  - A missing cluster or node group is not an error; the result is then empty.
author: Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - Name of the node group to describe. When omitted, every node group of the cluster is
        described.
    type: str
    aliases: [nodegroup_name]
extends_documentation_fragment:
  - plinth.platform.eks
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Every node group of the cluster
  plinth.platform.eks_nodegroup_info:
    cluster_name: shop-production
  register: found

- name: Node groups no longer wanted
  ansible.builtin.debug:
    msg: "{{ found.nodegroups | map(attribute='nodegroup_name') | difference(['general', 'gpu']) }}"
"""

RETURN = r"""
nodegroups:
  description:
    - The node groups, sorted by name, as M(plinth.platform.eks_nodegroup) returns them (keys
      snake-cased, label and tag keys as given).
  returned: always
  type: list
  elements: dict
  sample:
    - nodegroup_name: gpu
      cluster_name: shop-production
      status: ACTIVE
      capacity_type: SPOT
      scaling_config: {min_size: 0, max_size: 4, desired_size: 1}
      labels: {workload: gpu}
      tags: {team: ml}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


@AWSRetry.jittered_backoff()
def list_nodegroup_names(client, cluster_name: str) -> list[str]:
    paginator = client.get_paginator("list_nodegroups")
    return paginator.paginate(clusterName=cluster_name).build_full_result()["nodegroups"]


def cluster_exists(client, cluster_name: str) -> bool:
    # Asked first because moto answers ListNodegroups on a missing cluster with HTTP 500 rather
    # than ResourceNotFoundException.
    try:
        client.describe_cluster(name=cluster_name, aws_retry=True)
    except is_boto3_error_code("ResourceNotFoundException"):
        return False
    return True


def describe_nodegroup(client, cluster_name: str, name: str) -> dict | None:
    try:
        return client.describe_nodegroup(
            clusterName=cluster_name, nodegroupName=name, aws_retry=True
        )["nodegroup"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


def main() -> None:
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", aliases=["nodegroup_name"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("eks", retry_decorator=AWSRetry.jittered_backoff())
    cluster_name = module.params["cluster_name"]
    try:
        if module.params["name"]:
            names = [module.params["name"]]
        else:
            names = (
                list_nodegroup_names(client, cluster_name)
                if cluster_exists(client, cluster_name)
                else []
            )
        found = (describe_nodegroup(client, cluster_name, name) for name in sorted(names))
        nodegroups = [
            camel_dict_to_snake_dict(group, ignore_list=["tags", "labels"])
            for group in found
            if group
        ]
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to describe the node groups of {cluster_name}")
    module.exit_json(changed=False, nodegroups=nodegroups)


if __name__ == "__main__":
    main()
