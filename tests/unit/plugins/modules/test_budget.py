"""Unit tests for plinth.platform.budget.

moto 5.2.5 implements CreateBudget, DescribeBudget, DeleteBudget and the notification calls, which
run in-process; it lacks UpdateBudget and the subscriber calls (DescribeSubscribersForNotification,
CreateSubscriber, DeleteSubscriber), so a limit change and subscriber changes run against a
botocore Stubber that asserts every request.
"""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.plinth.platform.plugins.modules import budget
from botocore.stub import Stubber

ACCOUNT = "123456789012"
NAME = "demo-production-monthly"
INFO = f"arn:aws:sns:us-east-1:{ACCOUNT}:demo-production-alerts-info"
CRITICAL = f"arn:aws:sns:us-east-1:{ACCOUNT}:demo-production-alerts-critical"


def args(limit: float = 5000, **changes) -> dict:
    out = {
        "name": NAME,
        "region": "us-east-1",
        "limit_usd": limit,
        "notifications": [
            {
                "threshold": 50,
                "notification_type": "FORECASTED",
                "subscribers": [{"address": INFO}],
            },
            {
                "threshold": 90,
                "notification_type": "ACTUAL",
                "subscribers": [{"address": CRITICAL}],
            },
        ],
    }
    out.update(changes)
    return out


def notifications() -> list[tuple]:
    client = boto3.client("budgets", region_name="us-east-1")
    found = client.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName=NAME)
    return sorted((n["NotificationType"], n["Threshold"]) for n in found["Notifications"])


def exists() -> bool:
    client = boto3.client("budgets", region_name="us-east-1")
    return any(
        b["BudgetName"] == NAME
        for b in client.describe_budgets(AccountId=ACCOUNT).get("Budgets", [])
    )


def test_check_mode_creates_nothing(aws_moto, run_module):
    result = run_module(budget, args(), check_mode=True)
    assert result["changed"]
    assert result["budget"]["limit_usd"] == 5000.0
    assert not exists()


def test_create_and_rerun(aws_moto, run_module):
    result = run_module(budget, args())
    assert result["changed"]
    client = boto3.client("budgets", region_name="us-east-1")
    found = client.describe_budget(AccountId=ACCOUNT, BudgetName=NAME)["Budget"]
    assert found["BudgetLimit"] == {"Amount": "5000", "Unit": "USD"}
    assert found["TimeUnit"] == "MONTHLY" and found["BudgetType"] == "COST"
    assert notifications() == [("ACTUAL", 90.0), ("FORECASTED", 50.0)]
    # The emulator cannot list subscribers: compare_subscribers off, as the local inventory does.
    again = run_module(budget, args(compare_subscribers=False))
    assert not again["changed"], again


def test_notification_added_and_purged(aws_moto, run_module):
    run_module(budget, args())
    changed = args(compare_subscribers=False)
    changed["notifications"] = [
        {"threshold": 80, "notification_type": "FORECASTED", "subscribers": [{"address": INFO}]},
        changed["notifications"][1],
    ]
    result = run_module(budget, changed, diff=True)
    assert result["changed"]
    assert {
        "notification_type": "FORECASTED",
        "comparison_operator": "GREATER_THAN",
        "threshold": 50.0,
    } in result["diff"]["before"]["notifications"]
    assert notifications() == [("ACTUAL", 90.0), ("FORECASTED", 80.0)]


def test_absent(aws_moto, run_module):
    run_module(budget, args())
    assert run_module(budget, {"name": NAME, "state": "absent"})["changed"]
    assert not exists()
    assert not run_module(budget, {"name": NAME, "state": "absent"})["changed"]


def test_duplicate_notification_refused(aws_moto, run_module):
    bad = args()
    bad["notifications"].append(bad["notifications"][0])
    result = run_module(budget, bad)
    assert result["failed"] and "repeats" in result["msg"]
    assert not exists()


# --- what moto lacks: Stubber ------------------------------------------------------------------


@pytest.fixture
def stub(monkeypatch):
    client = boto3.client(
        "budgets", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )

    def fake_client(self, service, retry_decorator=None, **kwargs):
        assert service == "budgets"
        return RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client

    monkeypatch.setattr(AnsibleAWSModule, "client", fake_client)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def notification(kind: str, threshold: float) -> dict:
    return {
        "NotificationType": kind,
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": threshold,
        "ThresholdType": "PERCENTAGE",
    }


def described_budget(amount: str) -> dict:
    return {
        "Budget": {
            "BudgetName": NAME,
            "BudgetLimit": {"Amount": amount, "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        }
    }


def test_limit_change_updates_the_budget(stub, run_module):
    who = {"AccountId": ACCOUNT, "BudgetName": NAME}
    stub.add_response("describe_budget", described_budget("5000.0"), who)
    stub.add_response(
        "describe_notifications_for_budget",
        {"Notifications": [notification("ACTUAL", 90.0), notification("FORECASTED", 50.0)]},
        who,
    )
    stub.add_response(
        "update_budget",
        {},
        {
            "AccountId": ACCOUNT,
            "NewBudget": {
                "BudgetName": NAME,
                "BudgetLimit": {"Amount": "6000", "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
        },
    )
    result = run_module(
        budget, args(6000, account_id=ACCOUNT, compare_subscribers=False), diff=True
    )
    assert result.get("changed"), result
    assert result["diff"]["before"]["limit_usd"] == 5000.0
    assert result["diff"]["after"]["limit_usd"] == 6000.0


def test_subscribers_are_compared_and_fixed(stub, run_module):
    who = {"AccountId": ACCOUNT, "BudgetName": NAME}
    stub.add_response("describe_budget", described_budget("5000"), who)
    stub.add_response(
        "describe_notifications_for_budget",
        {"Notifications": [notification("FORECASTED", 50.0), notification("ACTUAL", 90.0)]},
        who,
    )
    stub.add_response(
        "describe_subscribers_for_notification",
        {"Subscribers": [{"SubscriptionType": "SNS", "Address": INFO}]},
        dict(who, Notification=notification("FORECASTED", 50.0)),
    )
    stub.add_response(
        "describe_subscribers_for_notification",
        {"Subscribers": [{"SubscriptionType": "SNS", "Address": INFO}]},
        dict(who, Notification=notification("ACTUAL", 90.0)),
    )
    stub.add_response(
        "create_subscriber",
        {},
        dict(
            who,
            Notification=notification("ACTUAL", 90.0),
            Subscriber={"SubscriptionType": "SNS", "Address": CRITICAL},
        ),
    )
    stub.add_response(
        "delete_subscriber",
        {},
        dict(
            who,
            Notification=notification("ACTUAL", 90.0),
            Subscriber={"SubscriptionType": "SNS", "Address": INFO},
        ),
    )
    result = run_module(budget, args(account_id=ACCOUNT))
    assert result["changed"]
