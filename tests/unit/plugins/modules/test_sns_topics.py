"""Unit tests for plinth.platform.sns_topics, run against moto's in-process mock_aws."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.modules import sns_topics

REGION = "us-east-1"
HOOK = "https://events.example.com/integration/secret-key-93kd"
TAGS = {"Environment": "test"}


def topic(name: str, **kwargs: Any) -> dict[str, Any]:
    return dict(
        {
            "name": name,
            "display_name": f"{name} alerts",
            "subscriptions": [
                {"protocol": "email", "endpoint": f"{name}@example.com"},
                {"protocol": "https", "endpoint": HOOK},
            ],
            "tags": TAGS,
        },
        **kwargs,
    )


ARGS = {"topics": [topic("plinth-critical"), topic("plinth-warning", subscriptions=[])]}


@pytest.fixture
def sns(aws_moto: None) -> Any:
    return boto3.client("sns", region_name=REGION)


@pytest.fixture
def calls(api_calls: Any) -> list[str]:
    return api_calls("sns")


def arns(sns: Any) -> dict[str, str]:
    return {t["TopicArn"].rsplit(":", 1)[1]: t["TopicArn"] for t in sns.list_topics()["Topics"]}


def subscribed(sns: Any, arn: str) -> set[tuple[str, str]]:
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    return {(s["Protocol"], s["Endpoint"]) for s in subs}


def test_check_mode_on_empty_account_reports_without_writing(run_module, sns, calls):
    result = run_module(sns_topics, ARGS, check_mode=True)
    assert result["changed"] and all(t["changed"] for t in result["topics"])
    assert [t["topic_arn"] for t in result["topics"]] == ["", ""]
    assert calls == ["ListTopics"]
    assert arns(sns) == {}


def test_creates_then_a_rerun_reads_three_calls_per_topic(run_module, sns, calls):
    result = run_module(sns_topics, ARGS)
    assert result["changed"]
    critical, warning = result["topics"]
    assert sorted(critical["subscriptions_added"]) == ["email", "https"]
    found = arns(sns)
    assert critical["topic_arn"] == found["plinth-critical"]
    attributes = sns.get_topic_attributes(TopicArn=found["plinth-critical"])["Attributes"]
    assert attributes["DisplayName"] == "plinth-critical alerts"
    tags = sns.list_tags_for_resource(ResourceArn=found["plinth-critical"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == TAGS
    assert subscribed(sns, found["plinth-critical"]) == {
        ("email", "plinth-critical@example.com"),
        ("https", HOOK),
    }
    assert subscribed(sns, found["plinth-warning"]) == set()
    assert HOOK not in str(result), "an endpoint was returned"

    calls.clear()
    again = run_module(sns_topics, ARGS)
    assert not again["changed"]
    assert [t["topic_arn"] for t in again["topics"]] == [
        critical["topic_arn"],
        warning["topic_arn"],
    ]
    per_topic = ["GetTopicAttributes", "ListTagsForResource", "ListSubscriptionsByTopic"]
    assert sorted(calls) == sorted(["ListTopics"] + per_topic * 2)


def test_drift_is_reported_in_check_mode_then_corrected(run_module, sns):
    run_module(sns_topics, ARGS)
    arn = arns(sns)["plinth-critical"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="x")
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "Extra", "Value": "1"}])
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="someone@example.com")
    (hook,) = [
        s
        for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        if s["Protocol"] == "https"
    ]
    sns.unsubscribe(SubscriptionArn=hook["SubscriptionArn"])

    check = run_module(sns_topics, ARGS, check_mode=True)
    assert check["changed"]
    critical = check["topics"][0]
    assert critical["subscriptions_added"] == ["https"]
    assert critical["subscriptions_removed"] == ["email"]
    assert critical["display_name"] == "plinth-critical alerts" and critical["tags"] == TAGS
    assert ("https", HOOK) not in subscribed(sns, arn)

    fixed = run_module(sns_topics, ARGS)
    assert fixed["changed"]
    assert subscribed(sns, arn) == {("email", "plinth-critical@example.com"), ("https", HOOK)}
    attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["DisplayName"] == "plinth-critical alerts"
    tags = sns.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == TAGS
    assert not run_module(sns_topics, ARGS)["changed"]


def test_no_purge_keeps_other_subscriptions_and_tags(run_module, sns):
    run_module(sns_topics, ARGS)
    arn = arns(sns)["plinth-warning"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="someone@example.com")
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "Extra", "Value": "1"}])
    args = dict(ARGS, purge_subscriptions=False, purge_tags=False)
    assert not run_module(sns_topics, args)["changed"]
    assert subscribed(sns, arn) == {("email", "someone@example.com")}


def test_absent_deletes_once(run_module, sns):
    run_module(sns_topics, ARGS)
    args = {"topics": [{"name": "plinth-critical"}, {"name": "plinth-gone"}], "state": "absent"}
    assert run_module(sns_topics, args, check_mode=True)["changed"]
    assert "plinth-critical" in arns(sns)
    result = run_module(sns_topics, args)
    assert [t["changed"] for t in result["topics"]] == [True, False]
    assert set(arns(sns)) == {"plinth-warning"}
    assert not run_module(sns_topics, args)["changed"]


def test_duplicate_names_fail_before_any_call(run_module, sns, calls):
    result = run_module(sns_topics, {"topics": [topic("a"), topic("a")]})
    assert result["failed"] and "Duplicate topic names: a" in result["msg"]
    assert calls == []


DR_REGION = "us-west-2"


def test_one_run_makes_the_topics_of_two_regions(run_module, sns, calls):
    dr_sns = boto3.client("sns", region_name=DR_REGION)
    args = {"topics": [topic("plinth-critical"), topic("plinth-critical", region=DR_REGION)]}

    check = run_module(sns_topics, args, check_mode=True)
    assert check["changed"] and [t["region"] for t in check["topics"]] == [REGION, DR_REGION]
    assert calls == ["ListTopics", "ListTopics"]  # one per region
    assert arns(sns) == {} and arns(dr_sns) == {}

    result = run_module(sns_topics, args)
    primary, dr = result["topics"]
    assert primary["topic_arn"] == arns(sns)["plinth-critical"]
    assert dr["topic_arn"] == arns(dr_sns)["plinth-critical"]
    assert f":{DR_REGION}:" in dr["topic_arn"]
    assert subscribed(dr_sns, dr["topic_arn"]) == {
        ("email", "plinth-critical@example.com"),
        ("https", HOOK),
    }

    calls.clear()
    again = run_module(sns_topics, args)
    assert not again["changed"]
    assert [t["topic_arn"] for t in again["topics"]] == [primary["topic_arn"], dr["topic_arn"]]
    per_topic = ["GetTopicAttributes", "ListTagsForResource", "ListSubscriptionsByTopic"]
    assert sorted(calls) == sorted(["ListTopics"] * 2 + per_topic * 2)


def test_same_name_twice_in_one_region_fails_before_any_call(run_module, sns, calls):
    topics = [topic("a", region=DR_REGION), topic("a"), topic("a", region=DR_REGION)]
    result = run_module(sns_topics, {"topics": topics})
    assert result["failed"] and f"Duplicate topic names: a ({DR_REGION})" in result["msg"]
    assert calls == []
