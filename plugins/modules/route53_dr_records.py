#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: route53_dr_records
version_added: "0.3.0"
short_description: Point database DNS records at their writers in one Route 53 change batch
description:
  - Makes every record of O(records) name its writer endpoint, and its standby where Route 53
    routing allows one - O(mode=failover) a C(PRIMARY) record on the writer and a C(SECONDARY) on
    the standby, O(mode=weighted) weight 100 on the writer and 0 on the standby, O(mode=cname) one
    plain CNAME to the writer.
  - With O(health_check.enabled) (failover and weighted modes), each endpoint gets a health check
    named C(<record>-<region>) (tag C(Name), as M(amazon.aws.route53_health_check) with
    C(use_unique_names) names them), attached to its record. A check whose endpoint, port, path or
    failure threshold changed is updated in place.
  - All record changes go in one C(ChangeResourceRecordSets) batch (C(UPSERT)), sent only when a
    record differs, and the module waits until Route 53 reports the change C(INSYNC).
  - A missing public hosted zone is created; a private one must exist.
  - Route 53 is global - O(region) only selects the endpoint the client signs for.
  - Check mode returns the changes it would make; diff mode shows the records before and after.
author: Plinth engineering (!UNKNOWN)
options:
  zone:
    description: The hosted zone's name.
    required: true
    type: str
  private_zone:
    description: Whether O(zone) is a private hosted zone (it must exist).
    type: bool
    default: false
  zone_comment:
    description: Comment of a public zone the module creates.
    type: str
    default: Plinth database records
  ttl:
    description: TTL of the records.
    type: int
    default: 60
  mode:
    description: How the records route (see the description).
    type: str
    choices: [failover, weighted, cname]
    default: failover
  records:
    description: The records, one per database.
    required: true
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The database. Record set identifiers are C(<name>-primary) and C(<name>-secondary)
            (failover) or C(<name>-<region>) (weighted).
        required: true
        type: str
      record:
        description: The record's fully qualified name.
        required: true
        type: str
      writer:
        description: The writer endpoint - C(address), C(port), C(region).
        required: true
        type: dict
      standby:
        description: The standby endpoint - C(address), C(port), C(region); omit when there is none.
        type: dict
  health_check:
    description: Health checks of the endpoints (failover and weighted modes).
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Whether to health-check the endpoints.
        type: bool
        default: true
      type:
        description: The check's protocol.
        type: str
        choices: [TCP, HTTP, HTTPS]
        default: TCP
      port:
        description: The port to check; default the endpoint's.
        type: int
      resource_path:
        description: The path of an HTTP(S) check.
        type: str
      request_interval:
        description: Seconds between checks.
        type: int
        choices: [10, 30]
        default: 30
      failure_threshold:
        description: Failed checks before the endpoint counts as unhealthy.
        type: int
        default: 3
  wait:
    description: Wait until the change batch is C(INSYNC).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the change.
    type: int
    default: 300
  poll_interval:
    description: Seconds between two C(GetChange) calls while waiting.
    type: int
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Point main.db.example.com at the promoted DR instance, the old region as standby
  plinth.platform.route53_dr_records:
    zone: db.example.com
    ttl: 60
    mode: failover
    records:
      - name: main
        record: main.db.example.com
        writer: {address: x-main-dr.abc.us-west-2.rds.amazonaws.com, port: 5432, region: us-west-2}
        standby: {address: x-main.abc.us-east-1.rds.amazonaws.com, port: 5432, region: us-east-1}
"""

RETURN = r"""
zone_id:
  description: The hosted zone's id (null in check mode when it would be created).
  returned: always
  type: str
health_checks:
  description: Per database, the health check id of each role (C(writer), C(standby)); null for
    one that would be created in check mode.
  returned: always
  type: dict
  sample: {main: {writer: 0b1c..., standby: 5d2e...}}
changes:
  description: The record sets upserted (or that would be in check mode).
  returned: always
  type: list
  elements: dict
changed_records:
  description: Per database, whether any of its record sets changed.
  returned: always
  type: dict
plan:
  description: What the module does (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
"""

import contextlib
import uuid
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


class RecordsManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.route53 = module.client("route53", retry_decorator=AWSRetry.jittered_backoff())
        self.result: dict[str, Any] = {
            "changed": False,
            "zone_id": None,
            "health_checks": {},
            "changes": [],
            "changed_records": {},
            "plan": [],
        }

    def change(self, description: str) -> bool:
        """Note a change; True when it is to be made (not in check mode)."""
        self.result["plan"].append(description)
        self.result["changed"] = True
        return not self.module.check_mode

    def run(self) -> None:
        try:
            zone_id = self.zone()
            checks = self.health_checks()
            wanted = self.wanted(checks)
            existing = self.existing(zone_id, wanted) if zone_id else {}
            self.upsert(zone_id, wanted, existing)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Route 53 call failed", **self.result)
        self.module.exit_json(**self.result)

    # --- zone ----------------------------------------------------------------------------------

    def zone(self) -> str | None:
        name, private = fqdn(self.params["zone"]), self.params["private_zone"]
        found = self.route53.list_hosted_zones_by_name(DNSName=name, aws_retry=True)
        for zone in found["HostedZones"]:
            if zone["Name"] == name and zone["Config"].get("PrivateZone", False) == private:
                self.result["zone_id"] = zone["Id"].split("/")[-1]
                return str(self.result["zone_id"])
        if private:
            self.module.fail_json(msg=f"Private hosted zone {name} not found", **self.result)
        if not self.change(f"create hosted zone {name}"):
            return None
        created = self.route53.create_hosted_zone(
            Name=name,
            CallerReference=f"plinth-{uuid.uuid4()}",
            HostedZoneConfig={"Comment": self.params["zone_comment"], "PrivateZone": False},
            aws_retry=True,
        )
        self.result["zone_id"] = created["HostedZone"]["Id"].split("/")[-1]
        return str(self.result["zone_id"])

    # --- health checks -------------------------------------------------------------------------

    def endpoints(self, record: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        roles = [("writer", record["writer"])]
        if (record.get("standby") or {}).get("address"):
            roles.append(("standby", record["standby"]))
        return roles

    def health_checks(self) -> dict[str, dict[str, str | None]]:
        config = self.params["health_check"]
        if not config["enabled"] or self.params["mode"] == "cname":
            return {}
        named = self.named_checks()
        ids: dict[str, dict[str, str | None]] = {}
        for record in self.params["records"]:
            for role, endpoint in self.endpoints(record):
                name = f"{record['record']}-{endpoint['region']}"
                ids.setdefault(record["name"], {})[role] = self.health_check(
                    name, endpoint, named.get(name)
                )
        self.result["health_checks"] = ids
        return ids

    def named_checks(self) -> dict[str, dict[str, Any]]:
        checks: list[dict[str, Any]] = []
        paginator = self.route53.get_paginator("list_health_checks")
        for page in paginator.paginate():
            checks.extend(page["HealthChecks"])
        named: dict[str, dict[str, Any]] = {}
        for start in range(0, len(checks), 10):  # ListTagsForResources takes ten at a time
            batch = {c["Id"]: c for c in checks[start : start + 10]}
            tags = self.route53.list_tags_for_resources(
                ResourceType="healthcheck", ResourceIds=list(batch), aws_retry=True
            )
            for tag_set in tags["ResourceTagSets"]:
                for tag in tag_set.get("Tags", []):
                    if tag["Key"] == "Name":
                        named[tag["Value"]] = batch[tag_set["ResourceId"]]
        return named

    def health_check(
        self, name: str, endpoint: dict[str, Any], existing: dict[str, Any] | None
    ) -> str | None:
        config = self.params["health_check"]
        wanted: dict[str, Any] = {
            "FullyQualifiedDomainName": endpoint["address"],
            "Port": config["port"] or int(endpoint["port"]),
            "FailureThreshold": config["failure_threshold"],
        }
        if config["type"] != "TCP" and config["resource_path"]:
            wanted["ResourcePath"] = config["resource_path"]
        if existing is None:
            if not self.change(f"create health check {name}"):
                return None
            created = self.route53.create_health_check(
                CallerReference=f"plinth-{uuid.uuid4()}",
                HealthCheckConfig={
                    "Type": config["type"],
                    "RequestInterval": config["request_interval"],
                    **wanted,
                },
                aws_retry=True,
            )["HealthCheck"]
            self.route53.change_tags_for_resource(
                ResourceType="healthcheck",
                ResourceId=created["Id"],
                AddTags=[{"Key": "Name", "Value": name}],
                aws_retry=True,
            )
            return str(created["Id"])
        current = existing["HealthCheckConfig"]
        fixed = {"Type": config["type"], "RequestInterval": config["request_interval"]}
        if any(current.get(k) not in (None, v) for k, v in fixed.items()):
            self.module.fail_json(
                msg=f"Health check {name} ({existing['Id']}) has another type or request interval,"
                " which Route 53 cannot change: delete it and run again",
                **self.result,
            )
        differs = {k: v for k, v in wanted.items() if current.get(k) != v}
        if differs and self.change(f"update health check {name}: {', '.join(sorted(differs))}"):
            self.route53.update_health_check(
                HealthCheckId=existing["Id"],
                HealthCheckVersion=existing["HealthCheckVersion"],
                **differs,
                aws_retry=True,
            )
        return str(existing["Id"])

    # --- records -------------------------------------------------------------------------------

    def wanted(self, checks: dict[str, dict[str, str | None]]) -> list[tuple[str, dict[str, Any]]]:
        """(database, record set) for every record set the records must have."""
        mode, out = self.params["mode"], []
        for record in self.params["records"]:
            for role, endpoint in self.endpoints(record):
                if mode == "cname" and role == "standby":
                    continue
                rrset: dict[str, Any] = {
                    "Name": fqdn(record["record"]),
                    "Type": "CNAME",
                    "TTL": self.params["ttl"],
                    "ResourceRecords": [{"Value": endpoint["address"]}],
                }
                if mode == "failover":
                    suffix = "primary" if role == "writer" else "secondary"
                    rrset.update(
                        SetIdentifier=f"{record['name']}-{suffix}", Failover=suffix.upper()
                    )
                elif mode == "weighted":
                    rrset.update(
                        SetIdentifier=f"{record['name']}-{endpoint['region']}",
                        Weight=100 if role == "writer" else 0,
                    )
                check = checks.get(record["name"], {}).get(role)
                if check:
                    rrset["HealthCheckId"] = check
                out.append((record["name"], rrset))
        return out

    def existing(
        self, zone_id: str, wanted: list[tuple[str, dict[str, Any]]]
    ) -> dict[tuple[str, str | None], dict[str, Any]]:
        found: dict[tuple[str, str | None], dict[str, Any]] = {}
        paginator = self.route53.get_paginator("list_resource_record_sets")
        for name in sorted({rrset["Name"] for _db, rrset in wanted}):
            pages = paginator.paginate(
                HostedZoneId=zone_id, StartRecordName=name, StartRecordType="CNAME"
            )
            for page in pages:
                sets = page["ResourceRecordSets"]
                for rrset in sets:
                    if rrset["Name"] == name and rrset["Type"] == "CNAME":
                        found[(name, rrset.get("SetIdentifier"))] = rrset
                if sets and sets[-1]["Name"] != name:
                    break
        return found

    def upsert(
        self,
        zone_id: str | None,
        wanted: list[tuple[str, dict[str, Any]]],
        existing: dict[tuple[str, str | None], dict[str, Any]],
    ) -> None:
        changes, before, after = [], [], []
        for database, rrset in wanted:
            current = existing.get((rrset["Name"], rrset.get("SetIdentifier")))
            differs = current is None or any(current.get(k) != v for k, v in rrset.items())
            self.result["changed_records"].setdefault(database, False)
            if differs:
                self.result["changed_records"][database] = True
                changes.append({"Action": "UPSERT", "ResourceRecordSet": rrset})
                before.append(current or {})
                after.append(rrset)
        self.result["changes"] = changes
        if self.module._diff:
            self.result["diff"] = {"before": before, "after": after}
        if not changes:
            return
        names = ", ".join(
            rrset["Name"] + (f" ({rrset['SetIdentifier']})" if "SetIdentifier" in rrset else "")
            for rrset in after
        )
        if not self.change(f"upsert {names}") or zone_id is None:
            return
        change = self.route53.change_resource_record_sets(
            HostedZoneId=zone_id,
            ChangeBatch={"Comment": "Plinth DR: point records at the writers", "Changes": changes},
            aws_retry=True,
        )["ChangeInfo"]
        if self.params["wait"]:
            delay = self.params["poll_interval"]
            self.module.client("route53").get_waiter("resource_record_sets_changed").wait(
                Id=change["Id"],
                WaiterConfig={
                    "Delay": delay,
                    "MaxAttempts": max(1, self.params["wait_timeout"] // delay),
                },
            )


def main() -> None:
    endpoint = dict(type="dict")
    argument_spec = dict(
        zone=dict(type="str", required=True),
        private_zone=dict(type="bool", default=False),
        zone_comment=dict(type="str", default="Plinth database records"),
        ttl=dict(type="int", default=60),
        mode=dict(type="str", choices=["failover", "weighted", "cname"], default="failover"),
        records=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                record=dict(type="str", required=True),
                writer=dict(endpoint, required=True),
                standby=endpoint,
            ),
        ),
        health_check=dict(
            type="dict",
            default={},
            options=dict(
                enabled=dict(type="bool", default=True),
                type=dict(type="str", choices=["TCP", "HTTP", "HTTPS"], default="TCP"),
                port=dict(type="int"),
                resource_path=dict(type="str"),
                request_interval=dict(type="int", choices=[10, 30], default=30),
                failure_threshold=dict(type="int", default=3),
            ),
        ),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
        poll_interval=dict(type="int", default=5),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    RecordsManager(module).run()


if __name__ == "__main__":
    main()
