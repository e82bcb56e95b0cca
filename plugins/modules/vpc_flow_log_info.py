#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vpc_flow_log_info
version_added: 0.1.0
short_description: List AWS VPC flow logs
description:
  - List VPC flow logs, all of them or those selected by O(flow_log_ids), O(resource_ids) and
    O(filters); the selections combine with AND.
author:
  - Plinth engineering (!UNKNOWN)
options:
  flow_log_ids:
    description:
      - The IDs of the flow logs to list.
    type: list
    elements: str
    default: []
  resource_ids:
    description:
      - List only the flow logs of these VPCs, subnets or network interfaces.
    type: list
    elements: str
    aliases: [resource_id]
    default: []
  filters:
    description:
      - A dict of filters to apply. Each dict item consists of a filter key and a filter value.
        See U(https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeFlowLogs.html)
        for possible filters, for example C(traffic-type), C(log-destination-type),
        C(log-group-name), C(deliver-log-status) and C(tag:<key>).
    type: dict
    default: {}
notes:
  - The moto emulator (5.2.5) implements the C(resource-id), C(traffic-type),
    C(log-destination-type), C(flow-log-id), C(log-group-name), C(deliver-log-status),
    C(tag:<key>) and C(tag-key) filters; any other filter fails there with
    C(FilterNotImplementedError).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: List the flow logs of a VPC
  plinth.platform.vpc_flow_log_info:
    resource_id: vpc-0123456789abcdef0
  register: vpc_flow_logs

- name: List the flow logs that failed to deliver
  plinth.platform.vpc_flow_log_info:
    filters:
      deliver-log-status: FAILED

- name: Describe one flow log
  plinth.platform.vpc_flow_log_info:
    flow_log_ids:
      - fl-0123456789abcdef0
"""

RETURN = r"""
flow_logs:
  description: The flow logs found, in the shape M(plinth.platform.vpc_flow_log) returns.
  type: list
  elements: dict
  returned: always
  contains:
    creation_time:
      description: The date and time the flow log was created.
      type: str
      returned: always
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
      returned: always
      sample: SUCCESS
    flow_log_id:
      description: The ID of the flow log.
      type: str
      returned: always
      sample: fl-0123456789abcdef0
    flow_log_status:
      description: The status of the flow log.
      type: str
      returned: always
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
      returned: always
      sample: "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${action}"
    log_group_name:
      description: The name of the CloudWatch Logs log group the flow log publishes to.
      type: str
      returned: when set
      sample: /plinth/vpc/flow-logs
    max_aggregation_interval:
      description: The maximum aggregation interval of the flow log, in seconds.
      type: int
      returned: always
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
"""

import contextlib

with contextlib.suppress(ImportError):  # Handled by AnsibleAWSModule
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.transformation import (
    ansible_dict_to_boto3_filter_list,
)
from ansible_collections.plinth.platform.plugins.module_utils.vpc_flow_log import (
    describe_flow_logs,
    flow_log_to_ansible,
)


def main() -> None:
    argument_spec = dict(
        flow_log_ids=dict(type="list", elements="str", default=[]),
        resource_ids=dict(type="list", elements="str", default=[], aliases=["resource_id"]),
        filters=dict(type="dict", default={}),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())

    filters = dict(module.params["filters"])
    if module.params["resource_ids"]:
        filters["resource-id"] = module.params["resource_ids"]
    params = {"Filters": ansible_dict_to_boto3_filter_list(filters)}
    if module.params["flow_log_ids"]:
        params["FlowLogIds"] = module.params["flow_log_ids"]
    try:
        flow_logs = describe_flow_logs(client, **params)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg="Failed to describe flow logs")

    module.exit_json(
        changed=False, flow_logs=[flow_log_to_ansible(flow_log) for flow_log in flow_logs]
    )


if __name__ == "__main__":
    main()
