#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_flow_log
version_added: 0.1.0
short_description: Manage an AWS VPC flow log
description:
  - Create, tag, replace or delete one VPC flow log for a VPC, a subnet or a network interface.
  - A flow log is identified by its O(resource_id), O(traffic_type) and destination
    (O(log_destination_type) with O(log_group_name) or O(log_destination)).
  - Flow logs cannot be modified in AWS except for their tags. When an immutable attribute
    (O(log_format), O(max_aggregation_interval), O(deliver_logs_permission_arn)) of the matching
    flow log differs from the requested one, the module fails naming the attribute, unless
    O(replace=true), in which case the flow log is deleted and created again.
  - Immutable attributes that are not set are not compared, so an existing flow log with any
    value for them is accepted.
  - This module supports check mode and diff mode.
author:
  - Plinth engineering (!UNKNOWN)
options:
  resource_id:
    description:
      - The ID of the VPC, subnet or network interface the flow log captures traffic for.
    required: true
    type: str
  resource_type:
    description:
      - The type of resource O(resource_id) names.
      - Only used when the flow log is created.
    default: VPC
    choices: [VPC, Subnet, NetworkInterface]
    type: str
  traffic_type:
    description:
      - The type of traffic to log.
    required: true
    choices: [ACCEPT, REJECT, ALL]
    type: str
  log_destination_type:
    description:
      - The type of destination the flow log publishes to.
    default: cloud-watch-logs
    choices: [cloud-watch-logs, s3, kinesis-data-firehose]
    type: str
  log_group_name:
    description:
      - The name of the CloudWatch Logs log group the flow log publishes to.
      - Only valid with O(log_destination_type=cloud-watch-logs).
      - Exactly one of O(log_group_name) and O(log_destination) is required.
    type: str
  log_destination:
    description:
      - The ARN of the destination the flow log publishes to, a CloudWatch Logs log group,
        an S3 bucket (optionally with a folder, for example C(arn:aws:s3:::bucket/prefix/)) or a
        Kinesis Data Firehose delivery stream, matching O(log_destination_type).
      - Required when O(log_destination_type) is V(s3) or V(kinesis-data-firehose).
      - Exactly one of O(log_group_name) and O(log_destination) is required.
    type: str
  deliver_logs_permission_arn:
    description:
      - The ARN of the IAM role that allows the flow log to publish to the destination.
      - Required to create a flow log with O(log_destination_type=cloud-watch-logs).
      - Immutable, see O(replace).
    type: str
  log_format:
    description:
      - The fields to include in the flow log records, for example
        C(${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${action}).
      - When not set, AWS uses its default format on creation, and the format of an existing flow
        log is not compared.
      - Immutable, see O(replace).
    type: str
  max_aggregation_interval:
    description:
      - The maximum interval of time, in seconds, during which a flow of packets is captured and
        aggregated into a record.
      - When not set, AWS uses V(600) on creation, and the interval of an existing flow log is not
        compared.
      - Immutable, see O(replace).
    choices: [60, 600]
    type: int
  replace:
    description:
      - Whether to delete and create again a matching flow log whose immutable attributes differ
        from the requested ones.
      - When V(false), such a difference makes the module fail with a message naming the
        attributes that differ.
      - The new flow log keeps the tags of the old one, changed as O(tags) and O(purge_tags) ask.
    default: false
    type: bool
  state:
    description:
      - V(present) to ensure the flow log exists, V(absent) to delete it.
    default: present
    choices: [present, absent]
    type: str
notes:
  - Flow logs for transit gateways and transit gateway attachments, cross-account delivery
    (C(DeliverCrossAccountRole)) and S3 destination options are not managed by this module.
  - Tags are read with C(DescribeTags) filtered by resource ID only, because the moto emulator
    (5.2.5) reports flow log tags under the resource type C(flow-logs) instead of AWS's
    C(vpc-flow-log).
  - The moto emulator (5.2.5) does not return O(log_destination) for CloudWatch Logs flow logs
    created with O(log_group_name) (AWS returns the log group ARN), so with the emulator a flow
    log created with O(log_group_name) must also be addressed with O(log_group_name).
  - The moto emulator (5.2.5) rejects a second flow log for the same resource and destination
    even when its O(traffic_type) differs; AWS accepts it.
  - The moto emulator (5.2.5) does not implement the C(log-destination) filter of
    C(DescribeFlowLogs) (AWS does not document it either); this module matches the destination
    on the client side.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: Log rejected traffic of a VPC to CloudWatch Logs
  plinth.platform.vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    traffic_type: REJECT
    log_group_name: /plinth/vpc/flow-logs
    deliver_logs_permission_arn: arn:aws:iam::123456789012:role/plinth-flow-logs
    max_aggregation_interval: 60
    tags:
      Environment: production
  register: flow_log

- name: Log all traffic of a subnet to S3 in a custom format
  plinth.platform.vpc_flow_log:
    resource_id: subnet-0123456789abcdef0
    resource_type: Subnet
    traffic_type: ALL
    log_destination_type: s3
    log_destination: arn:aws:s3:::plinth-flow-logs/subnets/
    log_format: "${version} ${vpc-id} ${subnet-id} ${srcaddr} ${dstaddr} ${action}"

- name: Change the aggregation interval, which AWS can only do by recreating the flow log
  plinth.platform.vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    traffic_type: REJECT
    log_group_name: /plinth/vpc/flow-logs
    deliver_logs_permission_arn: arn:aws:iam::123456789012:role/plinth-flow-logs
    max_aggregation_interval: 600
    replace: true

- name: Delete the flow log
  plinth.platform.vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    traffic_type: REJECT
    log_group_name: /plinth/vpc/flow-logs
    state: absent
"""

RETURN = r"""
changed:
  description: Whether a flow log was created, replaced, tagged or deleted.
  type: bool
  returned: always
  sample: true
flow_log:
  description:
    - The flow log after the module ran (O(state=present)), or the flow log that was deleted
      (O(state=absent)).
    - In check mode, for a flow log that would be created, the requested attributes without
      C(flow_log_id) and the other values AWS assigns.
    - An empty dict when O(state=absent) and no flow log matched.
  type: dict
  returned: always
  contains:
    creation_time:
      description: The date and time the flow log was created.
      type: str
      returned: when the flow log exists
      sample: "2026-11-23T10:44:39+00:00"
    deliver_logs_error_message:
      description: Why publishing flow logs failed, when it did.
      type: str
      returned: when publishing failed
      sample: Access error
    deliver_logs_permission_arn:
      description: The ARN of the IAM role that publishes the flow logs.
      type: str
      returned: when set
      sample: arn:aws:iam::123456789012:role/plinth-flow-logs
    deliver_logs_status:
      description: The status of publishing the flow logs.
      type: str
      returned: when the flow log exists
      sample: SUCCESS
    flow_log_id:
      description: The ID of the flow log.
      type: str
      returned: when the flow log exists
      sample: fl-0123456789abcdef0
    flow_log_status:
      description: The status of the flow log.
      type: str
      returned: when the flow log exists
      sample: ACTIVE
    log_destination:
      description: The ARN of the destination the flow log publishes to.
      type: str
      returned: when set
      sample: arn:aws:s3:::plinth-flow-logs/subnets/
    log_destination_type:
      description: The type of destination the flow log publishes to.
      type: str
      returned: always
      sample: cloud-watch-logs
    log_format:
      description: The format of the flow log records.
      type: str
      returned: when the flow log exists or O(log_format) is set
      sample: "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${action}"
    log_group_name:
      description: The name of the CloudWatch Logs log group the flow log publishes to.
      type: str
      returned: when set
      sample: /plinth/vpc/flow-logs
    max_aggregation_interval:
      description: The maximum aggregation interval of the flow log, in seconds.
      type: int
      returned: when the flow log exists or O(max_aggregation_interval) is set
      sample: 600
    resource_id:
      description: The ID of the resource the flow log captures traffic for.
      type: str
      returned: always
      sample: vpc-0123456789abcdef0
    tags:
      description: The tags of the flow log.
      type: dict
      returned: always
      sample: {"Environment": "production"}
    traffic_type:
      description: The type of traffic the flow log captures.
      type: str
      returned: always
      sample: REJECT
differing_attributes:
  description:
    - The immutable attributes (option names) whose requested values differ from the matching
      flow log's, when the module fails because O(replace=false).
  type: list
  elements: str
  returned: on that failure
  sample: ["max_aggregation_interval"]
diff:
  description:
    - The attributes of the flow log before and after the module ran, an empty dict for a flow
      log that does not exist.
    - The attributes are C(resource_id), C(traffic_type), C(log_destination_type),
      C(log_group_name), C(log_destination), C(deliver_logs_permission_arn), C(log_format),
      C(max_aggregation_interval) and C(tags), each when known.
  type: dict
  returned: in diff mode
  contains:
    before:
      description: The attributes before.
      type: dict
      returned: in diff mode
      sample: {}
    after:
      description: The attributes after.
      type: dict
      returned: in diff mode
      sample: {"resource_id": "vpc-0123456789abcdef0", "traffic_type": "REJECT", "tags": {}}
"""

from typing import Any

try:
    import botocore
    from botocore.waiter import WaiterModel, create_waiter_with_client
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import ensure_ec2_tags
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_specifications,
    compare_aws_tags,
)
from ansible_collections.amazon.aws.plugins.module_utils.transformation import (
    ansible_dict_to_boto3_filter_list,
)
from ansible_collections.plinth.platform.plugins.module_utils.vpc_flow_log import (
    describe_flow_logs,
    flow_log_to_ansible,
)

# botocore ships no EC2 waiters for flow logs; these poll DescribeFlowLogs the botocore way so a
# freshly created (or deleted) flow log is visible before we read it back (or recreate it).
FLOW_LOG_WAITERS = {
    "version": 2,
    "waiters": {
        "FlowLogExists": {
            "operation": "DescribeFlowLogs",
            "delay": 5,
            "maxAttempts": 24,
            "acceptors": [
                {
                    "matcher": "path",
                    "expected": True,
                    "argument": "length(FlowLogs[]) > `0`",
                    "state": "success",
                },
                {
                    "matcher": "path",
                    "expected": False,
                    "argument": "length(FlowLogs[]) > `0`",
                    "state": "retry",
                },
            ],
        },
        "FlowLogDeleted": {
            "operation": "DescribeFlowLogs",
            "delay": 5,
            "maxAttempts": 24,
            "acceptors": [
                {
                    "matcher": "path",
                    "expected": True,
                    "argument": "length(FlowLogs[]) == `0`",
                    "state": "success",
                },
                {
                    "matcher": "error",
                    "expected": "InvalidFlowLogId.NotFound",
                    "state": "success",
                },
                {
                    "matcher": "path",
                    "expected": False,
                    "argument": "length(FlowLogs[]) == `0`",
                    "state": "retry",
                },
            ],
        },
    },
}

# Module option -> DescribeFlowLogs key of the attributes AWS cannot modify in place.
IMMUTABLE_ATTRIBUTES = {
    "deliver_logs_permission_arn": "DeliverLogsPermissionArn",
    "log_format": "LogFormat",
    "max_aggregation_interval": "MaxAggregationInterval",
}

# The attributes shown in diff mode.
DIFF_ATTRIBUTES = (
    "resource_id",
    "traffic_type",
    "log_destination_type",
    "log_group_name",
    "log_destination",
    "deliver_logs_permission_arn",
    "log_format",
    "max_aggregation_interval",
    "tags",
)


class VpcFlowLogManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        self.changed = False

    # Reading

    def _destination_matches(self, flow_log: dict[str, Any]) -> bool:
        if self.params["log_group_name"]:
            return flow_log.get("LogGroupName") == self.params["log_group_name"]
        return flow_log.get("LogDestination") == self.params["log_destination"]

    def find(self) -> dict[str, Any] | None:
        """The flow log with the requested resource, traffic type and destination, if any."""
        filters = {
            "resource-id": self.params["resource_id"],
            "traffic-type": self.params["traffic_type"],
            "log-destination-type": self.params["log_destination_type"],
        }
        if self.params["log_group_name"]:
            filters["log-group-name"] = self.params["log_group_name"]
        try:
            flow_logs = describe_flow_logs(
                self.client, Filters=ansible_dict_to_boto3_filter_list(filters)
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            self.module.fail_json_aws(e, msg="Failed to describe flow logs")
        matches = [flow_log for flow_log in flow_logs if self._destination_matches(flow_log)]
        if len(matches) > 1:
            ids = ", ".join(flow_log["FlowLogId"] for flow_log in matches)
            self.module.fail_json(
                msg=f"More than one flow log matches resource {self.params['resource_id']},"
                f" traffic type {self.params['traffic_type']} and this destination: {ids}"
            )
        return matches[0] if matches else None

    def get(self, flow_log_id: str) -> dict[str, Any]:
        try:
            return describe_flow_logs(self.client, FlowLogIds=[flow_log_id])[0]
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to describe flow log {flow_log_id}")

    def wait(self, waiter_name: str, flow_log_id: str) -> None:
        # Waiters need the plain botocore client, not the retrying wrapper.
        waiter = create_waiter_with_client(
            waiter_name, WaiterModel(FLOW_LOG_WAITERS), self.client.client
        )
        try:
            waiter.wait(FlowLogIds=[flow_log_id])
        except botocore.exceptions.WaiterError as e:
            self.module.fail_json_aws(e, msg=f"Timeout waiting for flow log {flow_log_id}")

    # Desired state

    def immutable_differences(self, flow_log: dict[str, Any]) -> list[str]:
        return [
            option
            for option, key in IMMUTABLE_ATTRIBUTES.items()
            if self.params[option] is not None and self.params[option] != flow_log.get(key)
        ]

    def desired_tags(self, current: dict[str, str]) -> dict[str, str]:
        """The tags the flow log should end with, given its current tags."""
        if self.params["tags"] is None:
            return dict(current)
        to_set, to_unset = compare_aws_tags(current, self.params["tags"], self.params["purge_tags"])
        tags = {key: value for key, value in current.items() if key not in to_unset}
        tags.update(to_set)
        return tags

    def requested(self, tags: dict[str, str]) -> dict[str, Any]:
        """The flow log as it would be created: the set options, in the returned shape."""
        flow_log = {
            option: self.params[option]
            for option in (
                "resource_id",
                "traffic_type",
                "log_destination_type",
                "log_group_name",
                "log_destination",
                "deliver_logs_permission_arn",
                "log_format",
                "max_aggregation_interval",
            )
            if self.params[option] is not None
        }
        flow_log["tags"] = tags
        return flow_log

    @staticmethod
    def diff_view(flow_log: dict[str, Any] | None) -> dict[str, Any]:
        if not flow_log:
            return {}
        return {key: flow_log[key] for key in DIFF_ATTRIBUTES if flow_log.get(key) is not None}

    # Writing

    def create(self, tags: dict[str, str]) -> dict[str, Any]:
        # Checked here rather than in the argument spec: addressing an existing flow log (to tag
        # or delete it) does not need the role.
        if (
            self.params["log_destination_type"] == "cloud-watch-logs"
            and not self.params["deliver_logs_permission_arn"]
        ):
            self.module.fail_json(
                msg="deliver_logs_permission_arn is required to create a flow log with"
                " log_destination_type cloud-watch-logs"
            )
        self.changed = True
        if self.check_mode:
            return self.requested(tags)
        params = {
            "ResourceIds": [self.params["resource_id"]],
            "ResourceType": self.params["resource_type"],
            "TrafficType": self.params["traffic_type"],
            "LogDestinationType": self.params["log_destination_type"],
        }
        for option, key in (
            ("log_group_name", "LogGroupName"),
            ("log_destination", "LogDestination"),
            ("deliver_logs_permission_arn", "DeliverLogsPermissionArn"),
            ("log_format", "LogFormat"),
            ("max_aggregation_interval", "MaxAggregationInterval"),
        ):
            if self.params[option] is not None:
                params[key] = self.params[option]
        # aws: tags are reserved; they may be carried over from a replaced flow log but not set.
        user_tags = {key: value for key, value in tags.items() if not key.startswith("aws:")}
        if user_tags:
            params["TagSpecifications"] = boto3_tag_specifications(user_tags, ["vpc-flow-log"])
        try:
            response = self.client.create_flow_logs(aws_retry=True, **params)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            self.module.fail_json_aws(e, msg="Failed to create flow log")
        # CreateFlowLogs reports per-resource failures in the response instead of raising.
        if response.get("Unsuccessful") or not response.get("FlowLogIds"):
            errors = "; ".join(
                f"{item.get('ResourceId')}: {item['Error'].get('Code')}"
                f" {item['Error'].get('Message')}"
                for item in response.get("Unsuccessful", [])
            )
            self.module.fail_json(msg=f"Failed to create flow log: {errors}")
        flow_log_id = response["FlowLogIds"][0]
        self.wait("FlowLogExists", flow_log_id)
        return flow_log_to_ansible(self.get(flow_log_id))

    def delete(self, flow_log_id: str) -> None:
        self.changed = True
        if self.check_mode:
            return
        try:
            response = self.client.delete_flow_logs(aws_retry=True, FlowLogIds=[flow_log_id])
        except is_boto3_error_code("InvalidFlowLogId.NotFound"):
            return  # Deleted by someone else since we looked: the goal is reached.
        except (
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
        ) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to delete flow log {flow_log_id}")
        # DeleteFlowLogs reports per-id failures in the response instead of raising.
        failures = [
            item["Error"]
            for item in response.get("Unsuccessful", [])
            if item["Error"].get("Code") != "InvalidFlowLogId.NotFound"
        ]
        if failures:
            self.module.fail_json(
                msg=f"Failed to delete flow log {flow_log_id}: {failures[0].get('Message')}",
                error=failures[0],
            )
        self.wait("FlowLogDeleted", flow_log_id)

    # States

    def ensure_present(self) -> dict[str, Any]:
        existing = self.find()
        if existing is None:
            flow_log = self.create(self.desired_tags({}))
            return {"flow_log": flow_log, "before": None}

        before = flow_log_to_ansible(existing)
        differences = self.immutable_differences(existing)
        if differences:
            if not self.params["replace"]:
                changes = ", ".join(
                    f"{option} ({existing.get(IMMUTABLE_ATTRIBUTES[option])!r} ->"
                    f" {self.params[option]!r})"
                    for option in differences
                )
                self.module.fail_json(
                    msg=f"Flow log {existing['FlowLogId']} differs in immutable attribute(s)"
                    f" {changes}; AWS cannot modify a flow log, set replace=true to delete and"
                    " recreate it",
                    differing_attributes=differences,
                    flow_log=before,
                )
            self.delete(existing["FlowLogId"])
            flow_log = self.create(self.desired_tags(before["tags"]))
            return {"flow_log": flow_log, "before": before}

        self.changed |= ensure_ec2_tags(
            self.client,
            self.module,
            existing["FlowLogId"],
            # No resource_type: moto lists flow log tags as "flow-logs", AWS as "vpc-flow-log".
            tags=self.params["tags"],
            purge_tags=self.params["purge_tags"],
        )
        if self.check_mode:
            flow_log = dict(before, tags=self.desired_tags(before["tags"]))
        elif self.changed:
            flow_log = flow_log_to_ansible(self.get(existing["FlowLogId"]))
        else:
            flow_log = before
        return {"flow_log": flow_log, "before": before}

    def ensure_absent(self) -> dict[str, Any]:
        existing = self.find()
        if existing is None:
            return {"flow_log": {}, "before": None}
        before = flow_log_to_ansible(existing)
        self.delete(existing["FlowLogId"])
        return {"flow_log": before, "before": before}

    def process(self) -> None:
        if self.params["state"] == "present":
            outcome = self.ensure_present()
            after = outcome["flow_log"]
        else:
            outcome = self.ensure_absent()
            after = None
        result = {"changed": self.changed, "flow_log": outcome["flow_log"]}
        if self.module._diff:
            result["diff"] = {
                "before": self.diff_view(outcome["before"]),
                "after": self.diff_view(after),
            }
        self.module.exit_json(**result)


def main() -> None:
    argument_spec = dict(
        resource_id=dict(type="str", required=True),
        resource_type=dict(
            type="str", default="VPC", choices=["VPC", "Subnet", "NetworkInterface"]
        ),
        traffic_type=dict(type="str", required=True, choices=["ACCEPT", "REJECT", "ALL"]),
        log_destination_type=dict(
            type="str",
            default="cloud-watch-logs",
            choices=["cloud-watch-logs", "s3", "kinesis-data-firehose"],
        ),
        log_group_name=dict(type="str"),
        log_destination=dict(type="str"),
        deliver_logs_permission_arn=dict(type="str"),
        log_format=dict(type="str"),
        max_aggregation_interval=dict(type="int", choices=[60, 600]),
        replace=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("log_group_name", "log_destination")],
        required_one_of=[("log_group_name", "log_destination")],
        required_if=[
            ("log_destination_type", "s3", ("log_destination",)),
            ("log_destination_type", "kinesis-data-firehose", ("log_destination",)),
        ],
    )
    params = module.params
    if params["log_group_name"] and params["log_destination_type"] != "cloud-watch-logs":
        module.fail_json(
            msg="log_group_name is only valid with log_destination_type cloud-watch-logs"
        )

    VpcFlowLogManager(module).process()


if __name__ == "__main__":
    main()
