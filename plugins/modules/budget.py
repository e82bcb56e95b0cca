#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: budget
version_added: "0.1.0"
short_description: Manage an AWS Budgets cost budget and its notifications
description:
  - Create, change and delete a cost budget (fixed limit in USD per month, quarter or year) with
    its notifications (a percentage of the actual or forecasted spend) and their subscribers (SNS
    topics or email addresses).
  - Notifications are matched by type, comparison and threshold; missing ones are created, ones no
    longer listed are deleted (with O(purge_notifications)), and the subscribers of the others are
    compared with C(DescribeSubscribersForNotification) and added or removed one by one.
  - Neither amazon.aws nor community.aws has a budgets module.
author: Plinth engineering (!UNKNOWN)
options:
  name:
    description: The budget name (unique in the account).
    required: true
    type: str
  state:
    description: Whether the budget should exist.
    default: present
    choices: [present, absent]
    type: str
  account_id:
    description:
      - The account that owns the budget.  Defaults to the caller's (one C(GetCallerIdentity)).
    type: str
  limit_usd:
    description: The budgeted amount in USD.  Required with O(state=present).
    type: float
  time_unit:
    description: The budget period.
    default: MONTHLY
    choices: [MONTHLY, QUARTERLY, ANNUALLY]
    type: str
  notifications:
    description: The notifications.
    type: list
    elements: dict
    default: []
    suboptions:
      threshold:
        description: Percentage of the limit.
        type: float
        required: true
      notification_type:
        description: Compare with the actual or the forecasted spend.
        type: str
        required: true
        choices: [ACTUAL, FORECASTED]
      comparison_operator:
        description: How the spend is compared with the threshold.
        type: str
        default: GREATER_THAN
        choices: [GREATER_THAN, LESS_THAN, EQUAL_TO]
      subscribers:
        description: Who is notified (1 to 11 subscribers; at most 10 email addresses).
        type: list
        elements: dict
        required: true
        suboptions:
          type:
            description: The subscriber type.
            type: str
            choices: [SNS, EMAIL]
            default: SNS
          address:
            description: The SNS topic ARN or the email address.
            type: str
            required: true
  purge_notifications:
    description: Delete the budget's notifications that O(notifications) does not list.
    type: bool
    default: true
  compare_subscribers:
    description:
      - Read the subscribers of existing notifications and bring them in line.
      - Set it to V(false) only against an endpoint without C(DescribeSubscribersForNotification)
        (the project's emulator, see the notes); subscribers are then set when a notification is
        created and never compared afterwards.
    type: bool
    default: true
notes:
  - The Budgets API is global (its endpoint is in us-east-1, whatever the region).
  - moto 5.2.5 (the project's emulator) implements C(CreateBudget), C(DescribeBudget),
    C(DeleteBudget), C(CreateNotification), C(DeleteNotification) and
    C(DescribeNotificationsForBudget), but not C(UpdateBudget),
    C(DescribeSubscribersForNotification), C(CreateSubscriber) or C(DeleteSubscriber) (it
    answers them with HTTP 500).  A limit change and
    subscriber changes are therefore unit-tested with a botocore Stubber, and the local inventory
    sets O(compare_subscribers=false).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Monthly budget with the usual alerts
  plinth.platform.budget:
    name: shop-production-monthly
    limit_usd: 5000
    notifications:
      - threshold: 50
        notification_type: FORECASTED
        subscribers: [{address: "{{ topics.info }}"}]
      - threshold: 80
        notification_type: FORECASTED
        subscribers: [{address: "{{ topics.warning }}"}]
      - threshold: 90
        notification_type: ACTUAL
        subscribers:
          - address: "{{ topics.critical }}"
          - {type: EMAIL, address: finops@example.com}
"""

RETURN = r"""
budget:
  description: The budget; empty when absent (and in check mode before creation).
  returned: always
  type: dict
  contains:
    name:
      description: The name.
      type: str
    limit_usd:
      description: The limit.
      type: float
    time_unit:
      description: The period.
      type: str
    notifications:
      description: The notifications (threshold, notification_type, comparison_operator).
      type: list
      elements: dict
diff:
  description: Limit, period and notifications before and after.
  returned: when diff mode is on
  type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager

NotificationKey = tuple[str, str, float]


def key_of(notification: dict[str, Any]) -> NotificationKey:
    return (
        notification["NotificationType"],
        notification["ComparisonOperator"],
        float(notification["Threshold"]),
    )


def api_notification(key: NotificationKey) -> dict[str, Any]:
    kind, operator, threshold = key
    return {
        "NotificationType": kind,
        "ComparisonOperator": operator,
        "Threshold": threshold,
        "ThresholdType": "PERCENTAGE",
    }


def readable(key: NotificationKey) -> dict[str, Any]:
    kind, operator, threshold = key
    return {"notification_type": kind, "comparison_operator": operator, "threshold": threshold}


class BudgetManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.name: str = module.params["name"]
        self.client = module.client("budgets", retry_decorator=AWSRetry.jittered_backoff())
        self.account_id: str = module.params["account_id"] or self.caller_account()
        self.changed = False

    def fail(self, e: Exception, action: str) -> None:
        self.module.fail_json_aws(e, msg=f"Failed to {action} budget {self.name}")

    def caller_account(self) -> str:
        sts = self.module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
        try:
            return sts.get_caller_identity(aws_retry=True)["Account"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Failed to find the account id")

    def call(self, action: str, method: str, **kwargs: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, method)(
                AccountId=self.account_id, BudgetName=self.name, aws_retry=True, **kwargs
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, action)

    def describe(self) -> dict[str, Any] | None:
        try:
            return self.client.describe_budget(
                AccountId=self.account_id, BudgetName=self.name, aws_retry=True
            )["Budget"]
        except is_boto3_error_code("NotFoundException"):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.fail(e, "describe")

    def notifications(self) -> list[NotificationKey]:
        found = self.call("list the notifications of", "describe_notifications_for_budget")
        return [key_of(n) for n in found.get("Notifications", [])]

    def subscribers(self, key: NotificationKey) -> set[tuple[str, str]]:
        found = self.call(
            "list the subscribers of",
            "describe_subscribers_for_notification",
            Notification=api_notification(key),
        )
        return {(s["SubscriptionType"], s["Address"]) for s in found.get("Subscribers", [])}

    def wanted(self) -> dict[NotificationKey, set[tuple[str, str]]]:
        out: dict[NotificationKey, set[tuple[str, str]]] = {}
        for index, n in enumerate(self.module.params["notifications"] or []):
            key = (n["notification_type"], n["comparison_operator"], float(n["threshold"]))
            if key in out:
                self.module.fail_json(msg=f"notifications[{index}] repeats {readable(key)}")
            out[key] = {(s["type"], s["address"]) for s in n["subscribers"]}
            if not 1 <= len(out[key]) <= 11:
                self.module.fail_json(msg=f"notifications[{index}] needs 1 to 11 subscribers")
        return out

    def budget_request(self) -> dict[str, Any]:
        p = self.module.params
        return {
            "BudgetName": self.name,
            "BudgetLimit": {"Amount": format_amount(p["limit_usd"]), "Unit": "USD"},
            "TimeUnit": p["time_unit"],
            "BudgetType": "COST",
        }

    def summary(self, limit: float, unit: str, keys: list[NotificationKey]) -> dict[str, Any]:
        return {
            "name": self.name,
            "limit_usd": limit,
            "time_unit": unit,
            "notifications": [readable(k) for k in sorted(keys)],
        }

    def exit(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        out: dict[str, Any] = {"changed": self.changed, "budget": after}
        if self.module._diff:
            out["diff"] = {"before": before, "after": after}
        self.module.exit_json(**out)

    def ensure_present(self) -> None:
        p = self.module.params
        if p["limit_usd"] is None:
            self.module.fail_json(msg="limit_usd is required with state=present")
        wanted = self.wanted()
        after = self.summary(float(p["limit_usd"]), p["time_unit"], list(wanted))
        current = self.describe()
        if current is None:
            self.changed = True
            if not self.module.check_mode:
                self.create(wanted)
            self.exit({}, after)

        have_limit = float(current["BudgetLimit"]["Amount"])
        have_keys = self.notifications()
        before = self.summary(have_limit, current["TimeUnit"], have_keys)
        if have_limit != float(p["limit_usd"]) or current["TimeUnit"] != p["time_unit"]:
            self.changed = True
            if not self.module.check_mode:
                request = self.budget_request()
                # UpdateBudget replaces the whole budget: keep what Plinth does not manage.
                for kept in ("CostFilters", "CostTypes", "TimePeriod"):
                    if kept in current:
                        request[kept] = current[kept]
                try:
                    self.client.update_budget(
                        AccountId=self.account_id, NewBudget=request, aws_retry=True
                    )
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    self.fail(e, "update")
        to_create = [k for k in wanted if k not in have_keys]
        to_delete = [k for k in have_keys if k not in wanted] if p["purge_notifications"] else []
        kept_keys = [k for k in have_keys if k in wanted]
        subscriber_changes: list[tuple[NotificationKey, set, set]] = []
        if p["compare_subscribers"]:
            for key in kept_keys:
                have = self.subscribers(key)
                add, remove = wanted[key] - have, have - wanted[key]
                if add or remove:
                    subscriber_changes.append((key, add, remove))
                    before.setdefault("subscribers", {})[str(key)] = sorted(have)
                    after.setdefault("subscribers", {})[str(key)] = sorted(wanted[key])
        if not p["purge_notifications"]:
            after["notifications"] = [readable(k) for k in sorted(set(have_keys) | set(wanted))]
        if to_create or to_delete or subscriber_changes:
            self.changed = True
        if self.changed and not self.module.check_mode:
            for key in to_delete:
                self.call(
                    "delete a notification of",
                    "delete_notification",
                    Notification=api_notification(key),
                )
            for key in to_create:
                self.call(
                    "add a notification to",
                    "create_notification",
                    Notification=api_notification(key),
                    Subscribers=subscriber_list(wanted[key]),
                )
            for key, add, remove in subscriber_changes:
                # Add first: a notification must keep at least one subscriber.
                for kind, address in sorted(add):
                    self.call(
                        "add a subscriber to",
                        "create_subscriber",
                        Notification=api_notification(key),
                        Subscriber={"SubscriptionType": kind, "Address": address},
                    )
                for kind, address in sorted(remove):
                    self.call(
                        "remove a subscriber from",
                        "delete_subscriber",
                        Notification=api_notification(key),
                        Subscriber={"SubscriptionType": kind, "Address": address},
                    )
        self.exit(before, after)

    def create(self, wanted: dict[NotificationKey, set[tuple[str, str]]]) -> None:
        try:
            self.client.create_budget(
                AccountId=self.account_id,
                Budget=self.budget_request(),
                NotificationsWithSubscribers=[
                    {"Notification": api_notification(k), "Subscribers": subscriber_list(subs)}
                    for k, subs in sorted(wanted.items())
                ],
                aws_retry=True,
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, "create")

    def ensure_absent(self) -> None:
        current = self.describe()
        if current is None:
            self.exit({}, {})
        before = self.summary(
            float(current["BudgetLimit"]["Amount"]), current["TimeUnit"], self.notifications()
        )
        self.changed = True
        if not self.module.check_mode:
            try:
                self.client.delete_budget(
                    AccountId=self.account_id, BudgetName=self.name, aws_retry=True
                )
            except is_boto3_error_code("NotFoundException"):
                self.changed = False
            except (
                botocore.exceptions.ClientError,
                botocore.exceptions.BotoCoreError,
            ) as e:  # pylint: disable=duplicate-except
                self.fail(e, "delete")
        self.exit(before, {})


def subscriber_list(subscribers: set[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"SubscriptionType": t, "Address": a} for t, a in sorted(subscribers)]


def format_amount(amount: float) -> str:
    """Budgets keeps amounts as decimal strings; "5000" and "5000.0" are the same limit."""
    return f"{amount:.2f}".rstrip("0").rstrip(".")


def main() -> None:
    subscriber = dict(
        type=dict(type="str", choices=["SNS", "EMAIL"], default="SNS"),
        address=dict(type="str", required=True),
    )
    notification = dict(
        threshold=dict(type="float", required=True),
        notification_type=dict(type="str", required=True, choices=["ACTUAL", "FORECASTED"]),
        comparison_operator=dict(
            type="str", default="GREATER_THAN", choices=["GREATER_THAN", "LESS_THAN", "EQUAL_TO"]
        ),
        subscribers=dict(type="list", elements="dict", required=True, options=subscriber),
    )
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        account_id=dict(type="str"),
        limit_usd=dict(type="float"),
        time_unit=dict(type="str", default="MONTHLY", choices=["MONTHLY", "QUARTERLY", "ANNUALLY"]),
        notifications=dict(type="list", elements="dict", default=[], options=notification),
        purge_notifications=dict(type="bool", default=True),
        compare_subscribers=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run_manager(module, BudgetManager(module), f"budget {module.params['name']}")


if __name__ == "__main__":
    main()
