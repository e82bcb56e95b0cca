#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_route_tables
version_added: 0.2.0
short_description: Manage the route tables of a VPC, their routes and subnets, in one call
description:
  - Create, update and delete many route tables of one VPC in a single module call, with their
    tags, their routes and the subnets associated with them.
  - The route tables of the VPC (with their routes and associations) are read with one
    C(DescribeRouteTables) call; only the differences from the requested tables are written.
    A rerun that changes nothing makes no other API call.
  - A route table is identified by its C(Name) tag, O(route_tables[].name), within O(vpc_id).
    Two route tables of the VPC with the same name are an error.
  - A subnet associated with another table of the VPC is moved with one
    C(ReplaceRouteTableAssociation) call.
  - Only routes created with C(CreateRoute) are compared and purged. The C(local) route,
    propagated routes and routes to prefix lists (added by gateway VPC endpoints, which manage
    them) are left alone.
  - With O(gateway_endpoints), gateway VPC endpoints (S3, DynamoDB) on listed tables are
    reconciled in the same call (one more C(DescribeVpcEndpoints)); an endpoint whose tables
    change is modified in place, never duplicated.
  - This module supports check mode and diff mode.
author:
  - Plinth engineering (!UNKNOWN)
options:
  vpc_id:
    description:
      - The ID of the VPC the route tables belong to.
    required: true
    type: str
  route_tables:
    description:
      - The route tables.
      - With O(state=absent), the route tables to delete (their subnets are disassociated
        first); only O(route_tables[].name) is used.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description:
          - The name of the route table, its C(Name) tag.
        required: true
        type: str
      subnets:
        description:
          - The IDs of the subnets to associate with the table.
        type: list
        elements: str
        default: []
      routes:
        description:
          - The routes of the table, besides the C(local) route.
        type: list
        elements: dict
        default: []
        suboptions:
          dest:
            description:
              - The IPv4 destination CIDR block of the route.
            required: true
            type: str
          gateway_id:
            description:
              - An internet or virtual private gateway. An ID starting with C(nat-) is taken as
                O(route_tables[].routes[].nat_gateway_id), as M(amazon.aws.ec2_vpc_route_table)
                does.
            type: str
          nat_gateway_id:
            description:
              - A NAT gateway.
            type: str
          transit_gateway_id:
            description:
              - A transit gateway.
            type: str
          vpc_peering_connection_id:
            description:
              - A VPC peering connection.
            type: str
          network_interface_id:
            description:
              - A network interface.
            type: str
      tags:
        description:
          - Tags of this table, added to (and overriding) O(tags). Its C(Name) tag is always
            O(route_tables[].name).
        type: dict
  tags:
    description:
      - Tags every route table gets.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description:
      - Remove the tags of a table that are not requested for it.
      - Tags whose key starts with C(aws:) are never removed.
    type: bool
    default: true
  purge_routes:
    description:
      - Delete the routes of a table (created with C(CreateRoute)) that are not requested.
    type: bool
    default: true
  purge_subnets:
    description:
      - Disassociate the subnets of a table that are not requested for any table listed in
        O(route_tables); they fall back to the VPC's main route table.
    type: bool
    default: true
  gateway_endpoints:
    description:
      - Gateway VPC endpoints of the VPC and the route tables they are attached to.
      - An endpoint is identified by its O(gateway_endpoints[].service) within O(vpc_id), among
        the gateway endpoints that are C(pending) or C(available); of several, the one whose tags
        carry the requested C(Name) is taken and the others are left alone.
      - A missing endpoint is created; an existing one gets the listed tables added and the
        others removed with one C(ModifyVpcEndpoint) call. Endpoints of services not listed are
        left alone.
      - The endpoint policy is the default one (full access), as C(CreateVpcEndpoint) sets it.
      - Only with O(state=present).
    type: list
    elements: dict
    default: []
    suboptions:
      service:
        description:
          - The service name, for example C(com.amazonaws.us-east-1.s3).
        required: true
        type: str
      route_tables:
        description:
          - The names of the route tables (from O(route_tables)) the endpoint is attached to.
        type: list
        elements: str
        default: []
      tags:
        description:
          - Tags of the endpoint, added to (and overriding) O(tags).
        type: dict
  state:
    description:
      - Whether the route tables should exist.
    choices: [present, absent]
    default: present
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A public table and one private table per availability zone, one call
  plinth.platform.vpc_route_tables:
    vpc_id: "{{ vpc_id }}"
    tags:
      plinth:stack: shop-production
    route_tables:
      - name: shop-production-public
        subnets: "{{ public_subnet_ids }}"
        routes:
          - {dest: 0.0.0.0/0, gateway_id: "{{ igw_id }}"}
      - name: shop-production-private-us-east-1a
        subnets: ["{{ private_subnet_ids[0] }}"]
        routes:
          - {dest: 0.0.0.0/0, nat_gateway_id: "{{ nat_ids['us-east-1a'] }}"}
      - name: shop-production-database
        subnets: "{{ database_subnet_ids }}"
    # The S3 gateway endpoint on the private and database tables, in the same call.
    gateway_endpoints:
      - service: com.amazonaws.us-east-1.s3
        route_tables: [shop-production-private-us-east-1a, shop-production-database]
        tags: {Name: shop-production-s3}
  register: route_tables

- name: Delete a table
  plinth.platform.vpc_route_tables:
    vpc_id: "{{ vpc_id }}"
    route_tables:
      - name: shop-production-database
    state: absent
"""

RETURN = r"""
route_tables:
  description:
    - The requested route tables, in the order of O(route_tables), as they are after the run
      (with O(state=absent), as they were before deletion).
    - In check mode, a table that would be created has no C(id).
  type: list
  elements: dict
  returned: always
  contains:
    id:
      description: The ID of the route table.
      type: str
      returned: when the table exists
      sample: rtb-0123456789abcdef0
    name:
      description: The name (C(Name) tag) of the route table.
      type: str
      returned: always
      sample: shop-production-public
    vpc_id:
      description: The ID of the VPC.
      type: str
      returned: always
      sample: vpc-0123456789abcdef0
    routes:
      description: The managed routes (created with C(CreateRoute)), with their target.
      type: list
      elements: dict
      returned: always
      sample: [{"dest": "0.0.0.0/0", "gateway_id": "igw-0123456789abcdef0"}]
    subnets:
      description: The IDs of the subnets associated with the table, sorted.
      type: list
      elements: str
      returned: always
      sample: ["subnet-0123456789abcdef0"]
    tags:
      description: The tags of the route table.
      type: dict
      returned: always
      sample: {"Name": "shop-production-public"}
route_table_ids:
  description: The IDs of the requested route tables by name (C(null) for one that check mode
    would create).
  type: dict
  returned: always
  sample: {"shop-production-public": "rtb-0123456789abcdef0"}
gateway_endpoints:
  description: The requested gateway endpoints, in the order of O(gateway_endpoints).
  type: list
  elements: dict
  returned: always
  contains:
    vpc_endpoint_id:
      description: The ID of the endpoint (missing when check mode would create it).
      type: str
      returned: when the endpoint exists
      sample: vpce-0123456789abcdef0
    service_name:
      description: The service of the endpoint.
      type: str
      returned: always
      sample: com.amazonaws.us-east-1.s3
    route_table_ids:
      description: The IDs of its route tables, sorted (without tables check mode would create).
      type: list
      elements: str
      returned: always
      sample: ["rtb-0123456789abcdef0"]
    tags:
      description: The tags of the endpoint.
      type: dict
      returned: always
      sample: {"Name": "shop-production-s3"}
gateway_endpoint_ids:
  description: The IDs of the requested gateway endpoints by service (C(null) for one that check
    mode would create).
  type: dict
  returned: always
  sample: {"com.amazonaws.us-east-1.s3": "vpce-0123456789abcdef0"}
diff:
  description:
    - The route tables that change, before and after, by name, each with C(routes), C(subnets)
      and C(tags); a gateway endpoint that changes is shown under C(endpoint:<service>) with
      C(route_table_ids) and C(tags).
  type: dict
  returned: in diff mode
  contains:
    before:
      description: The tables before.
      type: dict
      returned: in diff mode
      sample: {}
    after:
      description: The tables after.
      type: dict
      returned: in diff mode
      sample: {"shop-production-database": {"routes": [], "subnets": [], "tags": {}}}
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # Handled by AnsibleAWSModule
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import (
    associate_route_table,
    create_route,
    create_route_table,
    create_vpc_endpoint,
    delete_route,
    delete_route_table,
    describe_route_tables,
    describe_vpc_endpoints,
    disassociate_route_table,
    replace_route,
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

# Route option -> the key DescribeRouteTables reports the target under.
TARGETS = {
    "gateway_id": "GatewayId",
    "nat_gateway_id": "NatGatewayId",
    "transit_gateway_id": "TransitGatewayId",
    "vpc_peering_connection_id": "VpcPeeringConnectionId",
    "network_interface_id": "NetworkInterfaceId",
}


def requested_routes(routes: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Destination -> (option, target id) of the requested routes."""
    out = {}
    for route in routes:
        option, target = next((o, route[o]) for o in TARGETS if route[o])
        if option == "gateway_id" and target.startswith("nat-"):
            option = "nat_gateway_id"
        out[route["dest"]] = (option, target)
    return out


def managed_routes(table: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    """Destination -> (option, target id, state) of the table's routes made by CreateRoute."""
    out = {}
    for route in table.get("Routes", []):
        if route.get("Origin") != "CreateRoute" or not route.get("DestinationCidrBlock"):
            continue
        if route.get("GatewayId") == "local":
            continue
        option = next((o for o, key in TARGETS.items() if route.get(key)), None)
        if option is None:
            continue  # An instance or other target this module does not manage.
        out[route["DestinationCidrBlock"]] = (
            option,
            route[TARGETS[option]],
            route.get("State", "active"),
        )
    return out


def route_view(routes: dict[str, tuple[str, ...]]) -> list[dict[str, str]]:
    return [{"dest": dest, target[0]: target[1]} for dest, target in sorted(routes.items())]


class VpcRouteTablesManager(VpcBulkManager):
    kind = "route tables"

    def existing(self) -> list[dict[str, Any]]:
        """Every route table of the VPC: the one describe call of a run."""
        return describe_route_tables(self.client, Filters=self.vpc_filter())

    def by_name(self, tables: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for table in tables:
            name = boto3_tag_list_to_ansible_dict(table.get("Tags", [])).get("Name")
            if name is None:
                continue
            if name in out:
                self.module.fail_json(
                    msg=f"More than one route table of {self.params['vpc_id']} is named {name}:"
                    f" {out[name]['RouteTableId']}, {table['RouteTableId']}"
                )
            out[name] = table
        return out

    @staticmethod
    def view(table_id: str | None, name: str, routes, subnets, tags) -> dict[str, Any]:
        return {
            "id": table_id,
            "name": name,
            "routes": route_view(routes),
            "subnets": sorted(subnets),
            "tags": tags,
        }

    def wanted_tags(self, spec: dict[str, Any]) -> dict[str, str]:
        return dict(merged_tags(self.params["tags"], spec["tags"]) or {}, Name=spec["name"])

    # Writing

    def create_tables(self, specs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Create the missing tables, then wait for all of them with one waiter."""
        created = {}
        for spec in specs:
            self.changed = True
            if self.check_mode:
                created[spec["name"]] = {"RouteTableId": None, "Routes": [], "Associations": []}
                continue
            created[spec["name"]] = create_route_table(
                self.client, self.params["vpc_id"], self.wanted_tags(spec)
            )
        ids = [table["RouteTableId"] for table in created.values() if table["RouteTableId"]]
        if ids:
            try:
                get_waiter(self.client, "route_table_exists").wait(RouteTableIds=ids)
            except botocore.exceptions.WaiterError as e:
                self.module.fail_json_aws(e, msg=f"Timeout waiting for route tables {ids}")
        return created

    def reconcile_routes(self, table: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
        table_id = table["RouteTableId"]
        current = managed_routes(table)
        wanted = requested_routes(spec["routes"])
        for dest, (option, target) in wanted.items():
            params = {"DestinationCidrBlock": dest, TARGETS[option]: target}
            have = current.get(dest)
            if have is None:
                self.changed = True
                if not self.check_mode:
                    create_route(self.client, table_id, **params)
            elif have[:2] != (option, target) or have[2] == "blackhole":
                self.changed = True
                if not self.check_mode:
                    replace_route(self.client, table_id, **params)
        result = dict(wanted)
        for dest, have in current.items():
            if dest in wanted:
                continue
            if self.params["purge_routes"]:
                self.changed = True
                if not self.check_mode:
                    delete_route(self.client, table_id, DestinationCidrBlock=dest)
            else:
                result[dest] = have[:2]
        return result

    def reconcile_subnets(
        self,
        table: dict[str, Any],
        spec: dict[str, Any],
        associations: dict[str, tuple[str, str]],
        wanted_anywhere: set[str],
    ) -> set[str]:
        """Associate the requested subnets (moving them from other tables), drop the others."""
        table_id = table["RouteTableId"]
        result = set(spec["subnets"])
        for subnet_id in spec["subnets"]:
            association_id, current_table = associations.get(subnet_id, (None, None))
            if current_table is not None and current_table == table_id:
                continue
            self.changed = True
            if self.check_mode:
                continue
            if association_id:
                self.client.replace_route_table_association(
                    aws_retry=True, AssociationId=association_id, RouteTableId=table_id
                )
            else:
                associate_route_table(self.client, table_id, SubnetId=subnet_id)
        for subnet_id, (association_id, current_table) in associations.items():
            if current_table != table_id or subnet_id in spec["subnets"]:
                continue
            if subnet_id in wanted_anywhere:
                continue  # Moved to another listed table by its own reconciliation.
            if self.params["purge_subnets"]:
                self.changed = True
                if not self.check_mode:
                    disassociate_route_table(self.client, association_id)
            else:
                result.add(subnet_id)
        return result

    def reconcile_endpoints(self, table_ids: dict[str, str | None]) -> list[dict[str, Any]]:
        """The gateway endpoints: one describe, then a create or a modify per difference."""
        specs = self.params["gateway_endpoints"]
        if not specs:
            return []
        filters = self.vpc_filter() + [
            {"Name": "service-name", "Values": sorted({spec["service"] for spec in specs})}
        ]
        live = [
            endpoint
            for endpoint in describe_vpc_endpoints(self.client, Filters=filters)
            if endpoint.get("VpcEndpointType") == "Gateway"
            and endpoint.get("State", "").lower() in ("pending", "available")
        ]
        return [self.reconcile_endpoint(spec, live, table_ids) for spec in specs]

    def reconcile_endpoint(
        self,
        spec: dict[str, Any],
        live: list[dict[str, Any]],
        table_ids: dict[str, str | None],
    ) -> dict[str, Any]:
        service = spec["service"]
        # None: neither O(tags) nor the endpoint's own tags are set; its tags are left alone.
        wanted_tags = merged_tags(self.params["tags"], spec["tags"])
        wanted = {table_ids[name] for name in spec["route_tables"]}
        found = [e for e in live if e["ServiceName"] == service]
        found.sort(
            key=lambda e: boto3_tag_list_to_ansible_dict(e.get("Tags", [])).get("Name")
            != (wanted_tags or {}).get("Name")
        )
        key = f"endpoint:{service}"
        result = {"service_name": service, "vpc_id": self.params["vpc_id"]}
        if not found:
            self.changed = True
            result.update(route_table_ids=sorted(i for i in wanted if i), tags=wanted_tags or {})
            self.after[key] = {"route_table_ids": result["route_table_ids"], "tags": result["tags"]}
            if self.check_mode:
                return result
            params: dict[str, Any] = {
                "VpcEndpointType": "Gateway",
                "VpcId": self.params["vpc_id"],
                "ServiceName": service,
                "RouteTableIds": sorted(i for i in wanted if i),
            }
            if wanted_tags:
                params["TagSpecifications"] = boto3_tag_specifications(
                    wanted_tags, ["vpc-endpoint"]
                )
            endpoint = create_vpc_endpoint(self.client, **params)
            return dict(result, vpc_endpoint_id=endpoint["VpcEndpointId"])
        endpoint = found[0]
        endpoint_id = endpoint["VpcEndpointId"]
        current = set(endpoint.get("RouteTableIds", []))
        add = sorted(i for i in wanted - current if i)
        remove = sorted(current - wanted)
        if None in wanted:
            self.changed = True  # A table check mode would create.
        if add or remove:
            self.changed = True
            if not self.check_mode:
                changes = {"AddRouteTableIds": add, "RemoveRouteTableIds": remove}
                self.client.modify_vpc_endpoint(
                    aws_retry=True,
                    VpcEndpointId=endpoint_id,
                    **{option: ids for option, ids in changes.items() if ids},
                )
        current_tags = boto3_tag_list_to_ansible_dict(endpoint.get("Tags", []))
        purge = self.params["purge_tags"]
        tags_changed = apply_tags(
            self.client, self.module, endpoint_id, current_tags, wanted_tags, purge
        )
        self.changed |= tags_changed
        result.update(
            vpc_endpoint_id=endpoint_id,
            route_table_ids=sorted(i for i in wanted if i),
            tags=desired_tags(current_tags, wanted_tags, purge),
        )
        if add or remove or tags_changed:
            self.before[key] = {"route_table_ids": sorted(current), "tags": current_tags}
            self.after[key] = {"route_table_ids": result["route_table_ids"], "tags": result["tags"]}
        return result

    # States

    def ensure_present(self) -> dict[str, Any]:
        tables = self.existing()
        named = self.by_name(tables)
        associations = {
            a["SubnetId"]: (a["RouteTableAssociationId"], table["RouteTableId"])
            for table in tables
            for a in table.get("Associations", [])
            if a.get("SubnetId") and not a.get("Main")
        }
        wanted_anywhere = {s for spec in self.params["route_tables"] for s in spec["subnets"]}
        specs = self.params["route_tables"]
        created = self.create_tables([spec for spec in specs if spec["name"] not in named])

        results = []
        for spec in specs:
            name = spec["name"]
            table = named.get(name) or created[name]
            current_tags = boto3_tag_list_to_ansible_dict(table.get("Tags", []))
            before = None
            if name in named:
                before = self.view(
                    table["RouteTableId"],
                    name,
                    managed_routes(table),
                    [s for s, (_a, t) in associations.items() if t == table["RouteTableId"]],
                    current_tags,
                )
            routes = self.reconcile_routes(table, spec)
            subnets = self.reconcile_subnets(table, spec, associations, wanted_anywhere)
            wanted_tags = self.wanted_tags(spec)
            if name in named:
                self.changed |= apply_tags(
                    self.client,
                    self.module,
                    table["RouteTableId"],
                    current_tags,
                    wanted_tags,
                    self.params["purge_tags"],
                )
                tags = desired_tags(current_tags, wanted_tags, self.params["purge_tags"])
            else:
                tags = wanted_tags
            after = self.view(table["RouteTableId"], name, routes, subnets, tags)
            after["vpc_id"] = self.params["vpc_id"]
            results.append(after)
            if before is None or {k: v for k, v in before.items() if k != "id"} != {
                k: v for k, v in after.items() if k not in ("id", "vpc_id")
            }:
                if before is not None:
                    self.before[name] = self.diff_view(before)
                self.after[name] = self.diff_view(after)
        endpoints = self.reconcile_endpoints({table["name"]: table["id"] for table in results})
        return self.outcome(results, endpoints)

    @staticmethod
    def diff_view(view: dict[str, Any]) -> dict[str, Any]:
        return {key: view[key] for key in ("routes", "subnets", "tags")}

    def ensure_absent(self) -> dict[str, Any]:
        named = self.by_name(self.existing())
        results = []
        for spec in self.params["route_tables"]:
            table = named.get(spec["name"])
            if table is None:
                continue
            associations = table.get("Associations", [])
            if any(a.get("Main") for a in associations):
                self.module.fail_json(
                    msg=f"Route table {spec['name']} ({table['RouteTableId']}) is the main route"
                    " table of its VPC; it goes with the VPC"
                )
            view = self.view(
                table["RouteTableId"],
                spec["name"],
                managed_routes(table),
                [a["SubnetId"] for a in associations if a.get("SubnetId")],
                boto3_tag_list_to_ansible_dict(table.get("Tags", [])),
            )
            view["vpc_id"] = self.params["vpc_id"]
            results.append(view)
            self.before[spec["name"]] = self.diff_view(view)
            self.changed = True
            if self.check_mode:
                continue
            for association in associations:
                if association.get("RouteTableAssociationId"):
                    disassociate_route_table(self.client, association["RouteTableAssociationId"])
            delete_route_table(self.client, table["RouteTableId"])
        return self.outcome(results)

    @staticmethod
    def outcome(
        tables: list[dict[str, Any]], endpoints: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        return {
            "route_tables": tables,
            "route_table_ids": {table["name"]: table["id"] for table in tables},
            "gateway_endpoints": endpoints or [],
            "gateway_endpoint_ids": {
                e["service_name"]: e.get("vpc_endpoint_id") for e in endpoints or []
            },
        }


def main() -> None:
    route_options = dict(
        dest=dict(type="str", required=True),
        **{option: dict(type="str") for option in TARGETS},
    )
    argument_spec = dict(
        vpc_id=dict(type="str", required=True),
        route_tables=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                name=dict(type="str", required=True),
                subnets=dict(type="list", elements="str", default=[]),
                routes=dict(
                    type="list",
                    elements="dict",
                    default=[],
                    options=route_options,
                    mutually_exclusive=[list(TARGETS)],
                    required_one_of=[list(TARGETS)],
                ),
                tags=dict(type="dict"),
            ),
        ),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        purge_routes=dict(type="bool", default=True),
        purge_subnets=dict(type="bool", default=True),
        gateway_endpoints=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                service=dict(type="str", required=True),
                route_tables=dict(type="list", elements="str", default=[]),
                tags=dict(type="dict"),
            ),
        ),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    endpoints = module.params["gateway_endpoints"]
    if endpoints and module.params["state"] == "absent":
        module.fail_json(msg="gateway_endpoints: only with state=present")
    services = listed_twice([e["service"] for e in endpoints])
    if services:
        module.fail_json(msg=f"gateway_endpoints: services listed more than once: {services}")
    listed = {spec["name"] for spec in module.params["route_tables"]}
    unknown = sorted({n for e in endpoints for n in e["route_tables"]} - listed)
    if unknown:
        module.fail_json(msg=f"gateway_endpoints: route tables not in route_tables: {unknown}")
    names = [spec["name"] for spec in module.params["route_tables"]]
    subnets = [s for spec in module.params["route_tables"] for s in spec["subnets"]]
    for what, values in (("names", names), ("subnets", subnets)):
        duplicates = listed_twice(values)
        if duplicates:
            module.fail_json(msg=f"route_tables: {what} listed more than once: {duplicates}")
    VpcRouteTablesManager(module).process()


if __name__ == "__main__":
    main()
