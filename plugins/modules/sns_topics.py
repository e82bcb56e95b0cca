#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sns_topics
version_added: 0.1.0
short_description: Manage a set of SNS topics and their subscriptions in one task
description:
  - Makes a set of SNS topics exist as given, each in its region (O(topics[].region), default the
    module's region), with their display name, optional KMS key, subscriptions (protocol and
    endpoint) and tags. One paginated C(ListTopics) per region finds them all;
    an unchanged topic then costs C(GetTopicAttributes), C(ListTagsForResource) and
    C(ListSubscriptionsByTopic); writes happen only for differences.
  - Written because M(community.aws.sns_topic) takes one task per topic and lists every topic of
    the region several times per run (about 11 calls for an unchanged topic), and fails in check
    mode on a topic that does not exist yet. Here check mode reports what would be created.
  - Subscriptions are compared by protocol and endpoint. A subscription still waiting for
    confirmation (email) cannot be removed through the API and is left alone.
  - Topic policies, delivery policies, data protection and subscription attributes are not
    managed; use M(community.aws.sns_topic) for them.
author:
  - Plinth engineering (!UNKNOWN)
options:
  topics:
    description:
      - The topics. A name ending in C(.fifo) makes a FIFO topic. Each topic is in
        O(topics[].region), so one run can make the topics of several regions; a name must be
        unique within a region.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The topic name (not an ARN).
        type: str
        required: true
      region:
        description:
          - The region of the topic; by default the module's region (O(region)).
          - One client and one C(ListTopics) per region.
        type: str
      display_name:
        description:
          - The display name (the sender of SMS and email). V(null) leaves it as it is.
        type: str
      kms_master_key_id:
        description:
          - The KMS key (ID, ARN or alias) encrypting messages at rest. V(null) leaves it as it
            is; V("") turns encryption off.
        type: str
      subscriptions:
        description: The subscriptions. See O(purge_subscriptions).
        type: list
        elements: dict
        default: []
        suboptions:
          protocol:
            description: The protocol (V(email), V(https), V(sqs), V(lambda)...).
            type: str
            required: true
          endpoint:
            description:
              - The endpoint. Never printed (an HTTPS endpoint often carries an integration key).
            type: str
            required: true
      tags:
        description: Tags of the topic. See O(purge_tags).
        type: dict
        default: {}
  purge_subscriptions:
    description:
      - Whether confirmed subscriptions not in O(topics[].subscriptions) are removed.
    type: bool
    default: true
  purge_tags:
    description:
      - Whether tags not in O(topics[].tags) are removed.
    type: bool
    default: true
  state:
    description:
      - V(present) to make the topics exist as given, V(absent) to delete them (with their
        subscriptions).
    type: str
    default: present
    choices: [present, absent]
notes:
  - In check mode a topic that does not exist yet is reported with RV(topics[].topic_arn=""),
    as it would be created.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: One alert topic per severity
  plinth.platform.sns_topics:
    topics:
      - name: plinth-production-critical
        display_name: plinth-production critical alerts
        subscriptions:
          - {protocol: email, endpoint: oncall@example.com}
          - {protocol: https, endpoint: "https://events.example.com/integration/KEY"}
        tags: {Environment: production}
      - name: plinth-production-warning
        display_name: plinth-production warning alerts
        subscriptions:
          - {protocol: email, endpoint: platform@example.com}
  register: alert_topics
  no_log: true  # the HTTPS endpoint carries a key

- name: The same topic in the primary and in the DR region
  plinth.platform.sns_topics:
    topics:
      - name: plinth-production-critical
      - name: plinth-production-critical
        region: us-west-2

- name: Delete the topics
  plinth.platform.sns_topics:
    topics:
      - name: plinth-production-critical
      - name: plinth-production-warning
    state: absent
"""

RETURN = r"""
changed:
  description: Whether any topic was created, changed or deleted (in check mode, would be).
  type: bool
  returned: always
  sample: false
topics:
  description: The topics in the order of O(topics), after the module ran, each with its region.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The topic name.
      type: str
      sample: plinth-production-critical
    region:
      description: The region of the topic.
      type: str
      sample: us-east-1
    topic_arn:
      description: The topic ARN; V("") when the topic does not exist (check mode, O(state=absent)).
      type: str
      sample: arn:aws:sns:us-east-1:123456789012:plinth-production-critical
    display_name:
      description: The display name.
      type: str
      sample: plinth-production critical alerts
    tags:
      description: The topic's tags.
      type: dict
      sample: {Environment: production}
    subscriptions_added:
      description: The protocols of the subscriptions added (endpoints are never returned).
      type: list
      elements: str
      sample: [email]
    subscriptions_removed:
      description: The protocols of the subscriptions removed.
      type: list
      elements: str
      sample: []
    changed:
      description: Whether this topic was created, changed or deleted.
      type: bool
      sample: false
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.plinth.platform.plugins.module_utils.bulk import (
    by_region,
    call,
    item_region,
    refuse_duplicates_by_region,
)

# Subscriptions that cannot be unsubscribed (SNS gives them no ARN yet, or is removing them).
UNREMOVABLE = ("PendingConfirmation", "Deleted")


class SnsTopicsManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.client: Any = None
        self.region = module.region
        self.changed = False

    def use_region(self, region: str) -> None:
        """Work on the topics of ``region`` from now on (one client per region)."""
        self.region = region
        self.client = self.module.client(
            "sns", retry_decorator=AWSRetry.jittered_backoff(), region=region
        )

    def call(self, action: str, what: str, **params: Any) -> Any:
        return call(self.module, self.client, action, what, **params)

    def existing_topics(self) -> dict[str, str]:
        """Topic name -> ARN for every topic of the region (one paginated ListTopics)."""
        try:
            pages = self.client.get_paginator("list_topics").paginate().build_full_result()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg="Failed to list the topics")
        # Topic names cannot contain colons: the name is the ARN's last field.
        return {t["TopicArn"].rsplit(":", 1)[1]: t["TopicArn"] for t in pages.get("Topics", [])}

    def subscriptions(self, arn: str) -> list[dict[str, Any]]:
        try:
            paginator = self.client.get_paginator("list_subscriptions_by_topic")
            pages = paginator.paginate(TopicArn=arn).build_full_result()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to list the subscriptions of {arn}")
        return pages.get("Subscriptions", [])

    def ensure_subscriptions(self, wanted: dict[str, Any], arn: str) -> tuple[list, list]:
        """Subscribe what is missing, unsubscribe (with purge) what is not wanted."""
        desired = {(s["protocol"], s["endpoint"]) for s in wanted["subscriptions"]}
        current = self.subscriptions(arn) if arn else []
        existing = {(s["Protocol"], s["Endpoint"]) for s in current}
        added = sorted(desired - existing)
        removed = [
            s
            for s in current
            if self.module.params["purge_subscriptions"]
            and (s["Protocol"], s["Endpoint"]) not in desired
            and s["SubscriptionArn"] not in UNREMOVABLE
        ]
        if not self.module.check_mode:
            for protocol, endpoint in added:
                self.call(
                    "subscribe",
                    f"subscribe a {protocol} endpoint to {wanted['name']}",
                    TopicArn=arn,
                    Protocol=protocol,
                    Endpoint=endpoint,
                )
            for subscription in removed:
                self.call(
                    "unsubscribe",
                    f"unsubscribe a {subscription['Protocol']} endpoint from {wanted['name']}",
                    SubscriptionArn=subscription["SubscriptionArn"],
                )
        return [p for p, _e in added], [s["Protocol"] for s in removed]

    def create(self, wanted: dict[str, Any]) -> str:
        if self.module.check_mode:
            return ""
        attributes = {}
        if wanted["name"].endswith(".fifo"):
            attributes["FifoTopic"] = "true"
        if wanted["display_name"] is not None:
            attributes["DisplayName"] = wanted["display_name"]
        if wanted["kms_master_key_id"]:
            attributes["KmsMasterKeyId"] = wanted["kms_master_key_id"]
        params: dict[str, Any] = {"Name": wanted["name"], "Attributes": attributes}
        if wanted["tags"]:
            params["Tags"] = ansible_dict_to_boto3_tag_list(wanted["tags"])
        return self.call("create_topic", f"create topic {wanted['name']}", **params)["TopicArn"]

    def update(self, wanted: dict[str, Any], arn: str) -> dict[str, Any]:
        """Set the attributes and tags that differ; return the topic's attributes and tags."""
        name = wanted["name"]
        attributes = self.call(
            "get_topic_attributes", f"get the attributes of {name}", TopicArn=arn
        )["Attributes"]
        changed = False
        for option, attribute in (
            ("display_name", "DisplayName"),
            ("kms_master_key_id", "KmsMasterKeyId"),
        ):
            value = wanted[option]
            if value is None or attributes.get(attribute, "") == value:
                continue
            changed = True
            attributes[attribute] = value
            if not self.module.check_mode:
                self.call(
                    "set_topic_attributes",
                    f"set {attribute} of {name}",
                    TopicArn=arn,
                    AttributeName=attribute,
                    AttributeValue=value,
                )
        tags = boto3_tag_list_to_ansible_dict(
            self.call("list_tags_for_resource", f"list the tags of {name}", ResourceArn=arn)["Tags"]
        )
        to_set, to_remove = compare_aws_tags(tags, wanted["tags"], self.module.params["purge_tags"])
        if to_set or to_remove:
            changed = True
            if not self.module.check_mode:
                if to_remove:
                    self.call("untag_resource", f"untag {name}", ResourceArn=arn, TagKeys=to_remove)
                if to_set:
                    self.call(
                        "tag_resource",
                        f"tag {name}",
                        ResourceArn=arn,
                        Tags=ansible_dict_to_boto3_tag_list(to_set),
                    )
            tags = {k: v for k, v in {**tags, **to_set}.items() if k not in to_remove}
        return {
            "display_name": attributes.get("DisplayName", ""),
            "tags": tags,
            "changed": changed,
        }

    def ensure_topic(self, wanted: dict[str, Any], existing: dict[str, str]) -> dict[str, Any]:
        arn = existing.get(wanted["name"], "")
        if arn:
            result = self.update(wanted, arn)
        else:
            arn = self.create(wanted)
            result = {"display_name": wanted["display_name"] or "", "tags": wanted["tags"]}
            result["changed"] = True
        added, removed = self.ensure_subscriptions(wanted, arn)
        result["changed"] = result["changed"] or bool(added or removed)
        self.changed |= result["changed"]
        return dict(
            result,
            name=wanted["name"],
            region=self.region,
            topic_arn=arn,
            subscriptions_added=added,
            subscriptions_removed=removed,
        )

    def delete_topic(self, name: str, existing: dict[str, str]) -> dict[str, Any]:
        arn = existing.get(name, "")
        if arn and not self.module.check_mode:
            try:
                self.client.delete_topic(aws_retry=True, TopicArn=arn)
            except is_boto3_error_code("NotFound"):
                pass
            except (
                botocore.exceptions.ClientError,
                botocore.exceptions.BotoCoreError,
            ) as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg=f"Failed to delete topic {name}")
        self.changed |= bool(arn)
        return {"name": name, "region": self.region, "topic_arn": "", "changed": bool(arn)}

    def run(self) -> None:
        topics = self.module.params["topics"]
        names = [topic["name"] for topic in topics]
        refuse_duplicates_by_region(self.module, topics, names, "topic names")
        for topic in topics:
            if not item_region(self.module, topic):
                self.module.fail_json(msg=f"{topic['name']}: no region (set region)")
        results: list[dict[str, Any]] = [{}] * len(topics)
        for region, indexes in by_region(self.module, topics).items():
            self.use_region(region)
            existing = self.existing_topics()
            for index in indexes:
                if self.module.params["state"] == "absent":
                    results[index] = self.delete_topic(names[index], existing)
                else:
                    results[index] = self.ensure_topic(topics[index], existing)
        self.module.exit_json(changed=self.changed, topics=results)


def main() -> None:
    subscription = dict(
        protocol=dict(type="str", required=True),
        endpoint=dict(type="str", required=True, no_log=True),
    )
    topic = dict(
        name=dict(type="str", required=True),
        region=dict(type="str"),
        display_name=dict(type="str"),
        kms_master_key_id=dict(type="str", no_log=False),
        subscriptions=dict(type="list", elements="dict", default=[], options=subscription),
        tags=dict(type="dict", default={}),
    )
    argument_spec = dict(
        topics=dict(type="list", elements="dict", required=True, options=topic),
        purge_subscriptions=dict(type="bool", default=True),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    SnsTopicsManager(module).run()


if __name__ == "__main__":
    main()
