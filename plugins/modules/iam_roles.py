#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_roles
version_added: 0.1.0
short_description: Manage a set of IAM roles, their policies and tags in one task
description:
  - Makes a set of IAM roles exist as given (or not exist), with their trust policy, description,
    maximum session duration, attached managed policies, inline policies and tags.
  - Written because M(amazon.aws.iam_role) takes one task (one module run) per role and a role
    with an inline policy needs a second task (M(amazon.aws.iam_policy)), each re-reading the
    role. Here an unchanged role costs C(GetRole) (trust policy, description, session duration
    and tags), C(ListAttachedRolePolicies) when O(roles[].managed_policies) is given, and
    C(ListRolePolicies) plus one C(GetRolePolicy) per wanted inline policy when
    O(roles[].inline_policies) is given. Writes happen only for differences.
  - Not for EC2 instance profiles (roles of EC2 instances started outside EKS managed node
    groups); use M(amazon.aws.iam_role) with O(amazon.aws.iam_role#module:create_instance_profile)
    for them. Permissions boundaries are not managed either.
  - Policy documents (trust and inline) are compared as normalized JSON, as
    M(amazon.aws.iam_role) does, so key order, a single statement given as a list or not, and
    the account root given as an ID or an ARN make no difference.
author:
  - Plinth engineering (!UNKNOWN)
options:
  roles:
    description:
      - The roles. IAM is global, the module's region does not matter.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The role name (not an ARN).
        type: str
        required: true
      state:
        description:
          - V(present) to make the role exist as given, V(absent) to delete it (its managed
            policies are detached and its inline policies deleted first).
        type: str
        default: present
        choices: [present, absent]
      path:
        description:
          - The role's path. It cannot be changed on an existing role; a different path fails.
        type: str
        default: /
      description:
        description: The role's description. V(null) leaves it as it is.
        type: str
      assume_role_policy_document:
        description:
          - The trust policy, as a dict or a JSON string. Required for O(roles[].state=present).
        type: json
      managed_policies:
        description:
          - ARNs of the managed policies to attach. V(null) leaves the attached policies alone
            (and saves a call). See O(roles[].purge_policies).
        type: list
        elements: str
      purge_policies:
        description:
          - Whether managed policies not in O(roles[].managed_policies) are detached.
        type: bool
        default: true
      inline_policies:
        description:
          - Inline policies, policy name to document (a dict or a JSON string). V(null) leaves
            the inline policies alone (and saves a call). See O(roles[].purge_inline_policies).
        type: dict
      purge_inline_policies:
        description:
          - Whether inline policies not in O(roles[].inline_policies) are deleted.
        type: bool
        default: true
      max_session_duration:
        description:
          - The maximum session duration in seconds, 3600 to 43200. V(null) leaves it as it is.
        type: int
      tags:
        description: Tags of the role. V(null) leaves them as they are. See O(roles[].purge_tags).
        type: dict
      purge_tags:
        description: Whether tags not in O(roles[].tags) are removed.
        type: bool
        default: true
notes:
  - In check mode a role that does not exist yet is reported with RV(roles[].arn="") and
    RV(roles[].role_id=""), as it would be created; RV(arns) maps its name to V("") too.
  - Names given twice and policy documents that are not valid JSON objects are refused before
    any AWS call.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: The EKS control plane and node roles in one task
  plinth.platform.iam_roles:
    roles:
      - name: plinth-production-eks-cluster
        description: EKS control plane
        assume_role_policy_document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Service: eks.amazonaws.com}
              Action: [sts:AssumeRole, sts:TagSession]
        managed_policies:
          - arn:aws:iam::aws:policy/AmazonEKSClusterPolicy
        tags: {Environment: production}
      - name: plinth-production-vpc-flow-logs
        assume_role_policy_document:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Principal: {Service: vpc-flow-logs.amazonaws.com}
              Action: sts:AssumeRole
        inline_policies:
          write-flow-logs:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: [logs:CreateLogStream, logs:PutLogEvents]
                Resource: "*"
  register: roles

- name: Use an ARN
  ansible.builtin.debug:
    msg: "{{ roles.arns['plinth-production-eks-cluster'] }}"

- name: Delete a role
  plinth.platform.iam_roles:
    roles:
      - name: plinth-production-vpc-flow-logs
        state: absent
"""

RETURN = r"""
changed:
  description: Whether any role was created, changed or deleted (in check mode, would be).
  type: bool
  returned: always
  sample: false
roles:
  description: The roles in the order of O(roles), after the module ran.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The role name.
      type: str
      sample: plinth-production-eks-cluster
    arn:
      description: The role ARN; V("") when the role does not exist (check mode, absent).
      type: str
      sample: arn:aws:iam::123456789012:role/plinth-production-eks-cluster
    role_id:
      description: The role's unique ID; V("") when the role does not exist.
      type: str
      sample: AROA1234567890EXAMPLE
    path:
      description: The role's path.
      type: str
      sample: /
    description:
      description: The role's description.
      type: str
      sample: EKS control plane
    max_session_duration:
      description: The maximum session duration in seconds.
      type: int
      sample: 3600
    assume_role_policy_document:
      description: The trust policy.
      type: dict
    managed_policies:
      description:
        - ARNs of the attached managed policies; only when O(roles[].managed_policies) is given.
      type: list
      elements: str
    inline_policies:
      description:
        - Names of the role's inline policies; only when O(roles[].inline_policies) is given.
      type: list
      elements: str
    tags:
      description: The role's tags.
      type: dict
      sample: {Environment: production}
    changed:
      description: Whether this role was created, changed or deleted.
      type: bool
      sample: false
arns:
  description: Role name to ARN, for every role of O(roles) (V("") for a role that does not exist).
  type: dict
  returned: always
  sample: {plinth-eks-cluster: "arn:aws:iam::123456789012:role/plinth-eks-cluster"}
"""

import contextlib
import copy
import json
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.plinth.platform.plugins.module_utils.bulk import call, refuse_duplicates

MIN_SESSION = 3600
MAX_SESSION = 43200


def parse_document(module: AnsibleAWSModule, value: Any, what: str) -> dict[str, Any]:
    """A policy document given as a dict or a JSON string, as a dict; fails on anything else."""
    if isinstance(value, dict):
        return value
    try:
        document = json.loads(value)
    except (TypeError, ValueError) as e:
        module.fail_json(msg=f"The {what} is not valid JSON: {e}")
    if not isinstance(document, dict):
        module.fail_json(msg=f"The {what} is not a JSON object")
    return document


def validate(module: AnsibleAWSModule) -> list[dict[str, Any]]:
    """The roles with their documents parsed; fails before any call on bad input."""
    roles = copy.deepcopy(module.params["roles"])
    refuse_duplicates(module, [role["name"] for role in roles], "role names")
    for role in roles:
        name = role["name"]
        if role["state"] == "absent":
            continue
        if role["assume_role_policy_document"] is None:
            module.fail_json(msg=f"Role {name}: assume_role_policy_document is required")
        role["assume_role_policy_document"] = parse_document(
            module, role["assume_role_policy_document"], f"trust policy of role {name}"
        )
        if role["inline_policies"] is not None:
            role["inline_policies"] = {
                policy: parse_document(module, document, f"inline policy {policy} of role {name}")
                for policy, document in role["inline_policies"].items()
            }
        duration = role["max_session_duration"]
        if duration is not None and not MIN_SESSION <= duration <= MAX_SESSION:
            module.fail_json(
                msg=f"Role {name}: max_session_duration must be {MIN_SESSION} to {MAX_SESSION}"
            )
    return roles


class IamRolesManager:
    def __init__(self, module: AnsibleAWSModule, roles: list[dict[str, Any]]) -> None:
        self.module = module
        self.roles = roles
        self.client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def call(self, action: str, what: str, **params: Any) -> Any:
        return call(self.module, self.client, action, what, **params)

    def write(self, action: str, what: str, **params: Any) -> None:
        """A write call, skipped in check mode."""
        if not self.module.check_mode:
            self.call(action, what, **params)

    def get_role(self, name: str) -> dict[str, Any] | None:
        try:
            return self.client.get_role(aws_retry=True, RoleName=name)["Role"]
        except is_boto3_error_code("NoSuchEntity"):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to get role {name}")
        return None

    def attached_policies(self, name: str) -> list[str]:
        try:
            paginator = self.client.get_paginator("list_attached_role_policies")
            pages = paginator.paginate(RoleName=name).build_full_result()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to list the managed policies of {name}")
        return [policy["PolicyArn"] for policy in pages.get("AttachedPolicies", [])]

    def inline_policy_names(self, name: str) -> list[str]:
        try:
            paginator = self.client.get_paginator("list_role_policies")
            pages = paginator.paginate(RoleName=name).build_full_result()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to list the inline policies of {name}")
        return pages.get("PolicyNames", [])

    def create(self, wanted: dict[str, Any]) -> dict[str, Any]:
        """Create the role with its trust policy, description, duration and tags."""
        name = wanted["name"]
        params: dict[str, Any] = {
            "RoleName": name,
            "Path": wanted["path"],
            "AssumeRolePolicyDocument": json.dumps(wanted["assume_role_policy_document"]),
        }
        if wanted["description"] is not None:
            params["Description"] = wanted["description"]
        if wanted["max_session_duration"] is not None:
            params["MaxSessionDuration"] = wanted["max_session_duration"]
        if wanted["tags"]:
            params["Tags"] = ansible_dict_to_boto3_tag_list(wanted["tags"])
        if self.module.check_mode:
            return {"Arn": "", "RoleId": ""}
        role = self.call("create_role", f"create role {name}", **params)["Role"]
        try:
            self.client.get_waiter("role_exists").wait(
                RoleName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        except botocore.exceptions.WaiterError as e:
            self.module.fail_json_aws(e, msg=f"Role {name} did not appear after its creation")
        return role

    def update_role(self, wanted: dict[str, Any], role: dict[str, Any]) -> bool:
        """Trust policy, description, session duration and tags, from GetRole's answer."""
        name = wanted["name"]
        if role["Path"] != wanted["path"]:
            self.module.fail_json(
                msg=f"Role {name}: the path cannot be changed (it is {role['Path']},"
                f" {wanted['path']} is wanted)"
            )
        changed = False
        trust = wanted["assume_role_policy_document"]
        if compare_policies(role.get("AssumeRolePolicyDocument") or {}, trust):
            changed = True
            self.write(
                "update_assume_role_policy",
                f"update the trust policy of {name}",
                RoleName=name,
                PolicyDocument=json.dumps(trust),
            )
        update: dict[str, Any] = {}
        if (
            wanted["description"] is not None
            and role.get("Description", "") != wanted["description"]
        ):
            update["Description"] = wanted["description"]
        duration = wanted["max_session_duration"]
        if duration is not None and role.get("MaxSessionDuration") != duration:
            update["MaxSessionDuration"] = duration
        if update:
            changed = True
            self.write("update_role", f"update role {name}", RoleName=name, **update)
        if wanted["tags"] is not None:
            tags = boto3_tag_list_to_ansible_dict(role.get("Tags", []))
            to_set, to_remove = compare_aws_tags(tags, wanted["tags"], wanted["purge_tags"])
            if to_remove:
                self.write("untag_role", f"untag {name}", RoleName=name, TagKeys=to_remove)
            if to_set:
                self.write(
                    "tag_role",
                    f"tag {name}",
                    RoleName=name,
                    Tags=ansible_dict_to_boto3_tag_list(to_set),
                )
            changed |= bool(to_set or to_remove)
        return changed

    def ensure_managed(
        self, wanted: dict[str, Any], exists: bool
    ) -> tuple[bool, list[str], list[str]]:
        """Attach what is missing, detach (with purge) what is not wanted.
        Returns whether anything changed and the attached ARNs before and after."""
        name = wanted["name"]
        current = self.attached_policies(name) if exists else []
        desired = wanted["managed_policies"]
        detach = [arn for arn in current if arn not in desired] if wanted["purge_policies"] else []
        attach = [arn for arn in dict.fromkeys(desired) if arn not in current]
        for arn in detach:
            self.write(
                "detach_role_policy", f"detach {arn} from {name}", RoleName=name, PolicyArn=arn
            )
        for arn in attach:
            self.write(
                "attach_role_policy", f"attach {arn} to {name}", RoleName=name, PolicyArn=arn
            )
        after = [arn for arn in current if arn not in detach] + attach
        return bool(attach or detach), current, after

    def ensure_inline(self, wanted: dict[str, Any], exists: bool) -> tuple[bool, dict[str, Any]]:
        """Put the inline policies that differ, delete (with purge) the ones not wanted.
        Returns whether anything changed and the documents before the changes."""
        name = wanted["name"]
        desired = wanted["inline_policies"]
        current_names = self.inline_policy_names(name) if exists else []
        before: dict[str, Any] = {}
        changed = False
        for policy, document in desired.items():
            if policy in current_names:
                before[policy] = self.call(
                    "get_role_policy",
                    f"get inline policy {policy} of {name}",
                    RoleName=name,
                    PolicyName=policy,
                )["PolicyDocument"]
                if not compare_policies(before[policy], document):
                    continue
            changed = True
            self.write(
                "put_role_policy",
                f"put inline policy {policy} on {name}",
                RoleName=name,
                PolicyName=policy,
                PolicyDocument=json.dumps(document),
            )
        for policy in current_names:
            if policy in desired:
                continue
            before[policy] = None  # not read: only its name is shown
            if wanted["purge_inline_policies"]:
                changed = True
                self.write(
                    "delete_role_policy",
                    f"delete inline policy {policy} of {name}",
                    RoleName=name,
                    PolicyName=policy,
                )
        return changed, before

    @staticmethod
    def view(role: dict[str, Any]) -> dict[str, Any]:
        """What the diff shows of a role as AWS describes it."""
        return {
            "path": role["Path"],
            "description": role.get("Description", ""),
            "max_session_duration": role.get("MaxSessionDuration", MIN_SESSION),
            "assume_role_policy_document": role.get("AssumeRolePolicyDocument") or {},
            "tags": boto3_tag_list_to_ansible_dict(role.get("Tags", [])),
        }

    def ensure_present(self, wanted: dict[str, Any]) -> dict[str, Any]:
        name = wanted["name"]
        role = self.get_role(name)
        if role is None:
            before: dict[str, Any] = {}
            created = self.create(wanted)
            current = {
                "path": wanted["path"],
                "description": wanted["description"] or "",
                "max_session_duration": wanted["max_session_duration"] or MIN_SESSION,
                "assume_role_policy_document": wanted["assume_role_policy_document"],
                "tags": wanted["tags"] or {},
            }
            arn, role_id, changed = created["Arn"], created["RoleId"], True
        else:
            before = self.view(role)
            changed = self.update_role(wanted, role)
            current = dict(before)
            arn, role_id = role["Arn"], role["RoleId"]
            for option in ("description", "max_session_duration", "assume_role_policy_document"):
                if wanted[option] is not None:
                    current[option] = wanted[option]
            if wanted["tags"] is not None:
                tags = dict(current["tags"]) if not wanted["purge_tags"] else {}
                current["tags"] = dict(tags, **wanted["tags"])
        after = dict(current)
        if wanted["managed_policies"] is not None:
            managed_changed, attached_before, attached = self.ensure_managed(
                wanted, role is not None
            )
            changed |= managed_changed
            after["managed_policies"] = attached
            if role is not None:
                before["managed_policies"] = attached_before
        if wanted["inline_policies"] is not None:
            inline_changed, inline_before = self.ensure_inline(wanted, role is not None)
            changed |= inline_changed
            kept = {} if wanted["purge_inline_policies"] else inline_before
            after["inline_policies"] = dict(kept, **wanted["inline_policies"])
            if role is not None:
                before["inline_policies"] = inline_before
        self.record(name, before, after, changed)
        result = dict(after, name=name, arn=arn, role_id=role_id, changed=changed)
        if "inline_policies" in result:
            result["inline_policies"] = sorted(result["inline_policies"])
        return result

    def ensure_absent(self, name: str) -> dict[str, Any]:
        role = self.get_role(name)
        if role is not None:
            before = self.view(role)
            for arn in self.attached_policies(name):
                self.write(
                    "detach_role_policy", f"detach {arn} from {name}", RoleName=name, PolicyArn=arn
                )
            for policy in self.inline_policy_names(name):
                self.write(
                    "delete_role_policy",
                    f"delete inline policy {policy} of {name}",
                    RoleName=name,
                    PolicyName=policy,
                )
            self.write("delete_role", f"delete role {name}", RoleName=name)
            self.record(name, before, {}, True)
        return {"name": name, "arn": "", "role_id": "", "changed": role is not None}

    def record(
        self, name: str, before: dict[str, Any], after: dict[str, Any], changed: bool
    ) -> None:
        self.changed |= changed
        if changed:
            self.before[name] = before
            self.after[name] = after

    def run(self) -> None:
        results = [
            (
                self.ensure_present(role)
                if role["state"] == "present"
                else self.ensure_absent(role["name"])
            )
            for role in self.roles
        ]
        outcome: dict[str, Any] = {
            "changed": self.changed,
            "roles": results,
            "arns": {role["name"]: role["arn"] for role in results},
        }
        if self.module._diff:
            outcome["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**outcome)


def main() -> None:
    role = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        path=dict(type="str", default="/"),
        description=dict(type="str"),
        assume_role_policy_document=dict(type="json"),
        managed_policies=dict(type="list", elements="str"),
        purge_policies=dict(type="bool", default=True),
        inline_policies=dict(type="dict"),
        purge_inline_policies=dict(type="bool", default=True),
        max_session_duration=dict(type="int"),
        tags=dict(type="dict"),
        purge_tags=dict(type="bool", default=True),
    )
    argument_spec = dict(roles=dict(type="list", elements="dict", required=True, options=role))
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    IamRolesManager(module, validate(module)).run()


if __name__ == "__main__":
    main()
