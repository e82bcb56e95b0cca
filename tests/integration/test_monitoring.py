"""The monitoring layer's AWS side end to end against the embedded AWS: bad configs refused before
any call, check mode on an empty account, apply (topics, log groups, alarms with the expected
thresholds and routing, dashboard, budget), rerun without changes, the HTTPS endpoint (a secret)
never in the output, a dashboard body change detected and diffed, and teardown.

moto 5.2.5 lacks DescribeSubscribersForNotification, so the local inventory turns the budget
module's subscriber comparison off (the module's unit tests cover it with a Stubber). The
in-cluster stack is tested by tests/kube/test_monitoring.py.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.support.playbook import run_playbook

HOME, DR = "us-east-1", "us-west-2"
PREFIX = "demo-production"
SECRET_HOOK = "https://events.example.com/v2/integration/S3CR3T-INTEGRATION-KEY"

APP = {
    "name": "research-api",
    "namespace": "research",
    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/research-api:1.4.2",
    "replicas": 2,
    "node_group": "general",
    "port": 8000,
    "health_path": "/health",
    "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}},
    "slo": {"availability": 99.5, "p95_latency_ms": 250},
}

PLATFORM: dict[str, Any] = {
    "name": "demo",
    "environment": "production",
    "region": HOME,
    "dr_region": DR,
    "availability_zones": ["us-east-1a", "us-east-1b"],
    "network": {"cidr": "10.50.0.0/16"},
    "eks": {
        "node_groups": [
            {"name": "general", "instance_types": ["m6i.large"], "min_size": 2, "max_size": 4},
            {"name": "ml", "instance_types": ["g5.xlarge"], "min_size": 1, "max_size": 2},
        ]
    },
    "databases": {
        "main": {
            "instance_class": "db.r6g.xlarge",
            "allocated_storage": 200,
            "read_replicas": 1,
            "dr_replica": {"enabled": True},
        }
    },
    "caches": {"sessions": {"node_type": "cache.r6g.large", "replicas": 1}},
    "apps": [APP],
    "monitoring": {
        "topics": {
            "critical": {"email": ["oncall@example.com"], "https": [SECRET_HOOK]},
            "warning": {"email": ["platform@example.com"]},
        },
        "log_retention_days": 90,
        "budgets": [{"name": "monthly", "limit_usd": 5000}],
        "sla": {"availability": 99.9, "p95_latency_ms": 100},
        "alarms": {"rds_cpu_percent": 70},
        "in_cluster": False,
    },
}


def _ok(run: Any) -> None:
    assert run.rc == 0, run.failure_messages() or run.stderr[-3000:]


def _alarms(aws: Any, region: str = HOME) -> dict[str, dict[str, Any]]:
    pages = aws.client("cloudwatch", region).get_paginator("describe_alarms").paginate()
    return {a["AlarmName"]: a for page in pages for a in page["MetricAlarms"]}


def _topic(region: str, severity: str) -> str:
    return f"arn:aws:sns:{region}:123456789012:{PREFIX}-alerts-{severity}"


def _load_balancer(aws: Any) -> str:
    """An ALB as the AWS Load Balancer Controller creates it for the app's Ingress."""
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.60.{n}.0/24", AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        for n, zone in enumerate(["us-east-1a", "us-east-1b"])
    ]
    lb = aws.client("elbv2").create_load_balancer(
        Name="k8s-research-researcha-0a1b2c3d4e",
        Subnets=subnets,
        Scheme="internet-facing",
        Type="application",
        Tags=[
            {"Key": "elbv2.k8s.aws/cluster", "Value": PREFIX},
            {"Key": "ingress.k8s.aws/stack", "Value": "research/research-api"},
            {"Key": "ingress.k8s.aws/resource", "Value": "LoadBalancer"},
        ],
    )["LoadBalancers"][0]
    return lb["LoadBalancerArn"].split(":loadbalancer/")[1]


@pytest.mark.parametrize(
    ("patch", "path", "fragment"),
    [
        (
            {"budgets": [{"limit_usd": 100, "thresholds": [{"percent": 50, "type": "FORECAST"}]}]},
            "platform.monitoring.budgets[0].thresholds[0].type",
            "is not one of",
        ),
        (
            {"topics": {"critical": {"https": ["http://hooks.example.com/x"]}}},
            "platform.monitoring.topics.critical.https[0]",
            "is not an https:// URL",
        ),
    ],
)
def test_bad_config_is_refused_before_any_call(aws: Any, patch, path, fragment) -> None:
    platform = copy.deepcopy(PLATFORM)
    platform["monitoring"].update(patch)
    run = run_playbook("monitoring.yml", endpoint_port=aws.port, platform=platform)
    assert run.rc != 0
    messages = "\n".join(run.failure_messages())
    assert path in messages and fragment in messages, messages
    assert aws.recorded_requests() == [], "a bad config must fail before any AWS call"


def test_check_apply_rerun_diff_teardown(aws: Any, tmp_path) -> None:
    check = run_playbook("monitoring.yml", endpoint_port=aws.port, platform=PLATFORM, check=True)
    _ok(check)
    would = " ".join(check.changed_tasks())
    for task in (
        "Ensure the alert topics and their subscriptions",
        "Ensure the log groups with retention",
        "Ensure the alarms, routed to the topic of their severity",
        "Ensure the environment's dashboard",
        "Ensure the budgets and their alerts",
    ):
        assert task in would, f"check mode must report {task!r}: {would}"
    assert aws.write_calls() == [], "check mode must not write"
    planned = check.result("Ensure the alarms, routed to the topic of their severity")
    assert f"{PREFIX}:rds:{PREFIX}-main:cpu" in planned["created"]

    lb_suffix = _load_balancer(aws)
    apply = run_playbook(
        "monitoring.yml", endpoint_port=aws.port, platform=PLATFORM, verbosity=3, tmp_path=tmp_path
    )
    _ok(apply)
    # No task shows the HTTPS endpoint (it may embed an integration key), the config role's
    # validated config included.
    for task in apply.tasks:
        assert "S3CR3T-INTEGRATION-KEY" not in json.dumps(task), task["name"]
    assert "S3CR3T-INTEGRATION-KEY" not in apply.stderr

    # Topics and subscriptions, home and DR region.
    sns = aws.client("sns")
    subs = {
        (s["TopicArn"].rsplit(":", 1)[1], s["Protocol"], s["Endpoint"])
        for s in sns.list_subscriptions()["Subscriptions"]
    }
    assert (f"{PREFIX}-alerts-critical", "https", SECRET_HOOK) in subs
    assert (f"{PREFIX}-alerts-critical", "email", "oncall@example.com") in subs
    assert (f"{PREFIX}-alerts-warning", "email", "platform@example.com") in subs
    dr_topics = {t["TopicArn"] for t in aws.client("sns", DR).list_topics()["Topics"]}
    assert _topic(DR, "critical") in dr_topics

    # Log groups with the configured retention.
    groups = {
        g["logGroupName"]: g.get("retentionInDays")
        for g in aws.client("logs").describe_log_groups()["logGroups"]
    }
    assert groups[f"/plinth/{PREFIX}/apps/research-api"] == 90
    assert groups[f"/aws/eks/{PREFIX}/cluster"] == 90

    # Alarms: thresholds from the config (and its defaults), routed by severity.
    alarms = _alarms(aws)
    main, replica = f"{PREFIX}-main", f"{PREFIX}-main-replica-1"
    cpu = alarms[f"{PREFIX}:rds:{main}:cpu"]
    assert (cpu["Threshold"], cpu["ComparisonOperator"]) == (70.0, "GreaterThanThreshold")
    assert cpu["Dimensions"] == [{"Name": "DBInstanceIdentifier", "Value": main}]
    assert cpu["AlarmActions"] == [_topic(HOME, "warning")] and cpu["OKActions"] == []
    storage = alarms[f"{PREFIX}:rds:{main}:free-storage"]
    assert storage["Threshold"] == 200 * 2**30 * 10 // 100  # 10 % of 200 GiB
    assert storage["ComparisonOperator"] == "LessThanThreshold"
    assert storage["AlarmActions"] == storage["OKActions"] == [_topic(HOME, "critical")]
    # db.r6g.xlarge: 32 GiB -> max_connections 3604; 80 %.
    assert alarms[f"{PREFIX}:rds:{main}:connections"]["Threshold"] == 3604 * 80 // 100
    lag = alarms[f"{PREFIX}:rds:{replica}:replica-lag"]
    assert (lag["MetricName"], lag["Threshold"]) == ("ReplicaLag", 300.0)  # the default RPO
    dr_lag = _alarms(aws, DR)[f"{PREFIX}:rds:{main}-dr:replica-lag"]
    assert dr_lag["AlarmActions"] == [_topic(DR, "critical")]
    member = f"{PREFIX}-sessions-002"
    assert alarms[f"{PREFIX}:elasticache:{member}:memory"]["Threshold"] == 80.0
    assert alarms[f"{PREFIX}:elasticache:{member}:evictions"]["Threshold"] == 1000.0
    assert alarms[f"{PREFIX}:elasticache:{member}:replication-lag"]["Threshold"] == 30.0
    assert f"{PREFIX}:elasticache:{PREFIX}-sessions-001:replication-lag" not in alarms
    assert alarms[f"{PREFIX}:eks:{PREFIX}:node-count"]["Threshold"] == 3.0  # 2 + 1 minimum
    # The app's own SLO (99.5 %, 250 ms) beats the platform SLA for its load balancer.
    p95 = alarms[f"{PREFIX}:alb:research-api:p95-latency"]
    assert (p95["ExtendedStatistic"], p95["Threshold"]) == ("p95", 0.25)
    assert p95["Dimensions"] == [{"Name": "LoadBalancer", "Value": lb_suffix}]
    rate = alarms[f"{PREFIX}:alb:research-api:5xx-rate"]
    assert rate["Threshold"] == 0.5 and rate["AlarmActions"] == [_topic(HOME, "critical")]
    assert [m["Id"] for m in rate["Metrics"]] == ["target5xx", "elb5xx", "requests", "rate"]

    # Dashboard built from the same plan.
    cloudwatch = aws.client("cloudwatch")
    body = json.loads(cloudwatch.get_dashboard(DashboardName=PREFIX)["DashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert "RDS main: CPU %" in titles and "ALB research-api: p95 latency (s), SLA 250 ms" in titles
    cpu_widget = body["widgets"][titles.index("RDS main: CPU %")]["properties"]
    assert cpu_widget["annotations"]["horizontal"][0]["value"] == 70

    # Budget with the references' thresholds, notifying the topic of each severity.
    budgets = aws.client("budgets")
    found = budgets.describe_budget(AccountId="123456789012", BudgetName=f"{PREFIX}-monthly")
    assert found["Budget"]["BudgetLimit"]["Amount"] == "5000"
    notes = budgets.describe_notifications_for_budget(
        AccountId="123456789012", BudgetName=f"{PREFIX}-monthly"
    )["Notifications"]
    assert sorted((n["NotificationType"], n["Threshold"]) for n in notes) == [
        ("ACTUAL", 90.0),
        ("FORECASTED", 50.0),
        ("FORECASTED", 80.0),
    ]

    rerun = run_playbook("monitoring.yml", endpoint_port=aws.port, platform=PLATFORM)
    _ok(rerun)
    assert rerun.changed == 0, rerun.changed_tasks()

    # Someone edits the dashboard by hand: the next run shows the difference and puts it back.
    edited = copy.deepcopy(body)
    edited["widgets"][0]["properties"]["title"] = "edited by hand"
    cloudwatch.put_dashboard(DashboardName=PREFIX, DashboardBody=json.dumps(edited))
    aws.clear_recording()
    drift = run_playbook(
        "monitoring.yml", endpoint_port=aws.port, platform=PLATFORM, check=True, diff=True
    )
    _ok(drift)
    assert drift.changed_tasks() == [
        "plinth.platform.monitoring : Ensure the environment's dashboard"
    ]
    diff = drift.result("Ensure the environment's dashboard")["diff"]
    assert '"title": "edited by hand"' in diff["before"]
    assert '"title": "RDS main: CPU %"' in diff["after"]
    assert aws.write_calls() == []

    # A threshold change moves the alarm and the dashboard's line together.
    changed = copy.deepcopy(PLATFORM)
    changed["monitoring"]["alarms"]["rds_cpu_percent"] = 75
    update = run_playbook("monitoring.yml", endpoint_port=aws.port, platform=changed, diff=True)
    _ok(update)
    alarm_result = update.result("Ensure the alarms, routed to the topic of their severity")
    updated = alarm_result["updated"]
    assert sorted(updated) == sorted([f"{PREFIX}:rds:{main}:cpu", f"{PREFIX}:rds:{replica}:cpu"])
    assert _alarms(aws)[f"{PREFIX}:rds:{main}:cpu"]["Threshold"] == 75.0
    body = json.loads(cloudwatch.get_dashboard(DashboardName=PREFIX)["DashboardBody"])
    assert body["widgets"][0]["properties"]["title"] == "RDS main: CPU %"

    teardown = run_playbook(
        "monitoring.yml",
        endpoint_port=aws.port,
        platform=changed,
        extra_vars={"monitoring_state": "absent"},
    )
    _ok(teardown)
    assert not [n for n in _alarms(aws) if n.startswith(f"{PREFIX}:")]
    assert not _alarms(aws, DR)
    assert cloudwatch.list_dashboards()["DashboardEntries"] == []
    assert budgets.describe_budgets(AccountId="123456789012").get("Budgets", []) == []
