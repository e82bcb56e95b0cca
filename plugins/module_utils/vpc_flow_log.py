# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Describe and normalise VPC flow logs.

Shared by ``plinth.platform.vpc_flow_log`` and ``plinth.platform.vpc_flow_log_info`` so both
return flow logs in the same shape. The functions take an (optionally retry-wrapped) boto3 ``ec2``
client and raise botocore errors; callers turn those into ``fail_json_aws``.
"""

from __future__ import annotations

from typing import Any

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import normalize_boto3_result
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
)


def flow_log_to_ansible(flow_log: dict[str, Any]) -> dict[str, Any]:
    """A DescribeFlowLogs entry as snake_case, with tags as a plain dict and dates as strings."""
    result = camel_dict_to_snake_dict(normalize_boto3_result(flow_log), ignore_list=["Tags"])
    result["tags"] = boto3_tag_list_to_ansible_dict(flow_log.get("Tags", []))
    return result


def describe_flow_logs(client: Any, **params: Any) -> list[dict[str, Any]]:
    """Every flow log matching ``params`` (DescribeFlowLogs arguments), all pages."""
    paginator = client.get_paginator("describe_flow_logs")
    return AWSRetry.jittered_backoff()(paginator.paginate(**params).build_full_result)()["FlowLogs"]
