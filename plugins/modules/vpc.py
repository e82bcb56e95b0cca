#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc
version_added: 0.3.0
short_description: Manage a VPC and its internet gateway in one call
description:
  - Create or update a VPC (CIDR block, DNS support and hostnames, tags) and, with
    O(internet_gateway=true), the internet gateway attached to it, in a single module call.
  - The VPC is found the way M(amazon.aws.ec2_vpc_net) finds it, by its C(Name) tag O(name) and
    its CIDR block O(cidr_block), so a VPC that module created is adopted, not duplicated. Two
    VPCs with that name and CIDR block are an error.
  - A rerun that changes nothing makes one C(DescribeVpcs), two C(DescribeVpcAttribute) and,
    with O(internet_gateway=true), one C(DescribeInternetGateways) call.
  - The internet gateway is the one attached to the VPC; one is created and attached when there
    is none. With O(internet_gateway=false) the VPC's gateways are not looked at.
  - Removal is not supported; use M(amazon.aws.ec2_vpc_igw) and M(amazon.aws.ec2_vpc_net).
  - This module supports check mode and diff mode.
author:
  - Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - The name of the VPC, its C(Name) tag (always set, whatever O(tags) says).
    required: true
    type: str
  cidr_block:
    description:
      - The primary IPv4 CIDR block of the VPC. It identifies the VPC with O(name).
    required: true
    type: str
  dns_support:
    description:
      - Whether the Amazon DNS server resolves in the VPC.
    type: bool
    default: true
  dns_hostnames:
    description:
      - Whether instances get public DNS hostnames. Needs O(dns_support=true).
    type: bool
    default: true
  tenancy:
    description:
      - The instance tenancy of a VPC this module creates. Not compared with an existing VPC
        (as with M(amazon.aws.ec2_vpc_net)).
    type: str
    choices: [default, dedicated]
    default: default
  internet_gateway:
    description:
      - Whether the VPC gets an attached internet gateway (created when missing, tags reconciled).
    type: bool
    default: false
  internet_gateway_tags:
    description:
      - Tags of the internet gateway. When not set, the gateway gets the VPC's tags (O(tags) and
        its C(Name)).
    type: dict
  wait:
    description:
      - Wait for a created VPC to be available.
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A VPC with its internet gateway, one call
  plinth.platform.vpc:
    name: shop-production
    cidr_block: 10.0.0.0/16
    internet_gateway: true
    tags:
      Environment: production
      plinth:stack: shop-production
  register: vpc

- name: Use the ids
  ansible.builtin.debug:
    msg: "{{ vpc.vpc_id }} {{ vpc.internet_gateway_id }}"
"""

RETURN = r"""
vpc:
  description:
    - The VPC as EC2 describes it, with its DNS attributes.
    - In check mode, a VPC that would be created has no C(id).
  type: dict
  returned: always
  contains:
    id:
      description: The ID of the VPC (as M(amazon.aws.ec2_vpc_net) names it).
      type: str
      returned: when the VPC exists
      sample: vpc-0123456789abcdef0
    vpc_id:
      description: The ID of the VPC.
      type: str
      returned: when the VPC exists
      sample: vpc-0123456789abcdef0
    cidr_block:
      description: The primary IPv4 CIDR block.
      type: str
      returned: always
      sample: 10.0.0.0/16
    instance_tenancy:
      description: The instance tenancy.
      type: str
      returned: always
      sample: default
    dns_support:
      description: Whether DNS resolution is enabled.
      type: bool
      returned: always
      sample: true
    dns_hostnames:
      description: Whether DNS hostnames are enabled.
      type: bool
      returned: always
      sample: true
    tags:
      description: The tags of the VPC.
      type: dict
      returned: always
      sample: {"Name": "shop-production"}
vpc_id:
  description: The ID of the VPC (C(null) when check mode would create it).
  type: str
  returned: always
  sample: vpc-0123456789abcdef0
cidr_block:
  description: The primary IPv4 CIDR block of the VPC.
  type: str
  returned: always
  sample: 10.0.0.0/16
internet_gateway:
  description: The attached internet gateway (C(null) without O(internet_gateway)).
  type: dict
  returned: always
  contains:
    internet_gateway_id:
      description: The ID of the gateway (missing when check mode would create it).
      type: str
      returned: when the gateway exists
      sample: igw-0123456789abcdef0
    tags:
      description: The tags of the gateway.
      type: dict
      returned: always
      sample: {"Name": "shop-production"}
internet_gateway_id:
  description: The ID of the internet gateway (C(null) without one or when check mode would
    create it).
  type: str
  returned: always
  sample: igw-0123456789abcdef0
diff:
  description: The VPC (C(vpc)) and gateway (C(internet_gateway)) before and after, when they
    change.
  type: dict
  returned: in diff mode
  contains:
    before:
      description: Before.
      type: dict
      returned: in diff mode
      sample: {}
    after:
      description: After.
      type: dict
      returned: in diff mode
      sample: {"vpc": {"cidr_block": "10.0.0.0/16", "dns_support": true}}
"""

import contextlib
import ipaddress
from typing import Any

with contextlib.suppress(ImportError):  # Handled by AnsibleAWSModule
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import (
    attach_internet_gateway,
    create_internet_gateway,
    create_vpc,
    describe_internet_gateways,
    describe_vpc_attribute,
    describe_vpcs,
    modify_vpc_attribute,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_specifications
from ansible_collections.amazon.aws.plugins.module_utils.waiters import get_waiter
from ansible_collections.plinth.platform.plugins.module_utils.vpc_bulk import (
    VpcBulkManager,
    apply_tags,
    desired_tags,
    to_ansible,
)

# Module option -> (DescribeVpcAttribute attribute, response key).
DNS_ATTRIBUTES = {
    "dns_support": ("enableDnsSupport", "EnableDnsSupport"),
    "dns_hostnames": ("enableDnsHostnames", "EnableDnsHostnames"),
}
# What AWS gives a new (non-default) VPC.
DNS_DEFAULTS = {"dns_support": True, "dns_hostnames": False}


def vpc_view(vpc: dict[str, Any]) -> dict[str, Any]:
    return {
        key: vpc.get(key)
        for key in ("cidr_block", "instance_tenancy", "dns_support", "dns_hostnames", "tags")
    }


class VpcManager(VpcBulkManager):
    kind = "the VPC"

    def vpc_tags(self) -> dict[str, str]:
        return dict(self.params["tags"] or {}, Name=self.params["name"])

    def igw_tags(self) -> dict[str, str]:
        if self.params["internet_gateway_tags"] is not None:
            return self.params["internet_gateway_tags"]
        return self.vpc_tags()

    def find(self) -> dict[str, Any] | None:
        """The VPC by Name tag and CIDR block: the one DescribeVpcs of a run."""
        filters = [
            {"Name": "tag:Name", "Values": [self.params["name"]]},
            {"Name": "cidr-block", "Values": [self.params["cidr_block"]]},
        ]
        found = describe_vpcs(self.client, Filters=filters)
        if len(found) > 1:
            self.module.fail_json(
                msg=f"Found {len(found)} VPCs named {self.params['name']} with CIDR block"
                f" {self.params['cidr_block']}: {[v['VpcId'] for v in found]}"
            )
        return found[0] if found else None

    # The VPC

    def create_vpc(self) -> dict[str, Any]:
        self.changed = True
        wanted = {
            "cidr_block": self.params["cidr_block"],
            "instance_tenancy": self.params["tenancy"],
            "dns_support": self.params["dns_support"],
            "dns_hostnames": self.params["dns_hostnames"],
            "tags": self.vpc_tags(),
        }
        if self.check_mode:
            return wanted
        vpc = create_vpc(
            self.client,
            CidrBlock=self.params["cidr_block"],
            InstanceTenancy=self.params["tenancy"],
            TagSpecifications=boto3_tag_specifications(self.vpc_tags(), ["vpc"]),
        )
        vpc_id = vpc["VpcId"]
        if self.params["wait"]:
            try:
                get_waiter(self.client, "vpc_available").wait(VpcIds=[vpc_id])
            except botocore.exceptions.WaiterError as e:
                self.module.fail_json_aws(e, msg=f"Timeout waiting for VPC {vpc_id}")
        # Support first: hostnames cannot be enabled without it.
        for option, default in DNS_DEFAULTS.items():
            if self.params[option] != default:
                key = DNS_ATTRIBUTES[option][1]
                modify_vpc_attribute(self.client, vpc_id, **{key: {"Value": self.params[option]}})
        vpc.update(State="available")
        return dict(to_ansible(vpc), **wanted, id=vpc_id)

    def update_vpc(self, vpc: dict[str, Any]) -> dict[str, Any]:
        current = to_ansible(vpc)
        vpc_id = current["vpc_id"]
        for option, (attribute, key) in DNS_ATTRIBUTES.items():
            current[option] = describe_vpc_attribute(self.client, vpc_id, attribute)[key]["Value"]
        updated = dict(current, id=vpc_id)
        # Turning hostnames off goes before turning support off, and support on before hostnames.
        order = list(DNS_ATTRIBUTES)
        if not self.params["dns_support"]:
            order.reverse()
        for option in order:
            if current[option] != self.params[option]:
                self.changed = True
                updated[option] = self.params[option]
                if not self.check_mode:
                    key = DNS_ATTRIBUTES[option][1]
                    modify_vpc_attribute(
                        self.client, vpc_id, **{key: {"Value": self.params[option]}}
                    )
        wanted = self.vpc_tags()
        purge = self.params["purge_tags"]
        if apply_tags(self.client, self.module, vpc_id, current["tags"], wanted, purge):
            self.changed = True
            updated["tags"] = desired_tags(current["tags"], wanted, purge)
        if vpc_view(updated) != vpc_view(current):
            self.before["vpc"] = vpc_view(current)
            self.after["vpc"] = vpc_view(updated)
        return updated

    # The internet gateway

    def ensure_igw(self, vpc_id: str | None) -> dict[str, Any]:
        wanted = self.igw_tags()
        gateways = []
        if vpc_id:
            filters = [{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
            gateways = describe_internet_gateways(self.client, Filters=filters)
        if not gateways:
            self.changed = True
            self.after["internet_gateway"] = {"tags": wanted}
            if self.check_mode:
                return {"tags": wanted}
            igw = create_internet_gateway(self.client, wanted)
            igw_id = igw["InternetGatewayId"]
            get_waiter(self.client, "internet_gateway_exists").wait(InternetGatewayIds=[igw_id])
            attach_internet_gateway(self.client, igw_id, vpc_id)
            return {"internet_gateway_id": igw_id, "tags": wanted}
        current = to_ansible(gateways[0])
        igw_id = current["internet_gateway_id"]
        purge = self.params["purge_tags"]
        result = {"internet_gateway_id": igw_id, "tags": current["tags"]}
        if apply_tags(self.client, self.module, igw_id, current["tags"], wanted, purge):
            self.changed = True
            result["tags"] = desired_tags(current["tags"], wanted, purge)
            self.before["internet_gateway"] = {"tags": current["tags"]}
            self.after["internet_gateway"] = {"tags": result["tags"]}
        return result

    # States

    def ensure_present(self) -> dict[str, Any]:
        existing = self.find()
        if existing is None:
            vpc = self.create_vpc()
            self.after["vpc"] = vpc_view(vpc)
        else:
            vpc = self.update_vpc(existing)
        vpc_id = vpc.get("id")
        igw = self.ensure_igw(vpc_id) if self.params["internet_gateway"] else None
        return {
            "vpc": vpc,
            "vpc_id": vpc_id,
            "cidr_block": vpc["cidr_block"],
            "internet_gateway": igw,
            "internet_gateway_id": (igw or {}).get("internet_gateway_id"),
        }


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        cidr_block=dict(type="str", required=True),
        dns_support=dict(type="bool", default=True),
        dns_hostnames=dict(type="bool", default=True),
        tenancy=dict(type="str", default="default", choices=["default", "dedicated"]),
        internet_gateway=dict(type="bool", default=False),
        internet_gateway_tags=dict(type="dict"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not params["name"]:
        module.fail_json(msg="name must not be empty")
    try:
        network = ipaddress.IPv4Network(params["cidr_block"])
    except ValueError as e:
        module.fail_json(msg=f"cidr_block: {params['cidr_block']!r} is not an IPv4 CIDR block: {e}")
    if str(network) != params["cidr_block"] or not 16 <= network.prefixlen <= 28:
        module.fail_json(
            msg=f"cidr_block: {params['cidr_block']!r} must be written as a network"
            f" ({network}) with a prefix length from /16 to /28"
        )
    if params["dns_hostnames"] and not params["dns_support"]:
        module.fail_json(msg="dns_hostnames needs dns_support")
    VpcManager(module).process()


if __name__ == "__main__":
    main()
