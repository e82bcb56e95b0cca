#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_nat_gateways
version_added: 0.3.0
short_description: Manage NAT gateways and their Elastic IPs, many in one call
description:
  - Create and tag public NAT gateways, one per listed subnet, each with its own Elastic IP, in a
    single module call.
  - The Elastic IPs are read with one C(DescribeAddresses) call (by their C(Name) tag) and the
    NAT gateways of the subnets with one C(DescribeNatGateways) call; only the differences are
    written. A rerun that changes nothing makes no other API call.
  - A NAT gateway is identified by its subnet, O(nat_gateways[].subnet_id); only one in state
    C(pending) or C(available) counts. One that is C(failed), C(deleting) or C(deleted) is
    replaced by a new one.
  - The Elastic IP of a NAT gateway is the address whose C(Name) tag is O(nat_gateways[].name).
    One is allocated only when no address carries that name, so a rerun never allocates a second
    address. An existing NAT gateway keeps its address (which gets the name and tags).
  - All missing NAT gateways are created at once and waited for together (one waiter).
  - Removal is not supported; use M(amazon.aws.ec2_vpc_nat_gateway) and M(amazon.aws.ec2_eip).
  - This module supports check mode and diff mode.
author:
  - Plinth engineering (!UNKNOWN)
options:
  nat_gateways:
    description:
      - The NAT gateways.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The C(Name) tag of the NAT gateway and of its Elastic IP.
        required: true
        type: str
      subnet_id:
        description:
          - The (public) subnet of the NAT gateway.
        required: true
        type: str
      tags:
        description:
          - Tags of this NAT gateway and its address, added to (and overriding) O(tags).
        type: dict
  tags:
    description:
      - Tags every NAT gateway and Elastic IP gets (besides its C(Name)).
    type: dict
    aliases: [resource_tags]
  eip_tags:
    description:
      - Tags only the Elastic IPs get, added to (and overriding) the NAT gateway's.
    type: dict
    default: {}
  purge_tags:
    description:
      - Remove the tags of a NAT gateway or address that are not requested for it.
      - Tags whose key starts with C(aws:) are never removed.
    type: bool
    default: true
  wait:
    description:
      - Wait for created (and still pending) NAT gateways to be available, with one waiter for
        all of them.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait.
    type: int
    default: 600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: One NAT gateway per AZ, each with its own Elastic IP, one call
  plinth.platform.vpc_nat_gateways:
    tags:
      Environment: production
      plinth:stack: shop-production
    eip_tags:
      plinth:role: nat
    nat_gateways:
      - {name: shop-production-nat-us-east-1a, subnet_id: subnet-0123456789abcdef0}
      - {name: shop-production-nat-us-east-1b, subnet_id: subnet-0fedcba9876543210}
  register: nats

- name: Use the ids
  ansible.builtin.debug:
    msg: "{{ nats.nat_gateway_ids['shop-production-nat-us-east-1a'] }}"
"""

RETURN = r"""
nat_gateways:
  description:
    - The requested NAT gateways, in the order of O(nat_gateways).
    - In check mode, a NAT gateway (or address) that would be created has no id.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The name of the NAT gateway.
      type: str
      returned: always
      sample: shop-production-nat-us-east-1a
    nat_gateway_id:
      description: The ID of the NAT gateway.
      type: str
      returned: when it exists
      sample: nat-0123456789abcdef0
    subnet_id:
      description: The subnet of the NAT gateway.
      type: str
      returned: always
      sample: subnet-0123456789abcdef0
    state:
      description: The state of the NAT gateway.
      type: str
      returned: when it exists
      sample: available
    allocation_id:
      description: The allocation ID of its Elastic IP.
      type: str
      returned: when the address exists
      sample: eipalloc-0123456789abcdef0
    public_ip:
      description: Its Elastic IP.
      type: str
      returned: when the address exists
      sample: 203.0.113.10
    tags:
      description: The tags of the NAT gateway.
      type: dict
      returned: always
      sample: {"Name": "shop-production-nat-us-east-1a"}
nat_gateway_ids:
  description: The NAT gateway IDs by name (C(null) for one check mode would create).
  type: dict
  returned: always
  sample: {"shop-production-nat-us-east-1a": "nat-0123456789abcdef0"}
allocation_ids:
  description: The Elastic IP allocation IDs by name (C(null) for one check mode would allocate).
  type: dict
  returned: always
  sample: {"shop-production-nat-us-east-1a": "eipalloc-0123456789abcdef0"}
diff:
  description: The NAT gateways that change, by name, each with C(subnet_id), C(allocation_id)
    and C(tags).
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
      sample: {"nat-a": {"subnet_id": "subnet-0123456789abcdef0", "tags": {}}}
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # Handled by AnsibleAWSModule
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import (
    allocate_address,
    create_nat_gateway,
    describe_addresses,
    describe_nat_gateways,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
    boto3_tag_specifications,
)
from ansible_collections.plinth.platform.plugins.module_utils.vpc_bulk import (
    VpcBulkManager,
    apply_tags,
    desired_tags,
    listed_twice,
    merged_tags,
)

LIVE = ("pending", "available")
WAIT_DELAY = 5


def name_of(resource: dict[str, Any]) -> str | None:
    return boto3_tag_list_to_ansible_dict(resource.get("Tags", [])).get("Name")


def primary_allocation(nat: dict[str, Any]) -> str | None:
    addresses = nat.get("NatGatewayAddresses", [])
    primary = [a for a in addresses if a.get("IsPrimary", True)] or addresses
    return primary[0].get("AllocationId") if primary else None


def diff_view(nat: dict[str, Any]) -> dict[str, Any]:
    return {
        "subnet_id": nat["subnet_id"],
        "allocation_id": nat.get("allocation_id"),
        "tags": nat["tags"],
    }


class VpcNatGatewaysManager(VpcBulkManager):
    kind = "NAT gateways"

    def nat_tags(self, spec: dict[str, Any]) -> dict[str, str]:
        return dict(merged_tags(self.params["tags"], spec["tags"]) or {}, Name=spec["name"])

    def eip_tags(self, spec: dict[str, Any]) -> dict[str, str]:
        return dict(self.nat_tags(spec), **self.params["eip_tags"])

    # Reading: the two describe calls of a no-op run

    def addresses_by_name(self) -> dict[str, dict[str, Any]]:
        names = [spec["name"] for spec in self.params["nat_gateways"]]
        filters = [{"Name": "tag:Name", "Values": names}, {"Name": "domain", "Values": ["vpc"]}]
        found: dict[str, dict[str, Any]] = {}
        for address in sorted(
            describe_addresses(self.client, Filters=filters), key=lambda a: a["AllocationId"]
        ):
            found.setdefault(name_of(address), address)
        return found

    def nat_gateways(self) -> list[dict[str, Any]]:
        subnets = sorted({spec["subnet_id"] for spec in self.params["nat_gateways"]})
        filters = [{"Name": "subnet-id", "Values": subnets}]
        return [
            n for n in describe_nat_gateways(self.client, Filters=filters) if n["State"] in LIVE
        ]

    # Writing

    def ensure_address(self, spec: dict[str, Any], address: dict[str, Any] | None) -> dict | None:
        """The named address with its tags reconciled, or a new one (None in check mode)."""
        wanted = self.eip_tags(spec)
        if address is None:
            self.changed = True
            if self.check_mode:
                return None
            return allocate_address(
                self.client,
                Domain="vpc",
                TagSpecifications=boto3_tag_specifications(wanted, ["elastic-ip"]),
            )
        current = boto3_tag_list_to_ansible_dict(address.get("Tags", []))
        if apply_tags(
            self.client,
            self.module,
            address["AllocationId"],
            current,
            wanted,
            self.params["purge_tags"],
        ):
            self.changed = True
        return address

    def create(self, spec: dict[str, Any], address: dict[str, Any] | None) -> dict[str, Any]:
        address = self.ensure_address(spec, address)
        tags = self.nat_tags(spec)
        self.changed = True
        result = {
            "name": spec["name"],
            "subnet_id": spec["subnet_id"],
            "allocation_id": (address or {}).get("AllocationId"),
            "public_ip": (address or {}).get("PublicIp"),
            "tags": tags,
        }
        if self.check_mode:
            return result
        nat = create_nat_gateway(
            self.client,
            SubnetId=spec["subnet_id"],
            AllocationId=address["AllocationId"],
            ConnectivityType="public",
            TagSpecifications=boto3_tag_specifications(tags, ["natgateway"]),
        )
        return dict(result, nat_gateway_id=nat["NatGatewayId"], state=nat.get("State", "pending"))

    def update(
        self, spec: dict[str, Any], nat: dict[str, Any], named: dict[str, Any] | None
    ) -> dict[str, Any]:
        allocation_id = primary_allocation(nat)
        address = named
        if named is None or named["AllocationId"] != allocation_id:
            # The gateway keeps its own address: adopt that one (repair path only).
            own = describe_addresses(self.client, AllocationIds=[allocation_id])
            address = own[0] if own else None
            if named is not None:
                self.module.warn(
                    f"Elastic IP {named['AllocationId']} is named {spec['name']} but NAT gateway"
                    f" {nat['NatGatewayId']} uses {allocation_id}; the former is left alone"
                )
        if address is not None:
            self.ensure_address(spec, address)
        current = boto3_tag_list_to_ansible_dict(nat.get("Tags", []))
        wanted = self.nat_tags(spec)
        purge = self.params["purge_tags"]
        result = {
            "name": spec["name"],
            "nat_gateway_id": nat["NatGatewayId"],
            "subnet_id": nat["SubnetId"],
            "state": nat["State"],
            "allocation_id": allocation_id,
            "public_ip": (address or {}).get("PublicIp"),
            "tags": current,
        }
        if apply_tags(self.client, self.module, nat["NatGatewayId"], current, wanted, purge):
            self.changed = True
            result["tags"] = desired_tags(current, wanted, purge)
            self.before[spec["name"]] = diff_view(dict(result, tags=current))
            self.after[spec["name"]] = diff_view(result)
        return result

    def wait_available(self, nat_ids: list[str]) -> None:
        if not nat_ids or self.check_mode or not self.params["wait"]:
            return
        attempts = max(1, self.params["wait_timeout"] // WAIT_DELAY)
        try:
            # botocore's waiter: it fails at once on a gateway that turns failed or deleted.
            self.client.get_waiter("nat_gateway_available").wait(
                NatGatewayIds=nat_ids, WaiterConfig={"Delay": WAIT_DELAY, "MaxAttempts": attempts}
            )
        except botocore.exceptions.WaiterError as e:
            self.module.fail_json_aws(e, msg=f"NAT gateways {nat_ids} did not become available")

    # States

    def ensure_present(self) -> dict[str, Any]:
        specs = self.params["nat_gateways"]
        if not specs:
            return {"nat_gateways": [], "nat_gateway_ids": {}, "allocation_ids": {}}
        addresses = self.addresses_by_name()
        live = self.nat_gateways()
        results, waiting = [], []
        for spec in specs:
            named = addresses.get(spec["name"])
            candidates = [n for n in live if n["SubnetId"] == spec["subnet_id"]]
            # Of several gateways in the subnet, the one with the named address.
            candidates.sort(
                key=lambda n: named is None or primary_allocation(n) != named["AllocationId"]
            )
            if candidates:
                result = self.update(spec, candidates[0], named)
            else:
                result = self.create(spec, named)
                self.after[spec["name"]] = diff_view(result)
            if result.get("nat_gateway_id") and result.get("state") == "pending":
                waiting.append(result["nat_gateway_id"])
            results.append(result)
        self.wait_available(waiting)
        if self.params["wait"] and not self.check_mode:
            for result in results:
                if result.get("nat_gateway_id") in waiting:
                    result["state"] = "available"
        return {
            "nat_gateways": results,
            "nat_gateway_ids": {r["name"]: r.get("nat_gateway_id") for r in results},
            "allocation_ids": {r["name"]: r.get("allocation_id") for r in results},
        }


def main() -> None:
    argument_spec = dict(
        nat_gateways=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                subnet_id=dict(type="str", required=True),
                tags=dict(type="dict"),
            ),
        ),
        tags=dict(type="dict", aliases=["resource_tags"]),
        eip_tags=dict(type="dict", default={}),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    specs = module.params["nat_gateways"]
    if any(not spec["name"] or not spec["subnet_id"] for spec in specs):
        module.fail_json(msg="nat_gateways: name and subnet_id must not be empty")
    for key in ("name", "subnet_id"):
        duplicates = listed_twice([spec[key] for spec in specs])
        if duplicates:
            module.fail_json(msg=f"nat_gateways: {key} listed more than once: {duplicates}")
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg="wait_timeout must not be negative")
    VpcNatGatewaysManager(module).process()


if __name__ == "__main__":
    main()
