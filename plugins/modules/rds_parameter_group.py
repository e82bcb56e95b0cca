#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_parameter_group
version_added: 0.1.0
short_description: Manage RDS DB parameter groups and the parameters set in them
description:
  - Create, tag or delete an RDS DB parameter group, and make the parameters set in it
    (C(Source=user)) exactly O(parameters), or at least O(parameters) with
    O(purge_parameters=false).
  - Unlike M(amazon.aws.rds_instance_param_group), a parameter that cannot be set (unknown to the
    family, or not modifiable) makes the module fail instead of being skipped with a returned
    C(errors) list, and a group that does not exist is recognised whether the API answers
    C(DBParameterGroupNotFound) or an empty list.
  - An unchanged group costs three reads (the group, its user-set parameters, its tags); the
    family's whole parameter listing is read only when a parameter is to be set.
  - Parameters whose C(ApplyType) is C(dynamic) are applied immediately, all others (static, or
    unknown because the API does not report it) at the next reboot (C(pending-reboot)), which AWS
    accepts for every parameter.
  - With O(parameter_groups) one run manages several groups, each in its own region (one client
    per region), instead of one task run per group.
  - This module supports check mode and diff mode.
author:
  - Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - The name of the DB parameter group (in the module's region).
      - Exactly one of O(name) and O(parameter_groups) is required.
    type: str
  parameter_groups:
    description:
      - Several groups instead of O(name), O(family), O(description), O(parameters) and O(tags).
      - O(purge_parameters), O(purge_tags) and O(state) apply to each group.
    type: list
    elements: dict
    suboptions:
      name:
        description: The name of the group; unique within a region.
        required: true
        type: str
      region:
        description: The region of the group; by default the module's region (O(region)).
        type: str
      family:
        description: As O(family).
        type: str
      description:
        description: As O(description).
        type: str
      parameters:
        description: As O(parameters).
        type: dict
        default: {}
      tags:
        description: As O(tags); V(null) leaves the group's tags as they are.
        type: dict
  family:
    description:
      - The DB parameter group family, for example V(postgres16).
      - Required to create the group; it cannot be changed afterwards (the module fails when it
        differs).
    type: str
  description:
    description:
      - The description of the group, set when it is created (AWS cannot change it).
      - Defaults to the group's name.
    type: str
  parameters:
    description:
      - Parameter names and values. Values are compared and sent as strings.
    type: dict
    default: {}
  purge_parameters:
    description:
      - Whether parameters set in the group but not in O(parameters) are reset to the engine
        default (C(ResetDBParameterGroup)).
    type: bool
    default: true
  state:
    description:
      - V(present) to ensure the group, V(absent) to delete it.
    default: present
    choices: [present, absent]
    type: str
notes:
  - The moto emulator (5.2.5) answers C(DescribeDBParameterGroups) for a missing group with an
    empty list instead of C(DBParameterGroupNotFound); this is what makes
    M(amazon.aws.rds_instance_param_group) fail with C(list index out of range) on create.
  - The moto emulator (5.2.5) lists in C(DescribeDBParameters) only the parameters that were set,
    without C(ApplyType), C(IsModifiable) or C(DataType); names are then not checked against the
    family and every parameter is applied C(pending-reboot).
  - The moto emulator (5.2.5) does not implement C(ResetDBParameterGroup), so purging parameters
    fails against it.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.
- name: PostgreSQL 16 parameters for the main database
  plinth.platform.rds_parameter_group:
    name: bioinvest-production-main
    family: postgres16
    description: Parameters of the main database
    parameters:
      log_min_duration_statement: 500
      shared_preload_libraries: pg_stat_statements
    tags:
      Environment: production

- name: The same group in the DR region, for the cross-region replica
  plinth.platform.rds_parameter_group:
    name: bioinvest-production-main
    family: postgres16
    region: us-west-2
    parameters:
      log_min_duration_statement: 500

- name: Delete the group
  plinth.platform.rds_parameter_group:
    name: bioinvest-production-main
    state: absent

- name: The group in the primary and in the DR region, in one task
  plinth.platform.rds_parameter_group:
    parameter_groups:
      - name: bioinvest-production-main
        family: postgres16
        parameters: {log_min_duration_statement: 500}
      - name: bioinvest-production-main
        region: us-west-2
        family: postgres16
        parameters: {log_min_duration_statement: 500}
"""

RETURN = r"""
changed:
  description: Whether the group was created, deleted, tagged or its parameters changed.
  type: bool
  returned: always
  sample: true
parameter_group:
  description:
    - The group after the module ran, or the group that was deleted (O(state=absent)).
    - An empty dict when O(state=absent) and the group did not exist.
  type: dict
  returned: with O(name)
  contains:
    db_parameter_group_name:
      description: The name of the group.
      type: str
      returned: when the group exists
      sample: bioinvest-production-main
    db_parameter_group_family:
      description: The family of the group.
      type: str
      returned: when the group exists
      sample: postgres16
    description:
      description: The description of the group.
      type: str
      returned: when the group exists
      sample: Parameters of the main database
    db_parameter_group_arn:
      description: The ARN of the group (not known in check mode before creation).
      type: str
      returned: when the group exists
      sample: arn:aws:rds:us-east-1:123456789012:pg:bioinvest-production-main
    parameters:
      description: The parameters set in the group (C(Source=user)), name to value.
      type: dict
      returned: when the group exists
      sample: {"log_min_duration_statement": "500"}
    tags:
      description: The tags of the group.
      type: dict
      returned: when the group exists
      sample: {"Environment": "production"}
parameter_groups:
  description:
    - With O(parameter_groups), each group in the order given, as RV(parameter_group) (empty
      but for its name, region and changed when it does not exist), with C(name), C(region) and
      C(changed).
  type: list
  elements: dict
  returned: with O(parameter_groups)
  sample:
    - name: bioinvest-production-main
      region: us-west-2
      changed: false
      db_parameter_group_name: bioinvest-production-main
      db_parameter_group_family: postgres16
      parameters: {"log_min_duration_statement": "500"}
diff:
  description:
    - With O(name), the group before and after; with O(parameter_groups), the groups that
      changed, by name (C(region:name) for a group of another region than the module's).
  type: dict
  returned: when diff mode is on
"""

from typing import Any

try:  # noqa: SIM105 (the import-sanity pattern Ansible expects)
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.plinth.platform.plugins.module_utils.bulk import (
    by_region,
    diff_key,
    item_region,
    refuse_duplicates_by_region,
)

# ModifyDBParameterGroup and ResetDBParameterGroup take at most 20 parameters per call.
BATCH = 20


def _batches(items: list[Any]) -> list[list[Any]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def rds_client(module: AnsibleAWSModule, region: str | None = None) -> Any:
    extra = {"region": region} if region else {}
    return module.client("rds", retry_decorator=AWSRetry.jittered_backoff(), **extra)


class ParameterGroupManager:
    def __init__(
        self, module: AnsibleAWSModule, params: dict[str, Any] | None = None, client: Any = None
    ) -> None:
        """``params`` (name, family, description, parameters, tags and the purge options and
        state) default to the module's; a run over O(parameter_groups) passes each group's, with
        the client of its region."""
        self.module = module
        self.params = module.params if params is None else params
        self.name = self.params["name"]
        self.client = client or rds_client(module)
        self.changed = False

    def describe(self) -> dict[str, Any] | None:
        try:
            groups = self.client.describe_db_parameter_groups(
                aws_retry=True, DBParameterGroupName=self.name
            )["DBParameterGroups"]
        except is_boto3_error_code("DBParameterGroupNotFound"):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Could not describe parameter group {self.name}")
        return groups[0] if groups else None

    def all_parameters(self, **filters: Any) -> list[dict[str, Any]]:
        try:
            paginator = self.client.get_paginator("describe_db_parameters")
            return (
                paginator.paginate(DBParameterGroupName=self.name, **filters)
                .build_full_result()
                .get("Parameters", [])
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not describe the parameters of {self.name}")

    def tags(self, arn: str) -> dict[str, str]:
        try:
            tags = self.client.list_tags_for_resource(aws_retry=True, ResourceName=arn)["TagList"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not list the tags of {self.name}")
        return boto3_tag_list_to_ansible_dict(tags)

    def view(self, group: dict[str, Any], parameters: dict[str, str], tags: dict[str, str]):
        return {
            "db_parameter_group_name": group.get("DBParameterGroupName", self.name),
            "db_parameter_group_family": group.get("DBParameterGroupFamily"),
            "description": group.get("Description"),
            "db_parameter_group_arn": group.get("DBParameterGroupArn"),
            "parameters": parameters,
            "tags": tags,
        }

    def create(self) -> dict[str, Any]:
        family = self.params["family"]
        if not family:
            self.module.fail_json(msg=f"family is required to create parameter group {self.name}")
        request = {
            "DBParameterGroupName": self.name,
            "DBParameterGroupFamily": family,
            "Description": self.params["description"] or self.name,
        }
        if self.params["tags"]:
            request["Tags"] = ansible_dict_to_boto3_tag_list(self.params["tags"])
        self.changed = True
        if self.module.check_mode:
            return request
        try:
            return self.client.create_db_parameter_group(aws_retry=True, **request)[
                "DBParameterGroup"
            ]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not create parameter group {self.name}")

    def update_tags(self, arn: str, current: dict[str, str]) -> dict[str, str]:
        if self.params["tags"] is None:
            return current
        to_set, to_remove = compare_aws_tags(
            current, self.params["tags"], purge_tags=self.params["purge_tags"]
        )
        if not to_set and not to_remove:
            return current
        self.changed = True
        desired = {k: v for k, v in current.items() if k not in to_remove}
        desired.update(to_set)
        if self.module.check_mode:
            return desired
        try:
            if to_remove:
                self.client.remove_tags_from_resource(
                    aws_retry=True, ResourceName=arn, TagKeys=to_remove
                )
            if to_set:
                self.client.add_tags_to_resource(
                    aws_retry=True, ResourceName=arn, Tags=ansible_dict_to_boto3_tag_list(to_set)
                )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not tag parameter group {self.name}")
        return desired

    def plan_parameters(
        self, listing: list[dict[str, Any]], current: dict[str, str]
    ) -> tuple[list[dict[str, str]], list[str]]:
        """The parameters to modify (with their apply method) and the names to reset."""
        desired = {name: str(value) for name, value in self.params["parameters"].items()}
        known = {p["ParameterName"]: p for p in listing}
        # AWS lists every parameter of the family with its ApplyType; a listing without it (the
        # emulator lists only the parameters set) cannot tell unknown names apart.
        complete = any("ApplyType" in p for p in listing)
        problems = []
        modify = []
        for name, value in desired.items():
            meta = known.get(name)
            if meta is None and complete:
                problems.append(f"{name} is not a parameter of this group's family")
                continue
            if meta is not None and meta.get("IsModifiable") is False:
                problems.append(f"{name} is not modifiable")
                continue
            if current.get(name) == value:
                continue
            dynamic = meta is not None and meta.get("ApplyType") == "dynamic"
            method = "immediate" if dynamic else "pending-reboot"
            modify.append({"ParameterName": name, "ParameterValue": value, "ApplyMethod": method})
        if problems:
            self.module.fail_json(
                msg=f"Parameter group {self.name}: " + "; ".join(problems), problems=problems
            )
        reset = []
        if self.params["purge_parameters"]:
            reset = sorted(name for name in current if name not in desired)
        return modify, reset

    def apply_parameters(self, modify: list[dict[str, str]], reset: list[str]) -> None:
        if not modify and not reset:
            return
        self.changed = True
        if self.module.check_mode:
            return
        try:
            for batch in _batches(modify):
                self.client.modify_db_parameter_group(
                    aws_retry=True, DBParameterGroupName=self.name, Parameters=batch
                )
            for batch in _batches(reset):
                self.client.reset_db_parameter_group(
                    aws_retry=True,
                    DBParameterGroupName=self.name,
                    Parameters=[
                        {"ParameterName": n, "ApplyMethod": "pending-reboot"} for n in batch
                    ],
                )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Could not set the parameters of {self.name}")

    def ensure_present(self) -> dict[str, Any]:
        group = self.describe()
        before: dict[str, Any] = {}
        if group is None:
            group = self.create()
            listing: list[dict[str, Any]] = []
            current: dict[str, str] = {}
            tags = dict(self.params["tags"] or {})
            if not self.module.check_mode:
                # A new group's listing tells which names exist and how they apply (AWS).
                listing = self.all_parameters()
        else:
            family = self.params["family"]
            if family and family != group.get("DBParameterGroupFamily"):
                self.module.fail_json(
                    msg=f"Parameter group {self.name} has family"
                    f" {group.get('DBParameterGroupFamily')}, not {family}; AWS cannot change it"
                )
            current = {
                p["ParameterName"]: p.get("ParameterValue")
                for p in self.all_parameters(Source="user")
            }
            # The family's listing (several pages on AWS) only serves the parameters to modify: a
            # value already set by the user is known to the family and modifiable.
            wanted = {name: str(value) for name, value in self.params["parameters"].items()}
            differs = any(current.get(name) != value for name, value in wanted.items())
            listing = self.all_parameters() if differs else []
            old_tags = self.tags(group["DBParameterGroupArn"])
            before = self.view(group, current, old_tags)
            tags = self.update_tags(group["DBParameterGroupArn"], old_tags)
        modify, reset = self.plan_parameters(listing, current)
        self.apply_parameters(modify, reset)
        after = {k: v for k, v in current.items() if k not in reset}
        after.update({p["ParameterName"]: p["ParameterValue"] for p in modify})
        return {"before": before, "after": self.view(group, after, tags)}

    def ensure_absent(self) -> dict[str, Any]:
        group = self.describe()
        if group is None:
            return {"before": {}, "after": {}}
        current = {
            p["ParameterName"]: p.get("ParameterValue") for p in self.all_parameters(Source="user")
        }
        before = self.view(group, current, self.tags(group["DBParameterGroupArn"]))
        self.changed = True
        if not self.module.check_mode:
            try:
                self.client.delete_db_parameter_group(
                    aws_retry=True, DBParameterGroupName=self.name
                )
            except is_boto3_error_code("DBParameterGroupNotFound"):
                pass
            except (
                botocore.exceptions.ClientError,
                botocore.exceptions.BotoCoreError,
            ) as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg=f"Could not delete parameter group {self.name}")
        return {"before": before, "after": {}}

    def process(self) -> None:
        if self.params["state"] == "present":
            diff = self.ensure_present()
            result = {"changed": self.changed, "parameter_group": diff["after"]}
        else:
            diff = self.ensure_absent()
            result = {"changed": self.changed, "parameter_group": diff["before"]}
        if self.module._diff:
            result["diff"] = diff
        self.module.exit_json(**result)

    def converge(self) -> dict[str, Any]:
        """The group after the module ran (the deleted group with O(state=absent)), with the
        diff under ``before`` / ``after``."""
        if self.params["state"] == "present":
            diff = self.ensure_present()
            return dict(diff["after"], diff=diff)
        diff = self.ensure_absent()
        return dict(diff["before"], diff=diff)


def process_groups(module: AnsibleAWSModule) -> None:
    """The O(parameter_groups) form: every group checked before any call, then region by
    region with one client each."""
    groups = module.params["parameter_groups"]
    for group in groups:
        if not item_region(module, group):
            module.fail_json(msg=f"{group['name']}: no region (set region)")
    refuse_duplicates_by_region(
        module, groups, [group["name"] for group in groups], "parameter group names"
    )
    shared = {k: module.params[k] for k in ("purge_parameters", "purge_tags", "state")}
    results: list[dict[str, Any]] = [{}] * len(groups)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for region, indexes in by_region(module, groups).items():
        client = rds_client(module, region)
        for index in indexes:
            manager = ParameterGroupManager(module, dict(groups[index], **shared), client)
            result = manager.converge()
            diff = result.pop("diff")
            results[index] = dict(result, name=manager.name, region=region, changed=manager.changed)
            if manager.changed:
                key = diff_key(module, region, manager.name)
                before[key], after[key] = diff["before"], diff["after"]
    out: dict[str, Any] = {"changed": bool(after), "parameter_groups": results}
    if module._diff:
        out["diff"] = {"before": before, "after": after}
    module.exit_json(**out)


def main() -> None:
    group = dict(
        name=dict(type="str", required=True),
        region=dict(type="str"),
        family=dict(type="str"),
        description=dict(type="str"),
        parameters=dict(type="dict", default={}),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        name=dict(type="str"),
        parameter_groups=dict(type="list", elements="dict", options=group),
        family=dict(type="str"),
        description=dict(type="str"),
        parameters=dict(type="dict", default={}),
        purge_parameters=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["name", "parameter_groups"]],
        required_one_of=[["name", "parameter_groups"]],
    )
    if module.params["parameter_groups"] is not None:
        process_groups(module)
    else:
        ParameterGroupManager(module).process()


if __name__ == "__main__":
    main()
