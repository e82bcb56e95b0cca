#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)
# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ec2_launch_templates
version_added: 0.1.0
short_description: Manage a set of EC2 launch templates in one task
description:
  - Makes a list of EC2 launch templates, each known by its name, exist with the given launch
    template data, version description and tags, and removes the templates named in O(absent).
  - As with M(amazon.aws.ec2_launch_template) (with its defaults C(default_version=latest) and
    C(source_version=latest)), when the data or the version description differs from the
    template's latest version a new version is created and made the default one; unchanged data
    makes no write. A default version that is not the latest one is set to the latest.
  - Written because M(amazon.aws.ec2_launch_template) takes one task per template and about four
    calls each on a no-op (it reads every version of the template and describes it again at the
    end). This module makes one C(DescribeLaunchTemplates) call (filtered by name, with the tags)
    and reads the latest versions of the templates with one account-wide
    C(DescribeLaunchTemplateVersions) call (C(Versions=[$Latest]); the API has no filter by
    template name, so a template not on its first page of 200 is read with a call of its own).
author: Plinth engineering (!UNKNOWN)
options:
  launch_templates:
    description:
      - The launch templates that should exist.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the launch template; it identifies the template.
        type: str
        required: true
      data:
        description:
          - The launch template data (C(LaunchTemplateData) of the EC2 API) with snake_case keys,
            for example C(metadata_options), C(security_group_ids), C(block_device_mappings),
            C(image_id), C(instance_type), C(user_data).
          - C(tag_specifications) is a list of C(resource_type) and C(tags) (a dict), as in
            M(amazon.aws.ec2_launch_template).
          - Keys and value types are checked against the EC2 API model before any call (numbers
            and booleans given as strings are converted). The data is compared with the latest
            version as EC2 returns it, so spell out what EC2 returns (all C(metadata_options),
            for example), or every run makes a new version.
        type: dict
        default: {}
      version_description:
        description: The description of the version.
        type: str
        default: ""
      tags:
        description: Tags of the launch template itself; omitted, they are left as they are.
        type: dict
  absent:
    description:
      - Names of launch templates to delete (with all their versions); names not found are
        ignored. A name must not also be in O(launch_templates).
    type: list
    elements: str
    default: []
  purge_tags:
    description: Whether tags not in O(launch_templates[].tags) are removed.
    type: bool
    default: true
notes:
  - In check mode a template to create is returned with an empty RV(launch_templates[].id) and
    version 1, a template to change with the version it would get.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: IMDSv2-only launch templates of two EKS node groups
  plinth.platform.ec2_launch_templates:
    launch_templates:
      - name: shop-production-general
        version_description: Managed by Plinth
        data:
          metadata_options:
            http_endpoint: enabled
            http_tokens: required
            http_put_response_hop_limit: 1
            http_protocol_ipv6: disabled
            instance_metadata_tags: disabled
          security_group_ids: [sg-0123456789abcdef0]
          block_device_mappings:
            - device_name: /dev/xvda
              ebs: {volume_size: 50, volume_type: gp3, encrypted: true}
          tag_specifications:
            - resource_type: instance
              tags: {Name: shop-production-general}
        tags: {"plinth:stack": shop-production}
    absent: [shop-production-batch]
  register: templates

- name: The latest version of the first template
  ansible.builtin.debug:
    msg: "{{ templates.launch_templates[0].latest_version }}"
"""

RETURN = r"""
launch_templates:
  description: The templates in the order of O(launch_templates), after the run (check mode, as
    they would be).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the template.
      type: str
      sample: shop-production-general
    id:
      description: ID of the template; V("") for one only about to be created (check mode).
      type: str
      sample: lt-0123456789abcdef0
    latest_version:
      description: The latest version number.
      type: int
      sample: 2
    default_version:
      description: The default version number.
      type: int
      sample: 2
    tags:
      description: Tags of the template.
      type: dict
    changed:
      description: Whether the template was created or changed.
      type: bool
deleted:
  description: Names of the templates deleted (in check mode, that would be).
  returned: always
  type: list
  elements: str
diff:
  description: Before and after (version description, data as EC2 names it, tags) of the
    templates that change, by name.
  returned: when diff mode is on
  type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible.module_utils.common.dict_transformations import snake_dict_to_camel_dict
from ansible.module_utils.parsing.convert_bool import boolean
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.plinth.platform.plugins.module_utils.bulk import call, refuse_duplicates

# DescribeLaunchTemplateVersions without a template answers at most 200 versions per page.
PAGE_SIZE = 200


def conform(value: Any, shape: Any, path: str) -> Any:
    """``value`` checked against the botocore ``shape`` (unknown keys refused, numbers and
    booleans given as strings converted); raises ValueError naming the path."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ValueError(f"{path} must be a mapping")
        unknown = sorted(set(value) - set(shape.members))
        if unknown:
            raise ValueError(f"{path} has no {', '.join(unknown)}")
        return {k: conform(v, shape.members[k], f"{path}.{k}") for k, v in value.items()}
    if kind == "list":
        if not isinstance(value, list):
            raise ValueError(f"{path} must be a list")
        return [conform(v, shape.member, f"{path}[{i}]") for i, v in enumerate(value)]
    try:
        if kind in ("integer", "long"):
            if isinstance(value, bool):
                raise TypeError(value)
            return int(value)
        if kind == "boolean":
            return boolean(value, strict=True)
        if kind == "double" or kind == "float":
            return float(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path} must be a {kind}, not {value!r}") from e
    if kind == "string":
        if isinstance(value, (dict, list)):
            raise ValueError(f"{path} must be a string")
        return str(value)
    return value


def normalize(data: dict[str, Any]) -> dict[str, Any]:
    """Launch template data with its tag specifications in a stable order, for comparing.

    A ``launch-template`` tag specification (not valid in launch template data on AWS) is
    dropped: moto copies the template's own tags into the data of its first version.
    """
    specs = [
        spec
        for spec in data.get("TagSpecifications") or []
        if spec.get("ResourceType") != "launch-template"
    ]
    if not specs:
        return {k: v for k, v in data.items() if k != "TagSpecifications"}
    ordered = sorted(
        (dict(spec, Tags=sorted(spec.get("Tags") or [], key=lambda t: t["Key"])) for spec in specs),
        key=lambda s: s.get("ResourceType", ""),
    )
    return dict(data, TagSpecifications=ordered)


class LaunchTemplatesManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def call(self, action: str, what: str, **params: Any) -> Any:
        return call(self.module, self.client, action, what, **params)

    # Input -------------------------------------------------------------------------------------

    def launch_template_data(self, template: dict[str, Any]) -> dict[str, Any]:
        data = {k: v for k, v in template["data"].items() if v is not None}
        specs = data.pop("tag_specifications", None)
        request = snake_dict_to_camel_dict(data, capitalize_first=True)
        if specs is not None:
            if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
                self.module.fail_json(
                    msg=f"{template['name']}: data.tag_specifications must be a list of mappings"
                )
            request["TagSpecifications"] = [
                {
                    "ResourceType": spec.get("resource_type"),
                    "Tags": ansible_dict_to_boto3_tag_list(spec.get("tags") or {}),
                }
                for spec in specs
            ]
        shape = self.client.meta.service_model.shape_for("RequestLaunchTemplateData")
        try:
            return normalize(conform(request, shape, f"{template['name']}: data"))
        except ValueError as e:
            self.module.fail_json(msg=f"{e} (launch template data, see the EC2 API)")
        return {}

    def validate(self) -> list[dict[str, Any]]:
        templates = self.params["launch_templates"]
        names = [t["name"] for t in templates]
        refuse_duplicates(self.module, names, "launch template names")
        refuse_duplicates(self.module, self.params["absent"], "names in absent")
        both = sorted(set(names) & set(self.params["absent"]))
        if both:
            self.module.fail_json(msg=f"Both wanted and absent: {', '.join(both)}")
        return [dict(t, request=self.launch_template_data(t)) for t in templates]

    # Reads -------------------------------------------------------------------------------------

    def existing(self, names: list[str]) -> dict[str, dict[str, Any]]:
        if not names:
            return {}
        paginator = self.client.get_paginator("describe_launch_templates")
        try:
            found = paginator.paginate(
                Filters=[{"Name": "launch-template-name", "Values": names}]
            ).build_full_result()["LaunchTemplates"]
        except (BotoCoreError, ClientError) as e:
            self.module.fail_json_aws(e, msg="Failed to describe the launch templates")
        return {t["LaunchTemplateName"]: t for t in found}

    def latest_versions(self, templates: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The latest version of each template, by template ID."""
        wanted = {t["LaunchTemplateId"] for t in templates}
        latest: dict[str, dict[str, Any]] = {}
        if len(wanted) > 1:
            page = self.call(
                "describe_launch_template_versions",
                "describe the latest launch template versions",
                Versions=["$Latest"],
                MaxResults=PAGE_SIZE,
            )
            for version in page["LaunchTemplateVersions"]:
                if version["LaunchTemplateId"] in wanted:
                    latest[version["LaunchTemplateId"]] = version
        for template_id in sorted(wanted - set(latest)):
            versions = self.call(
                "describe_launch_template_versions",
                f"describe the latest version of launch template {template_id}",
                LaunchTemplateId=template_id,
                Versions=["$Latest"],
            )["LaunchTemplateVersions"]
            if versions:
                latest[template_id] = versions[0]
        return latest

    # Writes ------------------------------------------------------------------------------------

    def create(self, wanted: dict[str, Any]) -> dict[str, Any]:
        name = wanted["name"]
        tags = wanted["tags"] or {}
        self.before[name] = {}
        self.after[name] = {
            "version_description": wanted["version_description"],
            "data": wanted["request"],
            "tags": tags,
        }
        result = {"name": name, "id": "", "latest_version": 1, "default_version": 1, "tags": tags}
        if self.module.check_mode:
            return result
        params: dict[str, Any] = {
            "LaunchTemplateName": name,
            "LaunchTemplateData": wanted["request"],
            "VersionDescription": wanted["version_description"],
        }
        if tags:
            params["TagSpecifications"] = [
                {"ResourceType": "launch-template", "Tags": ansible_dict_to_boto3_tag_list(tags)}
            ]
        template = self.call("create_launch_template", f"create launch template {name}", **params)
        return dict(result, id=template["LaunchTemplate"]["LaunchTemplateId"])

    def update(
        self, wanted: dict[str, Any], template: dict[str, Any], latest: dict[str, Any] | None
    ) -> dict[str, Any]:
        name, template_id = wanted["name"], template["LaunchTemplateId"]
        latest_number = template["LatestVersionNumber"]
        default_number = template["DefaultVersionNumber"]
        current_tags = boto3_tag_list_to_ansible_dict(template.get("Tags") or [])
        before = {
            "version_description": (latest or {}).get("VersionDescription", ""),
            "data": normalize((latest or {}).get("LaunchTemplateData") or {}),
            "tags": current_tags,
            "default_version": default_number,
        }
        new_version = (
            before["data"] != wanted["request"]
            or before["version_description"] != wanted["version_description"]
        )
        to_set, to_unset = {}, []
        if wanted["tags"] is not None:
            to_set, to_unset = compare_aws_tags(
                current_tags, wanted["tags"], self.params["purge_tags"]
            )
        tags = {**{k: v for k, v in current_tags.items() if k not in to_unset}, **to_set}
        if new_version:
            latest_number += 1
        after = {
            "version_description": wanted["version_description"],
            "data": wanted["request"],
            "tags": tags,
            "default_version": latest_number,
        }
        result = {
            "name": name,
            "id": template_id,
            "latest_version": latest_number,
            "default_version": latest_number,
            "tags": tags,
        }
        if after == before:
            return result
        self.before[name], self.after[name] = before, after
        if self.module.check_mode:
            return result
        if new_version:
            version = self.call(
                "create_launch_template_version",
                f"create a version of launch template {name}",
                LaunchTemplateId=template_id,
                LaunchTemplateData=wanted["request"],
                VersionDescription=wanted["version_description"],
            )["LaunchTemplateVersion"]
            latest_number = version["VersionNumber"]
            result.update(latest_version=latest_number, default_version=latest_number)
        if latest_number != default_number:
            self.call(
                "modify_launch_template",
                f"set the default version of launch template {name}",
                LaunchTemplateId=template_id,
                DefaultVersion=str(latest_number),
            )
        if to_unset:
            self.call(
                "delete_tags",
                f"untag launch template {name}",
                Resources=[template_id],
                Tags=[{"Key": k} for k in to_unset],
            )
        if to_set:
            self.call(
                "create_tags",
                f"tag launch template {name}",
                Resources=[template_id],
                Tags=ansible_dict_to_boto3_tag_list(to_set),
            )
        return result

    def run(self) -> None:
        wanted = self.validate()
        absent = self.params["absent"]
        existing = self.existing([t["name"] for t in wanted] + absent)
        present = [existing[t["name"]] for t in wanted if t["name"] in existing]
        latest = self.latest_versions(present) if present else {}

        results = []
        for template in wanted:
            found = existing.get(template["name"])
            if found is None:
                result = self.create(template)
            else:
                result = self.update(template, found, latest.get(found["LaunchTemplateId"]))
            result["changed"] = template["name"] in self.after
            results.append(result)

        deleted = []
        for name in absent:
            found = existing.get(name)
            if found is None:
                continue
            deleted.append(name)
            self.before[name] = {"id": found["LaunchTemplateId"]}
            self.after[name] = {}
            if not self.module.check_mode:
                self.call(
                    "delete_launch_template",
                    f"delete launch template {name}",
                    LaunchTemplateId=found["LaunchTemplateId"],
                )

        out: dict[str, Any] = {
            "changed": bool(self.after),
            "launch_templates": results,
            "deleted": deleted,
        }
        if self.module._diff:
            out["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**out)


def main() -> None:
    template = dict(
        name=dict(type="str", required=True),
        data=dict(type="dict", default={}),
        version_description=dict(type="str", default=""),
        tags=dict(type="dict"),
    )
    argument_spec = dict(
        launch_templates=dict(type="list", elements="dict", default=[], options=template),
        absent=dict(type="list", elements="str", default=[]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    LaunchTemplatesManager(module).run()


if __name__ == "__main__":
    main()
