#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: elasticache_replication_group_info
version_added: "0.1.0"
short_description: Describe Amazon ElastiCache replication groups
description:
  - Describe one ElastiCache replication group, or all of them, with their member cache clusters
    and tags.
author: Plinth engineering (!UNKNOWN)
options:
  replication_group_id:
    description:
      - The replication group to describe.  All groups when omitted.
      - An unknown id returns an empty list rather than failing.
    type: str
  include_member_clusters:
    description:
      - Describe every member cache cluster (one C(DescribeCacheClusters) call per member).
    type: bool
    default: true
notes:
  - moto 5.2.5 (the project's emulator) creates no member cache clusters for a replication
    group, so against it RV(replication_groups[].member_cluster_details) lists none and the
    member-cluster attributes (engine version, parameter group, subnet group, security groups,
    maintenance window) are absent; the module warns which members it could not describe.
  - moto reports no reader endpoint.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe one replication group
  plinth.platform.elasticache_replication_group_info:
    replication_group_id: app-cache
  register: cache_info

- name: Use its primary endpoint
  ansible.builtin.debug:
    msg: "{{ cache_info.replication_groups[0].primary_endpoint.address }}"

- name: Describe every replication group, without the per-member calls
  plinth.platform.elasticache_replication_group_info:
    include_member_clusters: false
"""

RETURN = r"""
replication_groups:
  description:
    - The replication groups in snake_case, as
      M(plinth.platform.elasticache_replication_group) returns
      RV(plinth.platform.elasticache_replication_group#module:replication_group).
  returned: always
  type: list
  elements: dict
  contains:
    replication_group_id:
      description: The identifier.
      type: str
      sample: app-cache
    arn:
      description: The ARN.
      type: str
    status:
      description: The status.
      type: str
      sample: available
    engine:
      description: The engine.
      type: str
      sample: redis
    engine_version:
      description: The full engine version, from a member cluster.
      type: str
      returned: when a member cluster could be described
      sample: 7.1.0
    cache_node_type:
      description: The node type.
      type: str
    cluster_enabled:
      description: Whether the group is sharded.
      type: bool
    member_clusters:
      description: The member cache cluster ids.
      type: list
      elements: str
    node_groups:
      description: The node groups (shards).
      type: list
      elements: dict
    primary_endpoint:
      description: The primary endpoint (cluster mode disabled), or null.
      type: dict
    reader_endpoint:
      description: The reader endpoint (cluster mode disabled), or null.
      type: dict
    configuration_endpoint:
      description: The configuration endpoint (sharded), or null.
      type: dict
    auth_token_enabled:
      description: Whether an AUTH token is set (the token itself is never returned).
      type: bool
    member_cluster_details:
      description: C(DescribeCacheClusters) of each member that could be described, snake_case.
      type: list
      elements: dict
      returned: when O(include_member_clusters=true)
    tags:
      description: The tags.
      type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.elasticache import (
    describe_cache_cluster,
    describe_member_cluster,
    describe_replication_groups,
    list_tags,
    normalize_replication_group,
)


class ReplicationGroupInfo:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.client = module.client("elasticache", retry_decorator=AWSRetry.jittered_backoff())

    def describe_group(self, group: dict[str, Any]) -> dict[str, Any]:
        if not self.module.params["include_member_clusters"]:
            member = describe_member_cluster(self.client, group)
            return normalize_replication_group(group, member, list_tags(self.client, group["ARN"]))
        details = []
        missing = []
        for cluster_id in group.get("MemberClusters") or []:
            cluster = describe_cache_cluster(self.client, cluster_id)
            if cluster is None:
                missing.append(cluster_id)
            else:
                details.append(cluster)
        if missing:
            self.module.warn(
                f"Member clusters of {group['ReplicationGroupId']} could not be described: "
                + ", ".join(missing)
            )
        result = normalize_replication_group(
            group, details[0] if details else None, list_tags(self.client, group["ARN"])
        )
        result["member_cluster_details"] = [camel_dict_to_snake_dict(c) for c in details]
        return result

    def run(self) -> None:
        group_id = self.module.params["replication_group_id"]
        try:
            groups = [
                self.describe_group(g) for g in describe_replication_groups(self.client, group_id)
            ]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Failed to describe replication groups")
        self.module.exit_json(changed=False, replication_groups=groups)


def main() -> None:
    argument_spec = dict(
        replication_group_id=dict(type="str"),
        include_member_clusters=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    ReplicationGroupInfo(module).run()


if __name__ == "__main__":
    main()
