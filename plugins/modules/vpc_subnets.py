#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_subnets
version_added: 0.2.0
short_description: Manage all the subnets of a VPC in one call
description:
  - Create, tag and delete many subnets of one VPC in a single module call.
  - The subnets of the VPC are read with one C(DescribeSubnets) call; only the differences from
    the requested subnets are written. A rerun that changes nothing makes no other API call.
  - A subnet is identified by its O(subnets[].cidr) within O(vpc_id).
  - The availability zone of an existing subnet cannot change; the module fails naming the
    subnet when it differs.
  - Compared with M(amazon.aws.ec2_vpc_subnet), which manages one subnet per call with its own
    describe calls, this module is meant for a whole tier layout (tiers times availability zones).
  - This module supports check mode and diff mode.
author:
  - Plinth engineering (!UNKNOWN)
options:
  vpc_id:
    description:
      - The ID of the VPC the subnets belong to.
    required: true
    type: str
  subnets:
    description:
      - The subnets.
      - With O(state=present), the subnets to create or update.
      - With O(state=absent), the subnets to delete; only O(subnets[].cidr) is used.
    type: list
    elements: dict
    default: []
    suboptions:
      cidr:
        description:
          - The IPv4 CIDR block of the subnet.
        required: true
        type: str
      az:
        description:
          - The availability zone of the subnet.
          - Required to create a subnet. Compared with an existing subnet when set.
        type: str
      map_public:
        description:
          - Whether instances launched in the subnet get a public IPv4 address.
        type: bool
        default: false
      tags:
        description:
          - Tags of this subnet, added to (and overriding) O(tags).
        type: dict
  tags:
    description:
      - Tags every subnet gets.
      - When neither O(tags) nor O(subnets[].tags) is set, the tags of existing subnets are left
        alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description:
      - Remove the tags of a subnet that are not requested for it.
      - Tags whose key starts with C(aws:) are never removed.
    type: bool
    default: true
  purge_subnets:
    description:
      - With O(state=present), delete the subnets of the VPC that are not listed in O(subnets)
        and carry every tag of O(purge_match_tags).
      - A subnet still in use (network interfaces) cannot be deleted; the module fails with the
        AWS error.
    type: bool
    default: false
  purge_match_tags:
    description:
      - The tags an unlisted subnet must carry to be deleted by O(purge_subnets), so that subnets
        managed by something else in the same VPC are left alone.
      - An empty dict matches every subnet of the VPC.
    type: dict
    default: {}
  state:
    description:
      - Whether the subnets should exist.
    choices: [present, absent]
    default: present
    type: str
  wait:
    description:
      - Wait for created subnets to be available, with one waiter for all of them.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A three-tier layout over two availability zones, one call
  plinth.platform.vpc_subnets:
    vpc_id: "{{ vpc.vpc.id }}"
    tags:
      Environment: production
      plinth:stack: shop-production
    subnets:
      - {cidr: 10.0.101.0/24, az: us-east-1a, map_public: true, tags: {Name: public-a}}
      - {cidr: 10.0.102.0/24, az: us-east-1b, map_public: true, tags: {Name: public-b}}
      - {cidr: 10.0.1.0/24, az: us-east-1a, tags: {Name: private-a}}
      - {cidr: 10.0.2.0/24, az: us-east-1b, tags: {Name: private-b}}
      - {cidr: 10.0.201.0/24, az: us-east-1a, tags: {Name: database-a}}
      - {cidr: 10.0.202.0/24, az: us-east-1b, tags: {Name: database-b}}
    # Subnets of this stack no longer listed are deleted.
    purge_subnets: true
    purge_match_tags:
      plinth:stack: shop-production
  register: subnets

- name: Use the ids
  ansible.builtin.debug:
    msg: "{{ subnets.subnet_ids['10.0.1.0/24'] }}"

- name: Delete two subnets
  plinth.platform.vpc_subnets:
    vpc_id: vpc-0123456789abcdef0
    subnets:
      - cidr: 10.0.201.0/24
      - cidr: 10.0.202.0/24
    state: absent
"""

RETURN = r"""
subnets:
  description:
    - The requested subnets, in the order of O(subnets), as EC2 describes them.
    - With O(state=absent), the subnets that were deleted.
    - In check mode, a subnet that would be created has no C(id).
  type: list
  elements: dict
  returned: always
  contains:
    id:
      description: The ID of the subnet.
      type: str
      returned: when the subnet exists
      sample: subnet-0123456789abcdef0
    subnet_id:
      description: The ID of the subnet (as EC2 names it).
      type: str
      returned: when the subnet exists
      sample: subnet-0123456789abcdef0
    cidr_block:
      description: The IPv4 CIDR block of the subnet.
      type: str
      returned: always
      sample: 10.0.1.0/24
    availability_zone:
      description: The availability zone of the subnet.
      type: str
      returned: always
      sample: us-east-1a
    map_public_ip_on_launch:
      description: Whether instances launched in the subnet get a public IPv4 address.
      type: bool
      returned: always
      sample: false
    state:
      description: The state of the subnet.
      type: str
      returned: when the subnet exists
      sample: available
    vpc_id:
      description: The ID of the VPC.
      type: str
      returned: always
      sample: vpc-0123456789abcdef0
    tags:
      description: The tags of the subnet.
      type: dict
      returned: always
      sample: {"Name": "private-a"}
subnet_ids:
  description: The IDs of the requested subnets by CIDR block (C(null) for one that check mode
    would create).
  type: dict
  returned: always
  sample: {"10.0.1.0/24": "subnet-0123456789abcdef0"}
purged_subnets:
  description: The IDs of the unlisted subnets deleted (or, in check mode, to be deleted) by
    O(purge_subnets).
  type: list
  elements: str
  returned: always
  sample: ["subnet-0fedcba9876543210"]
diff:
  description:
    - The subnets before and after, by CIDR block, each with C(availability_zone),
      C(map_public_ip_on_launch) and C(tags). Only subnets that change are shown.
  type: dict
  returned: in diff mode
  contains:
    before:
      description: The subnets before.
      type: dict
      returned: in diff mode
      sample: {}
    after:
      description: The subnets after.
      type: dict
      returned: in diff mode
      sample: {"10.0.1.0/24": {"availability_zone": "us-east-1a", "tags": {}}}
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # Handled by AnsibleAWSModule
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import (
    create_subnet,
    delete_subnet,
    describe_subnets,
    modify_subnet_attribute,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_specifications
from ansible_collections.amazon.aws.plugins.module_utils.waiters import get_waiter
from ansible_collections.plinth.platform.plugins.module_utils.vpc_bulk import (
    VpcBulkManager,
    apply_tags,
    desired_tags,
    listed_twice,
    merged_tags,
    to_ansible,
)


def ids_by_cidr(subnets: list[dict[str, Any]]) -> dict[str, str | None]:
    return {subnet["cidr_block"]: subnet.get("id") for subnet in subnets}


def diff_view(subnet: dict[str, Any]) -> dict[str, Any]:
    return {
        "availability_zone": subnet.get("availability_zone"),
        "map_public_ip_on_launch": subnet.get("map_public_ip_on_launch", False),
        "tags": subnet.get("tags", {}),
    }


class VpcSubnetsManager(VpcBulkManager):
    kind = "subnets"

    def existing(self) -> dict[str, dict[str, Any]]:
        """The VPC's subnets by CIDR block: the one describe call of a run."""
        subnets = describe_subnets(self.client, Filters=self.vpc_filter())
        return {subnet["CidrBlock"]: subnet for subnet in subnets}

    def wanted_tags(self, spec: dict[str, Any]) -> dict[str, str] | None:
        return merged_tags(self.params["tags"], spec["tags"])

    # Writing

    def create(self, spec: dict[str, Any]) -> dict[str, Any]:
        if not spec["az"]:
            self.module.fail_json(msg=f"subnets: az is required to create subnet {spec['cidr']}")
        tags = self.wanted_tags(spec) or {}
        self.changed = True
        requested = {
            "cidr_block": spec["cidr"],
            "availability_zone": spec["az"],
            "map_public_ip_on_launch": spec["map_public"],
            "vpc_id": self.params["vpc_id"],
            "tags": tags,
        }
        if self.check_mode:
            return requested
        params: dict[str, Any] = {
            "VpcId": self.params["vpc_id"],
            "CidrBlock": spec["cidr"],
            "AvailabilityZone": spec["az"],
        }
        if tags:
            params["TagSpecifications"] = boto3_tag_specifications(tags, ["subnet"])
        subnet = create_subnet(self.client, **params)
        if spec["map_public"]:
            modify_subnet_attribute(
                self.client, subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True}
            )
            subnet["MapPublicIpOnLaunch"] = True
        return to_ansible(subnet)

    def update(self, subnet: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        current = to_ansible(subnet)
        if spec["az"] and spec["az"] != current["availability_zone"]:
            self.module.fail_json(
                msg=f"Subnet {current['subnet_id']} ({spec['cidr']}) is in"
                f" {current['availability_zone']}, not {spec['az']}; a subnet cannot move,"
                " delete it first"
            )
        updated = dict(current)
        if bool(current.get("map_public_ip_on_launch")) != spec["map_public"]:
            self.changed = True
            if not self.check_mode:
                modify_subnet_attribute(
                    self.client,
                    current["subnet_id"],
                    MapPublicIpOnLaunch={"Value": spec["map_public"]},
                )
            updated["map_public_ip_on_launch"] = spec["map_public"]
        wanted = self.wanted_tags(spec)
        if apply_tags(
            self.client,
            self.module,
            current["subnet_id"],
            current["tags"],
            wanted,
            self.params["purge_tags"],
        ):
            self.changed = True
            updated["tags"] = desired_tags(current["tags"], wanted, self.params["purge_tags"])
        return updated

    def delete(self, subnet: dict[str, Any]) -> None:
        self.changed = True
        self.before[subnet["CidrBlock"]] = diff_view(to_ansible(subnet))
        if not self.check_mode:
            delete_subnet(self.client, subnet["SubnetId"])

    def wait_available(self, subnet_ids: list[str]) -> None:
        if not subnet_ids or self.check_mode or not self.params["wait"]:
            return
        try:
            get_waiter(self.client, "subnet_available").wait(SubnetIds=subnet_ids)
        except botocore.exceptions.WaiterError as e:
            self.module.fail_json_aws(e, msg=f"Timeout waiting for subnets {subnet_ids}")

    # States

    def ensure_present(self) -> dict[str, Any]:
        existing = self.existing()
        results, created = [], []
        for spec in self.params["subnets"]:
            subnet = existing.get(spec["cidr"])
            if subnet is None:
                result = self.create(spec)
                if result.get("subnet_id"):
                    created.append(result["subnet_id"])
                self.after[spec["cidr"]] = diff_view(result)
            else:
                before = diff_view(to_ansible(subnet))
                result = self.update(subnet, spec)
                if diff_view(result) != before:
                    self.before[spec["cidr"]] = before
                    self.after[spec["cidr"]] = diff_view(result)
            result.setdefault("id", result.get("subnet_id"))
            results.append(result)
        self.wait_available(created)

        purged = []
        if self.params["purge_subnets"]:
            listed = {spec["cidr"] for spec in self.params["subnets"]}
            match = self.params["purge_match_tags"].items()
            for cidr, subnet in existing.items():
                tags = to_ansible(subnet)["tags"]
                if cidr not in listed and match <= tags.items():
                    self.delete(subnet)
                    purged.append(subnet["SubnetId"])
        return {"subnets": results, "subnet_ids": ids_by_cidr(results), "purged_subnets": purged}

    def ensure_absent(self) -> dict[str, Any]:
        existing = self.existing()
        deleted = []
        for spec in self.params["subnets"]:
            subnet = existing.get(spec["cidr"])
            if subnet is not None:
                self.delete(subnet)
                deleted.append(dict(to_ansible(subnet), id=subnet["SubnetId"]))
        return {"subnets": deleted, "subnet_ids": ids_by_cidr(deleted), "purged_subnets": []}


def main() -> None:
    argument_spec = dict(
        vpc_id=dict(type="str", required=True),
        subnets=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                cidr=dict(type="str", required=True),
                az=dict(type="str"),
                map_public=dict(type="bool", default=False),
                tags=dict(type="dict"),
            ),
        ),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        purge_subnets=dict(type="bool", default=False),
        purge_match_tags=dict(type="dict", default={}),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        wait=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    duplicates = listed_twice([spec["cidr"] for spec in module.params["subnets"]])
    if duplicates:
        module.fail_json(msg=f"subnets: CIDR blocks listed more than once: {duplicates}")
    VpcSubnetsManager(module).process()


if __name__ == "__main__":
    main()
