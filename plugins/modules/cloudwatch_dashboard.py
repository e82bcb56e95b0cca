#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_dashboard
version_added: "0.1.0"
short_description: Manage a CloudWatch dashboard
description:
  - Create, change and delete a CloudWatch dashboard from its body (widgets).
  - Idempotent by content; the body given is compared, as parsed JSON, with the one
    C(GetDashboard) returns, so key order and whitespace never cause a change; a different body is
    put with C(PutDashboard) and shown in diff mode as before/after JSON text.
  - Neither amazon.aws nor community.aws has a dashboard module.
author: Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - The dashboard name (letters, digits, C(-) and C(_), at most 255 characters).
    required: true
    type: str
  state:
    description:
      - Whether the dashboard should exist.
    default: present
    choices: [present, absent]
    type: str
  body:
    description:
      - The dashboard body, a mapping with C(widgets) (and optionally C(start),
        C(periodOverride)...), as documented in "Dashboard Body Structure and Syntax"; or the
        same as a JSON string.
      - Required with O(state=present).
    type: raw
notes:
  - C(PutDashboard) validates the body and reports problems as C(DashboardValidationMessages); the
    module fails with them.  moto 5.2.5 (the project's emulator) validates nothing and reports no
    messages.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A dashboard with one metric widget
  plinth.platform.cloudwatch_dashboard:
    name: shop-production
    body:
      widgets:
        - type: metric
          x: 0
          y: 0
          width: 12
          height: 6
          properties:
            title: RDS CPU
            region: us-east-1
            metrics: [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "shop-production-main"]]

- name: Delete it
  plinth.platform.cloudwatch_dashboard:
    name: shop-production
    state: absent
"""

RETURN = r"""
dashboard:
  description: The dashboard; empty when absent (and in check mode before creation).
  returned: always
  type: dict
  contains:
    name:
      description: The name.
      type: str
    arn:
      description: The ARN.
      type: str
    body:
      description: The body, parsed.
      type: dict
diff:
  description: The body before and after as indented JSON text (a readable unified diff).
  returned: when diff mode is on
  type: dict
"""

import contextlib
import json
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager


def as_text(body: dict[str, Any] | None) -> str:
    """The body as diffable text: sorted keys, one item per line."""
    return "" if body is None else json.dumps(body, indent=2, sort_keys=True) + "\n"


class DashboardManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.name: str = module.params["name"]
        self.client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())
        self.changed = False

    def fail(self, e: Exception, action: str) -> None:
        self.module.fail_json_aws(e, msg=f"Failed to {action} dashboard {self.name}")

    def get(self) -> dict[str, Any] | None:
        try:
            found = self.client.get_dashboard(DashboardName=self.name, aws_retry=True)
        except is_boto3_error_code("ResourceNotFound"):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.fail(e, "get")
        return {
            "name": found["DashboardName"],
            "arn": found.get("DashboardArn", ""),
            "body": json.loads(found.get("DashboardBody") or "{}"),
        }

    def exit(self, dashboard: dict[str, Any] | None, before: Any, after: Any) -> None:
        out: dict[str, Any] = {"changed": self.changed, "dashboard": dashboard or {}}
        if self.module._diff:
            out["diff"] = {
                "before": as_text(before),
                "after": as_text(after),
                "before_header": f"dashboard {self.name}",
                "after_header": f"dashboard {self.name}",
            }
        self.module.exit_json(**out)

    def wanted_body(self) -> dict[str, Any]:
        body = self.module.params["body"]
        if body is None:
            self.module.fail_json(msg="body is required with state=present")
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except ValueError as e:
                self.module.fail_json(msg=f"body is not valid JSON: {e}")
        if not isinstance(body, dict) or not isinstance(body.get("widgets", []), list):
            self.module.fail_json(msg="body must be a mapping whose 'widgets' is a list")
        # A round trip through JSON makes Ansible's tagged types and ints/floats compare as
        # CloudWatch will return them.
        return json.loads(json.dumps(body))

    def ensure_present(self) -> None:
        wanted = self.wanted_body()
        current = self.get()
        before = current["body"] if current else None
        if before == wanted:
            self.exit(current, before, wanted)
        self.changed = True
        if self.module.check_mode:
            self.exit(current, before, wanted)
        try:
            response = self.client.put_dashboard(
                DashboardName=self.name, DashboardBody=json.dumps(wanted), aws_retry=True
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, "put")
        messages = response.get("DashboardValidationMessages") or []
        if messages:
            self.module.fail_json(
                msg=f"CloudWatch rejected parts of dashboard {self.name}",
                validation_messages=messages,
            )
        self.exit(self.get(), before, wanted)

    def ensure_absent(self) -> None:
        current = self.get()
        if current is None:
            self.exit(None, None, None)
        self.changed = True
        if not self.module.check_mode:
            try:
                self.client.delete_dashboards(DashboardNames=[self.name], aws_retry=True)
            except is_boto3_error_code("ResourceNotFound"):
                self.changed = False
            except (
                botocore.exceptions.ClientError,
                botocore.exceptions.BotoCoreError,
            ) as e:  # pylint: disable=duplicate-except
                self.fail(e, "delete")
        self.exit(None, current["body"], None)


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        body=dict(type="raw"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run_manager(module, DashboardManager(module), f"dashboard {module.params['name']}")


if __name__ == "__main__":
    main()
