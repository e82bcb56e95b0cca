#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_security_groups
version_added: 0.2.0
short_description: Manage a set of security groups of a VPC and their rules in one call
description:
  - Create, update and delete many security groups of one VPC in a single module call, with
    their ingress and egress rules and their tags. Rules may reference groups of the same call
    by name, so a chain of groups (load balancers, nodes, databases) is one task.
  - The security groups of the VPC are read with one C(DescribeSecurityGroups) call; only the
    differences are written, with at most one authorize, one revoke and one description update
    call per group and direction. A rerun that changes nothing makes no other API call.
  - A security group is identified by its name within O(vpc_id).
  - Rules are compared one permission at a time (protocol, port range, one source or
    destination). A rule description is compared only when O(security_groups[].rules[].rule_desc)
    is set.
  - The description of an existing group cannot be changed in AWS; when it differs the module
    warns and leaves it.
  - A new group starts with the default egress rule AWS gives it (all traffic to 0.0.0.0/0);
    with O(purge_rules_egress=true) it is removed unless requested.
  - This module supports check mode and diff mode.
author:
  - Plinth engineering (!UNKNOWN)
options:
  vpc_id:
    description:
      - The ID of the VPC the security groups belong to.
    required: true
    type: str
  security_groups:
    description:
      - The security groups.
      - With O(state=absent), the groups to delete; only O(security_groups[].name) is used. Their
        rules are revoked first, so groups of the list that reference each other can go together.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The name of the security group.
        required: true
        type: str
      description:
        description:
          - The description of the security group. Required to create it.
        type: str
      rules:
        description:
          - The ingress rules.
        type: list
        elements: dict
        default: []
        suboptions: &rule_options
          proto:
            description:
              - The IP protocol, by name (C(tcp), C(udp), C(icmp), C(icmpv6)) or number;
                C(all) or C(-1) for every protocol.
            required: true
            type: str
          ports:
            description:
              - Ports or port ranges (C(8000-8010)) of a TCP or UDP rule; each one is a
                permission of its own.
              - Without O(security_groups[].rules[].ports), O(security_groups[].rules[].from_port)
                and O(security_groups[].rules[].to_port), a TCP or UDP rule covers every port.
            type: list
            elements: raw
          from_port:
            description:
              - The first port of a range, or the ICMP type.
            type: int
          to_port:
            description:
              - The last port of a range, or the ICMP code.
            type: int
          cidr_ip:
            description:
              - IPv4 CIDR blocks.
            type: list
            elements: str
          cidr_ipv6:
            description:
              - IPv6 CIDR blocks.
            type: list
            elements: str
          group_name:
            description:
              - The name of a security group of the VPC, possibly one of this call.
            type: str
          group_id:
            description:
              - The ID of a security group.
            type: str
          prefix_list_id:
            description:
              - The ID of a managed prefix list.
            type: str
          rule_desc:
            description:
              - The description of the rule's permissions.
            type: str
      rules_egress:
        description:
          - The egress rules, with the options of O(security_groups[].rules).
        type: list
        elements: dict
        default: []
        suboptions: *rule_options
      tags:
        description:
          - Tags of this group, added to (and overriding) O(tags). Its C(Name) tag is left to the
            caller.
        type: dict
  tags:
    description:
      - Tags every group gets.
      - When neither O(tags) nor O(security_groups[].tags) is set, the tags of existing groups
        are left alone.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description:
      - Remove the tags of a group that are not requested for it.
      - Tags whose key starts with C(aws:) are never removed.
    type: bool
    default: true
  purge_rules:
    description:
      - Revoke the ingress permissions of a group that are not requested.
    type: bool
    default: true
  purge_rules_egress:
    description:
      - Revoke the egress permissions of a group that are not requested.
    type: bool
    default: true
  state:
    description:
      - Whether the security groups should exist.
    choices: [present, absent]
    default: present
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The internet reaches only the load balancers, which reach only the nodes
  plinth.platform.vpc_security_groups:
    vpc_id: "{{ vpc_id }}"
    tags:
      plinth:stack: shop-production
    security_groups:
      - name: shop-alb
        description: Load balancers
        rules:
          - {proto: tcp, ports: [80, 443], cidr_ip: [0.0.0.0/0], rule_desc: HTTP(S)}
        rules_egress:
          - {proto: all, cidr_ip: [0.0.0.0/0], rule_desc: To targets}
      - name: shop-nodes
        description: Nodes
        rules:
          - {proto: all, group_name: shop-alb, rule_desc: From load balancers}
          - {proto: all, group_name: shop-nodes, rule_desc: Node to node}
        rules_egress:
          - {proto: all, cidr_ip: [0.0.0.0/0]}
      - name: shop-database
        description: PostgreSQL from the nodes only, no egress
        rules:
          - {proto: tcp, ports: [5432], group_name: shop-nodes}
  register: groups

- name: Remove two groups that reference each other
  plinth.platform.vpc_security_groups:
    vpc_id: "{{ vpc_id }}"
    security_groups:
      - name: shop-nodes
      - name: shop-alb
    state: absent
"""

RETURN = r"""
security_groups:
  description:
    - The requested security groups, in the order of O(security_groups), as they are after the
      run (with O(state=absent), as they were before deletion).
    - In check mode, a group that would be created has no C(group_id).
  type: list
  elements: dict
  returned: always
  contains:
    group_id:
      description: The ID of the group.
      type: str
      returned: when the group exists
      sample: sg-0123456789abcdef0
    group_name:
      description: The name of the group.
      type: str
      returned: always
      sample: shop-alb
    description:
      description: The description of the group.
      type: str
      returned: always
      sample: Load balancers
    vpc_id:
      description: The ID of the VPC.
      type: str
      returned: always
      sample: vpc-0123456789abcdef0
    rules:
      description:
        - The ingress permissions, one per protocol, port range and source, sorted. The source
          is one of C(cidr_ip), C(cidr_ipv6), C(group_id), C(prefix_list_id).
      type: list
      elements: dict
      returned: always
      sample: [{"proto": "tcp", "from_port": 443, "to_port": 443, "cidr_ip": "0.0.0.0/0",
                "rule_desc": "HTTPS"}]
    rules_egress:
      description: The egress permissions, in the same shape.
      type: list
      elements: dict
      returned: always
      sample: [{"proto": "-1", "cidr_ip": "0.0.0.0/0"}]
    tags:
      description: The tags of the group.
      type: dict
      returned: always
      sample: {"Name": "shop-alb"}
group_ids:
  description: The IDs of the requested groups by name (C(null) for one that check mode would
    create).
  type: dict
  returned: always
  sample: {"shop-alb": "sg-0123456789abcdef0"}
diff:
  description:
    - The groups that change, before and after, by name, each with C(rules), C(rules_egress) and
      C(tags).
  type: dict
  returned: in diff mode
  contains:
    before:
      description: The groups before.
      type: dict
      returned: in diff mode
      sample: {}
    after:
      description: The groups after.
      type: dict
      returned: in diff mode
      sample: {"shop-alb": {"rules": [], "rules_egress": [], "tags": {}}}
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # Handled by AnsibleAWSModule
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import (
    authorize_security_group_egress,
    authorize_security_group_ingress,
    create_security_group,
    delete_security_group,
    describe_security_groups,
    revoke_security_group_egress,
    revoke_security_group_ingress,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
    boto3_tag_specifications,
)
from ansible_collections.amazon.aws.plugins.module_utils.waiters import get_waiter
from ansible_collections.plinth.platform.plugins.module_utils.vpc_bulk import (
    VpcBulkManager,
    apply_tags,
    desired_tags,
    listed_twice,
    merged_tags,
)

# One permission: (protocol, from port, to port, kind of peer, peer).
Atom = tuple[str, Any, Any, str, str]

PROTOCOLS = {"all": "-1", "-1": "-1", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
# Peer kind -> (IpPermissions list key, key of the peer in its entries).
PEERS = {
    "cidr_ip": ("IpRanges", "CidrIp"),
    "cidr_ipv6": ("Ipv6Ranges", "CidrIpv6"),
    "group_id": ("UserIdGroupPairs", "GroupId"),
    "prefix_list_id": ("PrefixListIds", "PrefixListId"),
}
# AWS gives every new VPC security group this egress permission.
DEFAULT_EGRESS: Atom = ("-1", None, None, "cidr_ip", "0.0.0.0/0")
DIRECTIONS = {
    "ingress": (
        "rules",
        "IpPermissions",
        authorize_security_group_ingress,
        revoke_security_group_ingress,
        "update_security_group_rule_descriptions_ingress",
    ),
    "egress": (
        "rules_egress",
        "IpPermissionsEgress",
        authorize_security_group_egress,
        revoke_security_group_egress,
        "update_security_group_rule_descriptions_egress",
    ),
}


def protocol(proto: str) -> str:
    proto = str(proto).lower()
    return PROTOCOLS.get(proto, proto)


def port_ranges(rule: dict[str, Any], proto: str) -> list[tuple[Any, Any]]:
    """The (from, to) port ranges a rule asks for; (None, None) where AWS has no ports."""
    if proto in ("tcp", "udp"):
        if rule["ports"]:
            ranges = []
            for port in rule["ports"]:
                low, _sep, high = str(port).partition("-")
                ranges.append((int(low), int(high or low)))
            return ranges
        if rule["from_port"] is None and rule["to_port"] is None:
            return [(0, 65535)]
        return [(rule["from_port"], rule["to_port"])]
    if proto in ("icmp", "icmpv6"):
        return [
            (
                -1 if rule["from_port"] is None else rule["from_port"],
                -1 if rule["to_port"] is None else rule["to_port"],
            )
        ]
    return [(None, None)]


def permissions_to_atoms(permissions: list[dict[str, Any]]) -> dict[Atom, str | None]:
    """DescribeSecurityGroups permissions -> {atom: description}."""
    atoms: dict[Atom, str | None] = {}
    for permission in permissions:
        proto = protocol(permission["IpProtocol"])
        ports = (permission.get("FromPort"), permission.get("ToPort"))
        if proto not in ("tcp", "udp", "icmp", "icmpv6"):
            ports = (None, None)
        for kind, (list_key, peer_key) in PEERS.items():
            for entry in permission.get(list_key, []):
                atoms[(proto, *ports, kind, entry[peer_key])] = entry.get("Description")
    return atoms


def atoms_to_permissions(atoms: dict[Atom, str | None]) -> list[dict[str, Any]]:
    """{atom: description} -> IpPermissions, one entry per atom (simple and always valid)."""
    permissions = []
    for (proto, low, high, kind, peer), description in sorted(atoms.items(), key=atom_key):
        permission: dict[str, Any] = {"IpProtocol": proto}
        if low is not None:
            permission.update(FromPort=low, ToPort=high)
        list_key, peer_key = PEERS[kind]
        entry = {peer_key: peer}
        if description is not None:
            entry["Description"] = description
        permission[list_key] = [entry]
        permissions.append(permission)
    return permissions


def atom_key(item: tuple[Atom, Any]) -> tuple:
    proto, low, high, kind, peer = item[0]
    return (proto, -2 if low is None else low, -2 if high is None else high, kind, peer)


def atoms_view(atoms: dict[Atom, str | None]) -> list[dict[str, Any]]:
    view = []
    for (proto, low, high, kind, peer), description in sorted(atoms.items(), key=atom_key):
        rule: dict[str, Any] = {"proto": proto}
        if low is not None:
            rule.update(from_port=low, to_port=high)
        rule[kind] = peer
        if description is not None:
            rule["rule_desc"] = description
        view.append(rule)
    return view


class VpcSecurityGroupsManager(VpcBulkManager):
    kind = "security groups"

    def existing(self) -> dict[str, dict[str, Any]]:
        """The VPC's security groups by name: the one describe call of a run."""
        groups = describe_security_groups(self.client, Filters=self.vpc_filter())
        return {group["GroupName"]: group for group in groups}

    def requested_atoms(
        self, rules: list[dict[str, Any]], ids: dict[str, str | None]
    ) -> dict[Atom, str | None]:
        atoms: dict[Atom, str | None] = {}
        for rule in rules:
            proto = protocol(rule["proto"])
            peers = [("cidr_ip", cidr) for cidr in rule["cidr_ip"] or []]
            peers += [("cidr_ipv6", cidr) for cidr in rule["cidr_ipv6"] or []]
            if rule["group_id"]:
                peers.append(("group_id", rule["group_id"]))
            if rule["prefix_list_id"]:
                peers.append(("prefix_list_id", rule["prefix_list_id"]))
            if rule["group_name"]:
                if rule["group_name"] not in ids:
                    self.module.fail_json(
                        msg=f"Security group {rule['group_name']} named in a rule is neither in"
                        f" security_groups nor in VPC {self.params['vpc_id']}"
                    )
                # A group check mode would create has no id yet: its name stands in.
                peers.append(("group_id", ids[rule["group_name"]] or rule["group_name"]))
            for low, high in port_ranges(rule, proto):
                for kind, peer in peers:
                    atoms[(proto, low, high, kind, peer)] = rule["rule_desc"]
        return atoms

    # Writing

    def create_groups(self, specs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Create the missing groups, then wait for all of them with one waiter."""
        created = {}
        for spec in specs:
            if not spec["description"]:
                self.module.fail_json(
                    msg=f"security_groups: description is required to create {spec['name']}"
                )
            self.changed = True
            group = {
                "GroupId": None,
                "GroupName": spec["name"],
                "Description": spec["description"],
                "IpPermissions": [],
                "IpPermissionsEgress": atoms_to_permissions({DEFAULT_EGRESS: None}),
                "Tags": [],
            }
            if not self.check_mode:
                params = {
                    "GroupName": spec["name"],
                    "Description": spec["description"],
                    "VpcId": self.params["vpc_id"],
                }
                tags = merged_tags(self.params["tags"], spec["tags"])
                if tags:
                    params["TagSpecifications"] = boto3_tag_specifications(tags, ["security-group"])
                    group["Tags"] = params["TagSpecifications"][0]["Tags"]
                group["GroupId"] = create_security_group(self.client, **params)["GroupId"]
            created[spec["name"]] = group
        ids = [group["GroupId"] for group in created.values() if group["GroupId"]]
        if ids:
            try:
                get_waiter(self.client, "security_group_exists").wait(GroupIds=ids)
            except botocore.exceptions.WaiterError as e:
                self.module.fail_json_aws(e, msg=f"Timeout waiting for security groups {ids}")
        return created

    def reconcile_rules(
        self, group: dict[str, Any], direction: str, wanted: dict[Atom, str | None]
    ) -> dict[Atom, str | None]:
        _option, key, authorize, revoke, relabel_call = DIRECTIONS[direction]
        purge = self.params["purge_rules" if direction == "ingress" else "purge_rules_egress"]
        current = permissions_to_atoms(group[key])
        missing = {atom: d for atom, d in wanted.items() if atom not in current}
        extra = {atom: d for atom, d in current.items() if atom not in wanted} if purge else {}
        relabel = {
            atom: d
            for atom, d in wanted.items()
            if atom in current and d is not None and current[atom] != d
        }
        result = {atom: current[atom] for atom in current if atom not in extra}
        result.update(missing)
        result.update(relabel)
        if missing or extra or relabel:
            self.changed = True
        if self.check_mode:
            return result
        group_id = group["GroupId"]
        if extra:
            revoke(self.client, GroupId=group_id, IpPermissions=atoms_to_permissions(extra))
        if missing:
            authorize(self.client, GroupId=group_id, IpPermissions=atoms_to_permissions(missing))
        if relabel:
            # Called directly: amazon.aws's helper reads a "Return" key moto leaves out.
            getattr(self.client, relabel_call)(
                aws_retry=True, GroupId=group_id, IpPermissions=atoms_to_permissions(relabel)
            )
        return result

    # States

    def ensure_present(self) -> dict[str, Any]:
        existing = self.existing()
        specs = self.params["security_groups"]
        created = self.create_groups([spec for spec in specs if spec["name"] not in existing])
        groups = dict(existing, **created)
        ids = {name: group["GroupId"] for name, group in groups.items()}

        results = []
        for spec in specs:
            name = spec["name"]
            group = groups[name]
            if name in existing and spec["description"] not in (None, group["Description"]):
                self.module.warn(
                    f"The description of security group {name} cannot be changed in AWS; it"
                    f" stays {group['Description']!r}"
                )
            current_tags = boto3_tag_list_to_ansible_dict(group.get("Tags", []))
            before = {
                "rules": atoms_view(permissions_to_atoms(group["IpPermissions"])),
                "rules_egress": atoms_view(permissions_to_atoms(group["IpPermissionsEgress"])),
                "tags": current_tags,
            }
            rules = self.reconcile_rules(group, "ingress", self.requested_atoms(spec["rules"], ids))
            rules_egress = self.reconcile_rules(
                group, "egress", self.requested_atoms(spec["rules_egress"], ids)
            )
            wanted_tags = merged_tags(self.params["tags"], spec["tags"])
            tags = current_tags
            if name in existing:
                self.changed |= apply_tags(
                    self.client,
                    self.module,
                    group["GroupId"],
                    current_tags,
                    wanted_tags,
                    self.params["purge_tags"],
                )
                tags = desired_tags(current_tags, wanted_tags, self.params["purge_tags"])
            else:
                tags = wanted_tags or {}
            after = {
                "rules": atoms_view(rules),
                "rules_egress": atoms_view(rules_egress),
                "tags": tags,
            }
            if name not in existing:
                self.after[name] = after
            elif after != before:
                self.before[name] = before
                self.after[name] = after
            results.append(
                dict(
                    after,
                    group_id=group["GroupId"],
                    group_name=name,
                    description=group["Description"],
                    vpc_id=self.params["vpc_id"],
                )
            )
        return self.outcome(results)

    def ensure_absent(self) -> dict[str, Any]:
        existing = self.existing()
        doomed = [
            existing[spec["name"]]
            for spec in self.params["security_groups"]
            if spec["name"] in existing
        ]
        results = []
        for group in doomed:
            view = {
                "rules": atoms_view(permissions_to_atoms(group["IpPermissions"])),
                "rules_egress": atoms_view(permissions_to_atoms(group["IpPermissionsEgress"])),
                "tags": boto3_tag_list_to_ansible_dict(group.get("Tags", [])),
            }
            self.before[group["GroupName"]] = view
            results.append(
                dict(
                    view,
                    group_id=group["GroupId"],
                    group_name=group["GroupName"],
                    description=group["Description"],
                    vpc_id=self.params["vpc_id"],
                )
            )
            self.changed = True
        if self.check_mode:
            return self.outcome(results)
        # Rules first: groups of the list may reference each other.
        for group in doomed:
            if group["IpPermissions"]:
                revoke_security_group_ingress(
                    self.client, GroupId=group["GroupId"], IpPermissions=group["IpPermissions"]
                )
            if group["IpPermissionsEgress"]:
                revoke_security_group_egress(
                    self.client,
                    GroupId=group["GroupId"],
                    IpPermissions=group["IpPermissionsEgress"],
                )
        for group in doomed:
            delete_security_group(self.client, group["GroupId"])
        return self.outcome(results)

    @staticmethod
    def outcome(groups: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "security_groups": groups,
            "group_ids": {group["group_name"]: group["group_id"] for group in groups},
        }


def main() -> None:
    rule_options = dict(
        proto=dict(type="str", required=True),
        ports=dict(type="list", elements="raw"),
        from_port=dict(type="int"),
        to_port=dict(type="int"),
        cidr_ip=dict(type="list", elements="str"),
        cidr_ipv6=dict(type="list", elements="str"),
        group_name=dict(type="str"),
        group_id=dict(type="str"),
        prefix_list_id=dict(type="str"),
        rule_desc=dict(type="str"),
    )
    peers = ["cidr_ip", "cidr_ipv6", "group_name", "group_id", "prefix_list_id"]
    rule_spec = dict(
        type="list",
        elements="dict",
        default=[],
        options=rule_options,
        required_one_of=[peers],
        mutually_exclusive=[("ports", "from_port"), ("ports", "to_port")],
    )
    argument_spec = dict(
        vpc_id=dict(type="str", required=True),
        security_groups=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                description=dict(type="str"),
                rules=rule_spec,
                rules_egress=rule_spec,
                tags=dict(type="dict"),
            ),
        ),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        purge_rules=dict(type="bool", default=True),
        purge_rules_egress=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    duplicates = listed_twice([spec["name"] for spec in module.params["security_groups"]])
    if duplicates:
        module.fail_json(msg=f"security_groups: names listed more than once: {duplicates}")
    for spec in module.params["security_groups"]:
        for rule in spec["rules"] + spec["rules_egress"]:
            for port in rule["ports"] or []:
                low, _sep, high = str(port).partition("-")
                if not (low.strip().isdigit() and (not high or high.strip().isdigit())):
                    module.fail_json(
                        msg=f"security_groups: {spec['name']}: port {port!r} is neither a port"
                        " nor a range like 8000-8010"
                    )
    VpcSecurityGroupsManager(module).process()


if __name__ == "__main__":
    main()
