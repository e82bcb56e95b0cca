#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cloudwatch_metric_alarms
version_added: "0.1.0"
short_description: Manage a set of CloudWatch metric alarms in one task
description:
  - Make a set of CloudWatch metric alarms exist as given; one paginated C(DescribeAlarms) for
    O(prefix) reads them all, then C(PutMetricAlarm) runs only for alarms that are missing or
    differ, and, with O(purge), one C(DeleteAlarms) removes alarms under O(prefix) that the set no
    longer lists.
  - Written because M(amazon.aws.cloudwatch_metric_alarm) manages one alarm per task (about
    0.9 s of task overhead and a C(DescribeAlarms) each, even when nothing changes); an
    environment's alarm set (tens of alarms) then dominates a no-op run.  This module makes the
    no-op cost one API call for the whole set.
  - Each alarm may name its region (O(alarms[].region)); one run then covers several regions with
    one client and one C(DescribeAlarms) per region of O(regions), instead of one task per region.
  - Alarms are compared field by field with what CloudWatch reports (threshold, statistic,
    dimensions, actions, metric math...), so a rerun with the same set makes no change.
author: Plinth engineering (!UNKNOWN)
options:
  prefix:
    description:
      - Every alarm name in O(alarms) must start with it; C(DescribeAlarms) reads the alarms under
        it, and O(purge) deletes only alarms under it.
    required: true
    type: str
  purge:
    description:
      - Delete the alarms under O(prefix) that O(alarms) does not list, in each region of
        O(regions).
    type: bool
    default: false
  regions:
    description:
      - The regions the run manages; their alarms under O(prefix) are read (and with O(purge)
        deleted when not listed) even when O(alarms) has none there.
      - Defaults to the module's region and the regions of O(alarms[].region). An alarm in a
        region not listed fails the module.
    type: list
    elements: str
  alarms:
    description:
      - The alarms.  Either a single metric (O(alarms[].namespace), O(alarms[].metric_name),
        O(alarms[].statistic) or O(alarms[].extended_statistic), O(alarms[].period)) or metric
        math (O(alarms[].metrics)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The alarm name (starts with O(prefix)); unique within a region.
        type: str
        required: true
      region:
        description: The region of the alarm; by default the module's region (O(region)).
        type: str
      description:
        description: The alarm description.
        type: str
        default: ""
      namespace:
        description: The metric namespace, for example V(AWS/RDS).
        type: str
      metric_name:
        description: The metric name, for example V(CPUUtilization).
        type: str
      dimensions:
        description: Dimension name to value.
        type: dict
        default: {}
      statistic:
        description: V(Average), V(Sum), V(Minimum), V(Maximum) or V(SampleCount).
        type: str
      extended_statistic:
        description: A percentile such as V(p95) (instead of O(alarms[].statistic)).
        type: str
      period:
        description: The period in seconds.
        type: int
      unit:
        description: The metric unit.
        type: str
      metrics:
        description:
          - Metric math, as C(PutMetricAlarm)'s C(Metrics) in snake_case (V(id),
            V(metric_stat), V(expression), V(label), V(return_data), V(period)).
        type: list
        elements: dict
      evaluation_periods:
        description: How many periods are evaluated.
        type: int
        required: true
      datapoints_to_alarm:
        description: How many of them must breach (M out of N); default all of them.
        type: int
      threshold:
        description: The threshold.
        type: float
        required: true
      comparison_operator:
        description: C(PutMetricAlarm)'s C(ComparisonOperator).
        type: str
        required: true
        choices:
          - GreaterThanOrEqualToThreshold
          - GreaterThanThreshold
          - LessThanThreshold
          - LessThanOrEqualToThreshold
      treat_missing_data:
        description: How missing data points are treated.
        type: str
        default: missing
        choices: [breaching, notBreaching, ignore, missing]
      alarm_actions:
        description: ARNs notified when the alarm fires (SNS topics).
        type: list
        elements: str
        default: []
      ok_actions:
        description: ARNs notified when the alarm returns to OK.
        type: list
        elements: str
        default: []
      insufficient_data_actions:
        description: ARNs notified on INSUFFICIENT_DATA.
        type: list
        elements: str
        default: []
      actions_enabled:
        description: Whether the actions run.
        type: bool
        default: true
notes:
  - Tags are not managed (C(PutMetricAlarm) sets tags only on creation).
  - Works against moto 5.2.5 (the project's emulator) for everything this module calls.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The database alarms, routed by severity
  plinth.platform.cloudwatch_metric_alarms:
    prefix: "shop-production-"
    purge: true
    alarms:
      - name: shop-production-rds-main-cpu
        description: CPU of shop-production-main above 80 % for 15 minutes
        namespace: AWS/RDS
        metric_name: CPUUtilization
        dimensions: {DBInstanceIdentifier: shop-production-main}
        statistic: Average
        period: 300
        evaluation_periods: 3
        threshold: 80
        comparison_operator: GreaterThanThreshold
        alarm_actions: ["{{ topics.warning }}"]
      - name: shop-production-alb-5xx-rate
        description: 5xx responses above 0.1 % of requests
        metrics:
          - id: errors
            metric_stat:
              metric:
                namespace: AWS/ApplicationELB
                metric_name: HTTPCode_Target_5XX_Count
                dimensions: [{name: LoadBalancer, value: app/shop/0123456789abcdef}]
              period: 300
              stat: Sum
            return_data: false
          - id: requests
            metric_stat:
              metric:
                namespace: AWS/ApplicationELB
                metric_name: RequestCount
                dimensions: [{name: LoadBalancer, value: app/shop/0123456789abcdef}]
              period: 300
              stat: Sum
            return_data: false
          - id: rate
            expression: "100 * errors / requests"
            return_data: true
        evaluation_periods: 3
        threshold: 0.1
        comparison_operator: GreaterThanThreshold
        alarm_actions: ["{{ topics.critical }}"]
"""

RETURN = r"""
alarms:
  description:
    - The alarms of the set as they are now (as given, in check mode), by name.
    - In this and the other results, an alarm of another region than the module's is named
      C(region:name).
  returned: always
  type: dict
  sample: {"shop-production-rds-main-cpu": {"threshold": 80.0, "statistic": "Average"}}
created:
  description: Names of the alarms created.
  returned: always
  type: list
  elements: str
updated:
  description: Names of the alarms changed.
  returned: always
  type: list
  elements: str
deleted:
  description: Names of the alarms deleted by O(purge).
  returned: always
  type: list
  elements: str
diff:
  description: The changed alarms before and after (only their differing fields).
  returned: when diff mode is on
  type: dict
"""

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible.module_utils.common.dict_transformations import (
    camel_dict_to_snake_dict,
    snake_dict_to_camel_dict,
)
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.bulk import (
    by_region,
    diff_key,
    item_region,
)

# DeleteAlarms takes at most 100 names per call.
DELETE_BATCH = 100

ALARM_OPTIONS: dict[str, dict[str, Any]] = dict(
    name=dict(type="str", required=True),
    region=dict(type="str"),
    description=dict(type="str", default=""),
    namespace=dict(type="str"),
    metric_name=dict(type="str"),
    dimensions=dict(type="dict", default={}),
    statistic=dict(type="str"),
    extended_statistic=dict(type="str"),
    period=dict(type="int"),
    unit=dict(type="str"),
    metrics=dict(type="list", elements="dict"),
    evaluation_periods=dict(type="int", required=True),
    datapoints_to_alarm=dict(type="int"),
    threshold=dict(type="float", required=True),
    comparison_operator=dict(
        type="str",
        required=True,
        choices=[
            "GreaterThanOrEqualToThreshold",
            "GreaterThanThreshold",
            "LessThanThreshold",
            "LessThanOrEqualToThreshold",
        ],
    ),
    treat_missing_data=dict(
        type="str", default="missing", choices=["breaching", "notBreaching", "ignore", "missing"]
    ),
    alarm_actions=dict(type="list", elements="str", default=[]),
    ok_actions=dict(type="list", elements="str", default=[]),
    insufficient_data_actions=dict(type="list", elements="str", default=[]),
    actions_enabled=dict(type="bool", default=True),
)


def _clean(value: Any) -> Any:
    """Drop null entries and sort dimension lists, so requests and descriptions compare equal."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items() if v is not None}
        if "dimensions" in out and isinstance(out["dimensions"], list):
            out["dimensions"] = sorted(
                ({"name": d["name"], "value": d["value"]} for d in out["dimensions"]),
                key=lambda d: (d["name"], d["value"]),
            )
        return out
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def wanted_state(alarm: dict[str, Any]) -> dict[str, Any]:
    """The comparable form of an alarm as given to the module."""
    state = {
        "description": alarm.get("description") or "",
        "namespace": alarm.get("namespace"),
        "metric_name": alarm.get("metric_name"),
        "dimensions": {str(k): str(v) for k, v in (alarm.get("dimensions") or {}).items()},
        "statistic": alarm.get("statistic"),
        "extended_statistic": alarm.get("extended_statistic"),
        "period": alarm.get("period"),
        "unit": alarm.get("unit"),
        "metrics": _clean(alarm.get("metrics")) or None,
        "evaluation_periods": alarm["evaluation_periods"],
        "datapoints_to_alarm": alarm.get("datapoints_to_alarm"),
        "threshold": float(alarm["threshold"]),
        "comparison_operator": alarm["comparison_operator"],
        "treat_missing_data": alarm.get("treat_missing_data") or "missing",
        "alarm_actions": sorted(alarm.get("alarm_actions") or []),
        "ok_actions": sorted(alarm.get("ok_actions") or []),
        "insufficient_data_actions": sorted(alarm.get("insufficient_data_actions") or []),
        "actions_enabled": alarm.get("actions_enabled", True),
    }
    return state


def current_state(described: dict[str, Any]) -> dict[str, Any]:
    """The comparable form of an alarm as DescribeAlarms reports it."""
    alarm = camel_dict_to_snake_dict(described)
    return {
        "description": alarm.get("alarm_description") or "",
        "namespace": alarm.get("namespace"),
        "metric_name": alarm.get("metric_name"),
        "dimensions": {d["name"]: d["value"] for d in alarm.get("dimensions") or []},
        "statistic": alarm.get("statistic"),
        "extended_statistic": alarm.get("extended_statistic"),
        "period": alarm.get("period"),
        "unit": alarm.get("unit"),
        "metrics": _clean(alarm.get("metrics")) or None,
        "evaluation_periods": alarm.get("evaluation_periods"),
        "datapoints_to_alarm": alarm.get("datapoints_to_alarm"),
        "threshold": float(alarm["threshold"]) if alarm.get("threshold") is not None else None,
        "comparison_operator": alarm.get("comparison_operator"),
        "treat_missing_data": alarm.get("treat_missing_data") or "missing",
        "alarm_actions": sorted(alarm.get("alarm_actions") or []),
        "ok_actions": sorted(alarm.get("o_k_actions") or alarm.get("ok_actions") or []),
        "insufficient_data_actions": sorted(alarm.get("insufficient_data_actions") or []),
        "actions_enabled": alarm.get("actions_enabled", True),
    }


def put_request(name: str, state: dict[str, Any]) -> dict[str, Any]:
    """PutMetricAlarm's parameters for a wanted state."""
    request: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": state["description"],
        "EvaluationPeriods": state["evaluation_periods"],
        "Threshold": state["threshold"],
        "ComparisonOperator": state["comparison_operator"],
        "TreatMissingData": state["treat_missing_data"],
        "AlarmActions": state["alarm_actions"],
        "OKActions": state["ok_actions"],
        "InsufficientDataActions": state["insufficient_data_actions"],
        "ActionsEnabled": state["actions_enabled"],
    }
    optional = {
        "Namespace": state["namespace"],
        "MetricName": state["metric_name"],
        "Statistic": state["statistic"],
        "ExtendedStatistic": state["extended_statistic"],
        "Period": state["period"],
        "Unit": state["unit"],
        "DatapointsToAlarm": state["datapoints_to_alarm"],
    }
    request.update({k: v for k, v in optional.items() if v is not None})
    if state["dimensions"]:
        request["Dimensions"] = [{"Name": k, "Value": v} for k, v in state["dimensions"].items()]
    if state["metrics"]:
        request["Metrics"] = [
            snake_dict_to_camel_dict(m, capitalize_first=True) for m in state["metrics"]
        ]
    return request


class MetricAlarmsManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.prefix: str = module.params["prefix"]
        self.client: Any = None
        self.created: list[str] = []
        self.updated: list[str] = []
        self.deleted: list[str] = []
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def fail(self, e: Exception, action: str) -> None:
        self.module.fail_json_aws(e, msg=f"Failed to {action}")

    def regions(self, alarms: list[dict[str, Any]]) -> list[str]:
        """The regions of the run, the module's first; fails on an alarm outside them."""
        given = self.module.params["regions"]
        of_alarms = list(by_region(self.module, alarms))
        if given is None:
            regions = [r for r in [self.module.region] if r]
            return regions + [r for r in of_alarms if r not in regions]
        for index, alarm in enumerate(alarms):
            if item_region(self.module, alarm) not in given:
                self.module.fail_json(
                    msg=f"alarms[{index}] ({alarm['name']}): its region "
                    f"{item_region(self.module, alarm)} is not in regions"
                )
        return list(dict.fromkeys(given))

    def validate(self, alarms: list[dict[str, Any]]) -> None:
        seen: set[tuple[str, str]] = set()
        for index, alarm in enumerate(alarms):
            name = alarm["name"]
            where = f"alarms[{index}] ({name})"
            if not item_region(self.module, alarm):
                self.module.fail_json(msg=f"{where}: no region (set region)")
            if not name.startswith(self.prefix):
                self.module.fail_json(
                    msg=f"{where}: the name does not start with prefix {self.prefix!r}"
                )
            key = (item_region(self.module, alarm), name)
            if key in seen:
                self.module.fail_json(msg=f"{where}: the name is given twice in {key[0]}")
            seen.add(key)
            single = alarm.get("metric_name") is not None
            if single == bool(alarm.get("metrics")):
                self.module.fail_json(msg=f"{where}: give either metric_name or metrics")
            if single and not (alarm.get("namespace") and alarm.get("period")):
                self.module.fail_json(
                    msg=f"{where}: namespace and period are required with metric_name"
                )
            if single and bool(alarm.get("statistic")) == bool(alarm.get("extended_statistic")):
                self.module.fail_json(msg=f"{where}: give either statistic or extended_statistic")

    def ensure_region(self, region: str, alarms: list[dict[str, Any]]) -> dict[str, Any]:
        """Converge the alarms of one region (self.client's); their wanted state by name."""
        existing = self.describe()
        result: dict[str, Any] = {}
        to_put: list[tuple[str, dict[str, Any]]] = []
        created, updated = [], []
        for alarm in alarms:
            name = alarm["name"]
            key = diff_key(self.module, region, name)
            wanted = wanted_state(alarm)
            result[key] = wanted
            if name not in existing:
                created.append(key)
                self.after[key] = wanted
                to_put.append((name, wanted))
                continue
            have = current_state(existing[name])
            changed = {k for k in wanted if wanted[k] != have.get(k)}
            if changed:
                updated.append(key)
                self.before[key] = {k: have.get(k) for k in sorted(changed)}
                self.after[key] = {k: wanted[k] for k in sorted(changed)}
                to_put.append((name, wanted))
        deleted: list[str] = []
        if self.module.params["purge"]:
            listed = {a["name"] for a in alarms}
            deleted = sorted(set(existing) - listed)
            for name in deleted:
                self.before[diff_key(self.module, region, name)] = current_state(existing[name])
        if not self.module.check_mode:
            for name, wanted in to_put:
                try:
                    self.client.put_metric_alarm(aws_retry=True, **put_request(name, wanted))
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    self.fail(e, f"put alarm {name} in {region}")
            for start in range(0, len(deleted), DELETE_BATCH):
                try:
                    self.client.delete_alarms(
                        AlarmNames=deleted[start : start + DELETE_BATCH], aws_retry=True
                    )
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    self.fail(e, f"delete alarms in {region}")
        self.created += created
        self.updated += updated
        self.deleted += [diff_key(self.module, region, name) for name in deleted]
        return result

    def describe(self) -> dict[str, dict[str, Any]]:
        try:
            paginator = self.client.get_paginator("describe_alarms")
            pages = paginator.paginate(
                AlarmNamePrefix=self.prefix, AlarmTypes=["MetricAlarm"]
            ).build_full_result()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"describe the alarms under {self.prefix}")
        return {a["AlarmName"]: a for a in pages.get("MetricAlarms", [])}

    def ensure(self) -> None:
        alarms = self.module.params["alarms"] or []
        self.validate(alarms)
        groups = by_region(self.module, alarms)
        result: dict[str, Any] = {}
        for region in self.regions(alarms):
            self.client = self.module.client(
                "cloudwatch", retry_decorator=AWSRetry.jittered_backoff(), region=region
            )
            result.update(self.ensure_region(region, [alarms[i] for i in groups.get(region, [])]))
        out: dict[str, Any] = {
            "changed": bool(self.created or self.updated or self.deleted),
            "alarms": result,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
        }
        if self.module._diff:
            out["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**out)


def main() -> None:
    argument_spec = dict(
        prefix=dict(type="str", required=True),
        purge=dict(type="bool", default=False),
        alarms=dict(type="list", elements="dict", default=[], options=ALARM_OPTIONS),
        regions=dict(type="list", elements="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    if not module.params["prefix"]:
        module.fail_json(msg="prefix must not be empty (purge would reach every alarm)")
    MetricAlarmsManager(module).ensure()


if __name__ == "__main__":
    main()
