#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: elasticache_parameter_group
version_added: "0.1.0"
short_description: Manage an Amazon ElastiCache cache parameter group
description:
  - Create, change and delete an ElastiCache cache parameter group (Redis OSS, Valkey or
    Memcached), with the parameters it sets.
  - O(parameters) is compared with what C(DescribeCacheParameters) reports, so re-running the same
    task makes no change.  With O(purge_parameters), parameters changed by a user earlier but no
    longer listed are reset to their defaults.
  - Written because M(community.aws.elasticache_parameter_group) restricts the family to
    C(redis6.x) and older (no C(redis7), no C(valkey7)/C(valkey8)), has no check mode and always
    reports the parameters it is given as sent.
author: Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - The parameter group name.
    required: true
    type: str
  state:
    description:
      - Whether the parameter group should exist.
    default: present
    choices: [present, absent]
    type: str
  family:
    description:
      - The parameter group family, for example V(redis7), V(valkey8) or V(memcached1.6).
      - Required to create the group; it cannot be changed afterwards (a different value fails).
    type: str
  description:
    description:
      - The description, used when the group is created (ElastiCache cannot change it later).
      - Defaults to O(name).
    type: str
  parameters:
    description:
      - Parameter name to value.  Values are strings, as ElastiCache reports them.
      - Names the family does not have are refused before any change.
    type: dict
    default: {}
  purge_parameters:
    description:
      - Reset to its default every parameter a user set earlier that O(parameters) does not list.
    type: bool
    default: true
notes:
  - moto 5.2.5 (the project's emulator) implements none of the cache parameter group API
    (C(CreateCacheParameterGroup), C(DescribeCacheParameterGroups), C(DescribeCacheParameters),
    C(ModifyCacheParameterGroup), C(ResetCacheParameterGroup), C(DeleteCacheParameterGroup));
    it answers them with an internal error.  The unit tests use a botocore Stubber.
  - ElastiCache accepts at most 20 parameters per C(ModifyCacheParameterGroup) call; more are sent
    in several calls.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Redis OSS 7 parameters for a task queue
  plinth.platform.elasticache_parameter_group:
    name: app-queue
    family: redis7
    parameters:
      maxmemory-policy: noeviction
      notify-keyspace-events: Ex

- name: Sharded Valkey 8 (cluster mode enabled)
  plinth.platform.elasticache_parameter_group:
    name: app-sharded
    family: valkey8
    parameters:
      cluster-enabled: "yes"

- name: Delete it
  plinth.platform.elasticache_parameter_group:
    name: app-queue
    state: absent
"""

RETURN = r"""
cache_parameter_group:
  description: The parameter group; empty after deletion and in check mode before creation.
  returned: always
  type: dict
  contains:
    name:
      description: The name.
      type: str
      sample: app-queue
    family:
      description: The family.
      type: str
      sample: redis7
    description:
      description: The description.
      type: str
    arn:
      description: The ARN.
      type: str
    parameters:
      description: The parameters a user set (source C(user)), name to value.
      type: dict
      sample: {"maxmemory-policy": "noeviction"}
diff:
  description: The family and user-set parameters before and after.
  returned: when diff mode is on
  type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager

# ModifyCacheParameterGroup: "A maximum of 20 parameters may be modified per request".
MODIFY_BATCH = 20


class ParameterGroupManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.name: str = module.params["name"]
        self.client = module.client("elasticache", retry_decorator=AWSRetry.jittered_backoff())
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def fail(self, e: Exception, action: str) -> None:
        self.module.fail_json_aws(e, msg=f"Failed to {action} cache parameter group {self.name}")

    def describe_group(self) -> dict[str, Any] | None:
        try:
            groups = self.client.describe_cache_parameter_groups(
                CacheParameterGroupName=self.name, aws_retry=True
            )["CacheParameterGroups"]
        except is_boto3_error_code("CacheParameterGroupNotFound"):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.fail(e, "describe")
        return groups[0] if groups else None

    def describe_parameters(self) -> dict[str, dict[str, Any]]:
        try:
            paginator = self.client.get_paginator("describe_cache_parameters")
            pages = paginator.paginate(CacheParameterGroupName=self.name).build_full_result()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, "describe the parameters of")
        return {p["ParameterName"]: p for p in pages.get("Parameters", [])}

    def state_of(self, group: dict[str, Any] | None, params: dict[str, dict[str, Any]]) -> dict:
        if not group:
            return {}
        return {
            "name": group["CacheParameterGroupName"],
            "family": group["CacheParameterGroupFamily"],
            "description": group.get("Description", ""),
            "arn": group.get("ARN", ""),
            "parameters": user_parameters(params),
        }

    def exit(self, result: dict[str, Any]) -> None:
        out: dict[str, Any] = {"changed": self.changed, "cache_parameter_group": result}
        if self.module._diff:
            out["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**out)

    # --- present -------------------------------------------------------------------------------

    def ensure_present(self) -> None:
        p = self.module.params
        wanted = {str(k): str(v) for k, v in (p["parameters"] or {}).items()}
        group = self.describe_group()
        if group is None:
            if not p["family"]:
                self.module.fail_json(msg="family is required to create a cache parameter group")
            self.changed = True
            self.after = {"family": p["family"], "parameters": wanted}
            if self.module.check_mode:
                self.exit({})
            try:
                self.client.create_cache_parameter_group(
                    CacheParameterGroupName=self.name,
                    CacheParameterGroupFamily=p["family"],
                    Description=p["description"] or self.name,
                    aws_retry=True,
                )
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.fail(e, "create")
            group = self.describe_group()
        elif p["family"] and p["family"] != group["CacheParameterGroupFamily"]:
            self.module.fail_json(
                msg=f"Cache parameter group {self.name} is family "
                f"{group['CacheParameterGroupFamily']}, not {p['family']}; the family cannot be "
                "changed (create a group with another name)"
            )

        current = self.describe_parameters()
        unknown = sorted(set(wanted) - set(current))
        if unknown:
            self.module.fail_json(
                msg=f"Cache parameter group {self.name} has no parameter(s): {', '.join(unknown)}"
            )
        to_set = {k: v for k, v in wanted.items() if current[k].get("ParameterValue") != v}
        to_reset = []
        if p["purge_parameters"]:
            to_reset = sorted(set(user_parameters(current)) - set(wanted))
        have = user_parameters(current)
        if not self.changed:  # a group created by this run has no "before"
            self.before = {"family": group["CacheParameterGroupFamily"], "parameters": have}
        kept = {k: v for k, v in have.items() if k not in to_reset}
        self.after = {
            "family": group["CacheParameterGroupFamily"],
            "parameters": dict(sorted({**kept, **to_set}.items())),
        }
        if not (to_set or to_reset):
            self.exit(self.state_of(group, current))
        self.changed = True
        if self.module.check_mode:
            self.exit(self.state_of(group, current))
        self.modify(to_set)
        self.reset(to_reset)
        self.exit(self.state_of(self.describe_group(), self.describe_parameters()))

    def modify(self, to_set: dict[str, str]) -> None:
        items = sorted(to_set.items())
        for start in range(0, len(items), MODIFY_BATCH):
            batch = [
                {"ParameterName": k, "ParameterValue": v}
                for k, v in items[start : start + MODIFY_BATCH]
            ]
            try:
                self.client.modify_cache_parameter_group(
                    CacheParameterGroupName=self.name, ParameterNameValues=batch, aws_retry=True
                )
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.fail(e, "modify")

    def reset(self, names: list[str]) -> None:
        if not names:
            return
        try:
            self.client.reset_cache_parameter_group(
                CacheParameterGroupName=self.name,
                ResetAllParameters=False,
                ParameterNameValues=[{"ParameterName": n} for n in names],
                aws_retry=True,
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, "reset parameters of")

    # --- absent --------------------------------------------------------------------------------

    def ensure_absent(self) -> None:
        group = self.describe_group()
        if group is None:
            self.exit({})
        self.before = {"family": group["CacheParameterGroupFamily"]}
        self.changed = True
        if self.module.check_mode:
            self.exit({})
        try:
            self.client.delete_cache_parameter_group(
                CacheParameterGroupName=self.name, aws_retry=True
            )
        except is_boto3_error_code("CacheParameterGroupNotFound"):
            self.changed = False
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.fail(e, "delete")
        self.exit({})


def user_parameters(params: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The parameters set by a user (the others are the family's defaults)."""
    return {
        name: p.get("ParameterValue", "")
        for name, p in sorted(params.items())
        if p.get("Source") == "user"
    }


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        family=dict(type="str"),
        description=dict(type="str"),
        parameters=dict(type="dict", default={}),
        purge_parameters=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run_manager(
        module, ParameterGroupManager(module), f"cache parameter group {module.params['name']}"
    )


if __name__ == "__main__":
    main()
