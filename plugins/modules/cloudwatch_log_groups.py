#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_log_groups
version_added: 0.1.0
short_description: Manage a set of CloudWatch Logs log groups (retention, tags) in one task
description:
  - Makes a set of log groups exist with their retention and tags, each in its region
    (O(log_groups[].region), default the module's region). The groups of a region are read with
    one paginated C(DescribeLogGroups) per directory of their names (C(/a/b/x) and C(/a/b/y)
    share one), plus C(ListTagsForResource) per group; writes happen only for differences.
  - Written because M(amazon.aws.cloudwatchlogs_log_group) takes one task (a module run, about
    0.9 s) per group; a layer's groups then cost one module run in all.
  - KMS encryption and data protection policies are not managed; use
    M(amazon.aws.cloudwatchlogs_log_group) for a group's KMS key.
author:
  - Plinth engineering (!UNKNOWN)
options:
  log_groups:
    description:
      - The log groups. Each is in O(log_groups[].region), so one run can make the log groups of
        the primary and of the DR region; a name must be unique within a region.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The log group name.
        type: str
        required: true
      region:
        description:
          - The region of the group; by default the module's region (O(region)).
          - One client is made per region and the groups of a region are handled together.
        type: str
      retention:
        description:
          - Days to keep events (one of the values CloudWatch Logs accepts, for example V(7),
            V(30), V(90), V(365)). V(0) keeps them forever. V(null) leaves the retention as it is.
        type: int
      tags:
        description: Tags of the group. See O(purge_tags).
        type: dict
        default: {}
  purge_tags:
    description:
      - Whether tags not in O(log_groups[].tags) are removed.
    type: bool
    default: true
  state:
    description:
      - V(present) to make the groups exist as given, V(absent) to delete them (with their events).
    type: str
    default: present
    choices: [present, absent]
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: The apps' log groups, kept 90 days
  plinth.platform.cloudwatch_log_groups:
    log_groups:
      - {name: /plinth/plinth-production/apps/api, retention: 90, tags: {Environment: production}}
      - {name: /plinth/plinth-production/apps/worker, retention: 90}

- name: The API's log group in the primary and in the DR region, in one task
  plinth.platform.cloudwatch_log_groups:
    log_groups:
      - {name: /plinth/plinth-production/apps/api, retention: 90}
      - {name: /plinth/plinth-production/apps/api, retention: 90, region: us-west-2}

- name: Delete them
  plinth.platform.cloudwatch_log_groups:
    log_groups:
      - name: /plinth/plinth-production/apps/api
      - name: /plinth/plinth-production/apps/worker
    state: absent
"""

RETURN = r"""
changed:
  description: Whether any group was created, changed or deleted (in check mode, would be).
  type: bool
  returned: always
  sample: false
log_groups:
  description: The groups in the order of O(log_groups), after the module ran.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The log group name.
      type: str
      sample: /plinth/plinth-production/apps/api
    region:
      description: The region of the group.
      type: str
      sample: us-east-1
    arn:
      description: The log group ARN (without C(:*)); V("") when the group does not exist.
      type: str
      sample: arn:aws:logs:us-east-1:123456789012:log-group:/plinth/plinth-production/apps/api
    retention:
      description: The retention in days; V(0) for none.
      type: int
      sample: 90
    tags:
      description: The group's tags.
      type: dict
      sample: {Environment: production}
    changed:
      description: Whether this group was created, changed or deleted.
      type: bool
      sample: false
diff:
  description:
    - The groups that changed, before and after, by name; a group of another region than the
      module's is under C(region:name).
  type: dict
  returned: when diff mode is on
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.plinth.platform.plugins.module_utils.bulk import (
    by_region,
    call,
    diff_key,
    item_region,
    refuse_duplicates_by_region,
)


def directory(name: str) -> str:
    """The prefix one DescribeLogGroups call reads a group's siblings with."""
    return name.rsplit("/", 1)[0] + "/" if "/" in name.strip("/") else name


class LogGroupsManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.region = module.region
        self.client: Any = None
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def use_region(self, region: str) -> None:
        """Work on the groups of ``region`` from now on (one client per region)."""
        self.region = region
        self.client = self.module.client(
            "logs", retry_decorator=AWSRetry.jittered_backoff(), region=region
        )

    def diff_key(self, name: str) -> str:
        return diff_key(self.module, self.region, name)

    def call(self, action: str, what: str, **params: Any) -> Any:
        return call(self.module, self.client, action, what, **params)

    def existing(self, names: list[str]) -> dict[str, dict[str, Any]]:
        """The groups among ``names`` that exist, by name."""
        found: dict[str, dict[str, Any]] = {}
        paginator = self.client.get_paginator("describe_log_groups")
        for prefix in sorted({directory(name) for name in names}):
            try:
                pages = paginator.paginate(logGroupNamePrefix=prefix).build_full_result()
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.module.fail_json_aws(
                    e, msg=f"Failed to describe the log groups under {prefix}"
                )
            found.update({g["logGroupName"]: g for g in pages.get("logGroups", [])})
        return {name: found[name] for name in names if name in found}

    def ensure_group(self, wanted: dict[str, Any], group: dict[str, Any] | None) -> dict[str, Any]:
        name = wanted["name"]
        if group is None:
            current = None
            arn = ""
            if not self.module.check_mode:
                params: dict[str, Any] = {"logGroupName": name}
                if wanted["tags"]:
                    params["tags"] = wanted["tags"]
                self.call("create_log_group", f"create log group {name}", **params)
                if wanted["retention"]:
                    self.put_retention(name, wanted["retention"])
                group = self.existing([name]).get(name, {})
                arn = group.get("logGroupArn") or group.get("arn", "").removesuffix(":*")
            desired = {"retention": wanted["retention"] or 0, "tags": dict(wanted["tags"])}
        else:
            arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
            tags = self.call(
                "list_tags_for_resource", f"list the tags of {name}", resourceArn=arn
            ).get("tags", {})
            current = {"retention": group.get("retentionInDays", 0), "tags": tags}
            to_set, to_remove = compare_aws_tags(
                tags, wanted["tags"], self.module.params["purge_tags"]
            )
            desired = {
                "retention": (
                    current["retention"] if wanted["retention"] is None else wanted["retention"]
                ),
                "tags": {k: v for k, v in {**tags, **to_set}.items() if k not in to_remove},
            }
            if not self.module.check_mode:
                if desired["retention"] != current["retention"]:
                    if desired["retention"]:
                        self.put_retention(name, desired["retention"])
                    else:
                        self.call(
                            "delete_retention_policy",
                            f"remove the retention of {name}",
                            logGroupName=name,
                        )
                if to_remove:
                    self.call("untag_resource", f"untag {name}", resourceArn=arn, tagKeys=to_remove)
                if to_set:
                    self.call("tag_resource", f"tag {name}", resourceArn=arn, tags=to_set)
        changed = current != desired
        if changed:
            self.before[self.diff_key(name)] = current or {}
            self.after[self.diff_key(name)] = desired
            self.changed = True
        return dict(desired, name=name, region=self.region, arn=arn, changed=changed)

    def put_retention(self, name: str, days: int) -> None:
        self.call(
            "put_retention_policy",
            f"set the retention of {name}",
            logGroupName=name,
            retentionInDays=days,
        )

    def delete_group(self, name: str, exists: bool) -> dict[str, Any]:
        if exists:
            if not self.module.check_mode:
                self.call("delete_log_group", f"delete log group {name}", logGroupName=name)
            self.before[self.diff_key(name)] = {"exists": True}
            self.after[self.diff_key(name)] = {}
            self.changed = True
        return {"name": name, "region": self.region, "arn": "", "changed": exists}

    def validate(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = []
        for group in groups:
            region = item_region(self.module, group)
            if not region:
                self.module.fail_json(
                    msg=f"{group['name']}: no region (set region or log_groups[].region)"
                )
            wanted.append(dict(group, region=region))
        refuse_duplicates_by_region(
            self.module, wanted, [group["name"] for group in wanted], "log group names"
        )
        return wanted

    def run(self) -> None:
        groups = self.validate(self.module.params["log_groups"])
        results: list[dict[str, Any]] = [{}] * len(groups)
        for region, indexes in by_region(self.module, groups).items():
            self.use_region(region)
            found = self.existing([groups[index]["name"] for index in indexes])
            for index in indexes:
                name = groups[index]["name"]
                if self.module.params["state"] == "absent":
                    results[index] = self.delete_group(name, name in found)
                else:
                    results[index] = self.ensure_group(groups[index], found.get(name))
        out: dict[str, Any] = {"changed": self.changed, "log_groups": results}
        if self.module._diff:
            out["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**out)


def main() -> None:
    group = dict(
        name=dict(type="str", required=True),
        region=dict(type="str"),
        retention=dict(type="int"),
        tags=dict(type="dict", default={}),
    )
    argument_spec = dict(
        log_groups=dict(type="list", elements="dict", required=True, options=group),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    LogGroupsManager(module).run()


if __name__ == "__main__":
    main()
