"""Benchmark: a whole site run of an S0-like environment (BioInvest production) against the
embedded AWS with its realistic-latency profile.

Prints, for a cold run: wall time, each layer's time in the three phases of site.yml (phase 1: what
the layers need of the network, beside what they need no network for; phase 2: the rest of the
layers; phase 3: the apps beside monitoring), the critical path (the sum of each phase's slowest
host) and their ratio; for a no-op rerun: wall time, changed count, the phases, the AWS API calls
it made against the number of resources the environment manages (enumerated by type through each
service's API), the slowest tasks and the API calls by operation. Figures only, no asserts.

    .venv/bin/python bench/site.py [--scale 60] [--inventory inventories/bioinvest-production]
        [--cluster site-bench] [--keep]

With --compare CHECKOUT [--rounds 4], instead: the no-op of this checkout and of another (a git
worktree with the .venv linked) in turn, round after round, on the state this checkout's cold run
built, each run's wall time, CPU time and changed count, then each one's median. This VM's speed
drifts by up to a third over minutes; two checkouts compared this way see the same drift.

site.yml ends with the apps and monitoring layers, which need a Kubernetes API: the emulator's EKS
has none, so the run gets a local cluster (tools/kube, the inventory's node groups) as the local
inventory does (`plinth_eks_kubeconfig`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.dr import load_cluster  # noqa: E402
from tests.support.emulator_fixture import (  # noqa: E402  (needs ROOT on sys.path)
    EmulatorHandle,
    _free_port,
    _load_cli,
)
from tests.support.playbook import PlaybookRun, run_playbook  # noqa: E402

TARGETS = {"ratio": 1.1, "noop_seconds": 30.0, "calls_per_resource": 2.0}


def _when(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _spans(run: PlaybookRun) -> dict[tuple[str, str], tuple[float, float]]:
    """First start and last end of each host's tasks in each play."""
    data = json.loads(run.stdout[run.stdout.find("{") :])
    spans: dict[tuple[str, str], tuple[float, float]] = {}
    for play in data["plays"]:
        name = play["play"]["name"]
        for task in play["tasks"]:
            for host in task["hosts"]:
                duration = task["task"].get("duration") or {}
                if not duration.get("start") or not duration.get("end"):
                    continue
                start, end = _when(duration["start"]), _when(duration["end"])
                old = spans.get((host, name), (start, end))
                spans[(host, name)] = (min(old[0], start), max(old[1], end))
    return spans


# Actions that run in the controller's worker, not as a module process.
LOCAL_ACTIONS = {
    f"{prefix}{name}"
    for prefix in ("", "ansible.builtin.")
    for name in (
        "set_fact",
        "assert",
        "debug",
        "fail",
        "include_role",
        "include_tasks",
        "add_host",
        # A role's argument validation (counted as a module run before 2026-12-04 evening).
        "validate_argument_spec",
    )
}


def _module_runs(run: PlaybookRun) -> dict[tuple[str, str], int]:
    """Module processes (loop items count one each) each host started in each play."""
    data = json.loads(run.stdout[run.stdout.find("{") :])
    counts: dict[tuple[str, str], int] = {}
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("skipped") or result.get("action") in LOCAL_ACTIONS:
                    continue
                items = result.get("results")
                ran = 1 if items is None else sum(not i.get("skipped") for i in items)
                key = (host, play["play"]["name"])
                counts[key] = counts.get(key, 0) + ran
    return counts


PHASES = ("phase 1", "phase 2", "phase 3")


def _phase_of(play: str) -> str:
    """site.yml's side-by-side plays: the network and what needs none, the layers on the network,
    then the apps beside monitoring."""
    if play.startswith("Network"):
        return "phase 1"
    return "phase 3" if play.startswith("Apps") else "phase 2"


def _phases(run: PlaybookRun) -> dict[str, dict[str, float]]:
    """Each host's (layer's) time in each phase of site.yml."""
    layers: dict[str, dict[str, float]] = {}
    for (host, play), (start, end) in _spans(run).items():
        if host.startswith("plinth-"):
            layers.setdefault(host[7:], {})[_phase_of(play)] = end - start
    return layers


def _print_phases(run: PlaybookRun) -> float:
    """Print the phases; return the critical path (the sum of each phase's slowest host)."""
    layers = _phases(run)
    runs: dict[str, dict[str, int]] = {phase: {} for phase in PHASES}
    for (host, play), count in _module_runs(run).items():
        if host.startswith("plinth-"):
            runs[_phase_of(play)][host[7:]] = count
    for layer, times in sorted(layers.items(), key=lambda item: -sum(item[1].values())):
        spans = " + ".join(
            f"{times[phase]:5.1f} s ({runs[phase].get(layer, 0)} runs) in {phase}"
            for phase in PHASES
            if phase in times
        )
        print(f"  {layer:<13} {spans}")
    critical = 0.0
    for phase in PHASES:
        slowest = max([times.get(phase, 0.0) for times in layers.values()], default=0.0)
        print(f"  {phase}: slowest host {slowest:5.1f} s, {sum(runs[phase].values())} module runs")
        critical += slowest
    return critical


def _task_times(run: PlaybookRun) -> list[tuple[float, str, str]]:
    """(seconds, host, task name) of every task a host ran, slowest first."""
    data = json.loads(run.stdout[run.stdout.find("{") :])
    times = []
    for play in data["plays"]:
        for task in play["tasks"]:
            duration = task["task"].get("duration") or {}
            if not duration.get("start") or not duration.get("end"):
                continue
            seconds = _when(duration["end"]) - _when(duration["start"])
            for host in task["hosts"]:
                times.append((seconds, host, task["task"]["name"]))
    return sorted(times, reverse=True)


def _managed_resources(aws: EmulatorHandle, regions: list[str], prefix: str) -> Counter:
    """The AWS resources the environment manages, by type: each one that has its own identity and
    its own create and delete calls (a bucket's lifecycle or a key's rotation is part of the
    bucket or key; a replication group's member clusters are part of the group)."""
    found: Counter = Counter()

    def ours(tags: Any) -> bool:
        pairs = tags.items() if isinstance(tags, dict) else ((t["Key"], t["Value"]) for t in tags)
        return ("plinth:stack", prefix) in pairs or ("plinth:stack", f"{prefix}-dr") in pairs

    def named(name: str) -> bool:
        return name.startswith(prefix)

    for region in regions:
        ec2 = aws.client("ec2", region=region)
        stack = [{"Name": "tag:plinth:stack", "Values": [prefix, f"{prefix}-dr"]}]
        found["ec2 vpc"] += len(ec2.describe_vpcs(Filters=stack)["Vpcs"])
        found["ec2 subnet"] += len(ec2.describe_subnets(Filters=stack)["Subnets"])
        found["ec2 route table"] += len(ec2.describe_route_tables(Filters=stack)["RouteTables"])
        found["ec2 internet gateway"] += len(
            ec2.describe_internet_gateways(Filters=stack)["InternetGateways"]
        )
        found["ec2 nat gateway"] += sum(
            g["State"] == "available"
            for g in ec2.describe_nat_gateways(Filters=stack)["NatGateways"]
        )
        found["ec2 elastic ip"] += len(ec2.describe_addresses(Filters=stack)["Addresses"])
        found["ec2 security group"] += len(
            ec2.describe_security_groups(Filters=stack)["SecurityGroups"]
        )
        found["ec2 vpc endpoint"] += len(ec2.describe_vpc_endpoints(Filters=stack)["VpcEndpoints"])
        found["ec2 flow log"] += len(ec2.describe_flow_logs(Filters=stack)["FlowLogs"])
        found["ec2 launch template"] += len(
            ec2.describe_launch_templates(Filters=stack)["LaunchTemplates"]
        )
        kms = aws.client("kms", region=region)
        aliases = [a for a in kms.list_aliases()["Aliases"] if named(a["AliasName"][6:])]
        found["kms key"] += len({a["TargetKeyId"] for a in aliases})
        found["kms alias"] += len(aliases)
        secrets = aws.client("secretsmanager", region=region).list_secrets()["SecretList"]
        found["secret"] += sum(ours(s.get("Tags", [])) for s in secrets)
        rds = aws.client("rds", region=region)
        found["rds instance"] += sum(
            named(i["DBInstanceIdentifier"]) for i in rds.describe_db_instances()["DBInstances"]
        )
        found["rds subnet group"] += sum(
            named(g["DBSubnetGroupName"]) for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
        )
        found["rds parameter group"] += sum(
            named(g["DBParameterGroupName"])
            for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
        )
        cache = aws.client("elasticache", region=region)
        found["elasticache replication group"] += sum(
            named(g["ReplicationGroupId"])
            for g in cache.describe_replication_groups()["ReplicationGroups"]
        )
        found["elasticache subnet group"] += sum(
            named(g["CacheSubnetGroupName"])
            for g in cache.describe_cache_subnet_groups()["CacheSubnetGroups"]
        )
        eks = aws.client("eks", region=region)
        for cluster in filter(named, eks.list_clusters()["clusters"]):
            found["eks cluster"] += 1
            found["eks node group"] += len(eks.list_nodegroups(clusterName=cluster)["nodegroups"])
            # No add-ons: the emulator has no EKS add-on API (eks_addon's notes), the bench none.
        logs = aws.client("logs", region=region)
        found["log group"] += sum(
            prefix in g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]
        )
        sns = aws.client("sns", region=region)
        topics = [
            t["TopicArn"]
            for t in sns.list_topics()["Topics"]
            if named(t["TopicArn"].split(":")[-1])
        ]
        found["sns topic"] += len(topics)
        found["sns subscription"] += sum(
            len(sns.list_subscriptions_by_topic(TopicArn=t)["Subscriptions"]) for t in topics
        )
        cloudwatch = aws.client("cloudwatch", region=region)
        found["cloudwatch alarm"] += len(
            cloudwatch.describe_alarms(AlarmNamePrefix=f"{prefix}:")["MetricAlarms"]
        )
        found["cloudwatch dashboard"] += len(
            cloudwatch.list_dashboards(DashboardNamePrefix=prefix)["DashboardEntries"]
        )
    found["s3 bucket"] = sum(named(b["Name"]) for b in aws.client("s3").list_buckets()["Buckets"])
    iam = aws.client("iam")
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"] if named(r["RoleName"])]
    found["iam role"] = len(roles)
    found["iam inline policy"] = sum(
        len(iam.list_role_policies(RoleName=r)["PolicyNames"]) for r in roles
    )
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    found["iam oidc provider"] = len(providers)
    account = aws.client("sts").get_caller_identity()["Account"]
    budgets = aws.client("budgets").describe_budgets(AccountId=account)
    found["budget"] = sum(named(b["BudgetName"]) for b in budgets.get("Budgets", []))
    return +found


def _extra_vars(aws: EmulatorHandle, kubeconfig: Path) -> dict[str, Any]:
    """What a site run here needs besides the inventory: the emulator and the local cluster."""
    return {
        "plinth_aws": {
            "endpoint_url": aws.endpoint_url,
            "access_key": "testing",
            "secret_key": "testing",
        },
        # The emulator has no EKS add-on API (see eks_addon's notes).
        "eks_addons": [],
        "plinth_eks_kubeconfig": str(kubeconfig),
        # Nor DescribeSubscribersForNotification (see the budget module's notes; as the local
        # inventory sets it).
        "monitoring_budget_compare_subscribers": False,
    }


def _compare(
    aws: EmulatorHandle, inventory: str, tmp: Path, kubeconfig: Path, other: Path, rounds: int
) -> int:
    """The no-op of this checkout and of ``other`` in turn, round after round, on the state this
    checkout's cold run built: both see the same drift of the machine's speed."""
    extra = _extra_vars(aws, kubeconfig)
    cold = run_playbook("site.yml", inventory=inventory, extra_vars=extra, tmp_path=tmp)
    print(f"cold run of {ROOT}: rc {cold.rc}, changed {cold.changed}", flush=True)
    if cold.rc != 0:
        print(*cold.failure_messages(), sep="\n  ")
        return 1
    figures: dict[Path, list[tuple[float, float]]] = {ROOT: [], other: []}
    for number in range(rounds):
        for tree in figures:
            cpu = _children_cpu()
            started = time.monotonic()
            run = run_playbook(
                str(tree / "playbooks/site.yml"),
                inventory=str(tree / inventory),
                extra_vars=extra,
                tmp_path=tmp,
                env={"ANSIBLE_CONFIG": str(tree / "ansible.cfg")},
            )
            wall, cpu = time.monotonic() - started, _children_cpu() - cpu
            figures[tree].append((wall, cpu))
            print(
                f"round {number} {tree}: rc {run.rc}, wall {wall:5.1f} s, CPU {cpu:5.1f} s, "
                f"changed {run.changed}",
                flush=True,
            )
    for tree, runs in figures.items():
        print(
            f"median {tree}: wall {statistics.median(w for w, _ in runs):5.1f} s, "
            f"CPU {statistics.median(c for _, c in runs):5.1f} s over {len(runs)} runs"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="60", help="real seconds per emulator second")
    parser.add_argument("--inventory", default="inventories/bioinvest-production")
    parser.add_argument(
        "--detail", type=int, default=25, help="rows of no-op task and API call detail"
    )
    parser.add_argument("--cluster", default="site-bench", help="local Kubernetes cluster name")
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="instead: the no-op of this checkout and of CHECKOUT in turn on one state",
    )
    parser.add_argument("--rounds", type=int, default=4, help="rounds of --compare")
    args = parser.parse_args()

    cluster = load_cluster()
    config_path = ROOT / args.inventory / "group_vars/all/platform.yml"
    already = cluster.is_healthy(cluster.kubeconfig_path(args.cluster))
    kubeconfig = cluster.up(args.cluster, config_path=config_path)
    cli = _load_cli()
    env = {key: "" for key in os.environ if key.startswith("PLINTH_EMULATOR_")}
    env.update(PLINTH_EMULATOR_LATENCY="1", PLINTH_EMULATOR_LATENCY_SCALE=args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        server = cli.Emulator(port=_free_port(), state_root=Path(tmp))
        server.start(env=env, record=True)
        try:
            aws = EmulatorHandle(server)
            if args.compare:
                return _compare(
                    aws, args.inventory, Path(tmp), kubeconfig, args.compare.resolve(), args.rounds
                )
            return _bench(
                aws, args.inventory, Path(tmp), args.detail, kubeconfig, server.read_pid()
            )
        finally:
            server.stop()
            if not (already or args.keep):
                cluster.down(args.cluster)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a running process (0 when unknown)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _bench(
    aws: EmulatorHandle,
    inventory: str,
    tmp: Path,
    detail: int,
    kubeconfig: Path,
    emulator_pid: int | None,
) -> int:
    import yaml

    platform = yaml.safe_load((ROOT / inventory / "group_vars/all/platform.yml").read_text())
    platform = platform["platform"]
    prefix = f"{platform['name']}-{platform['environment']}"
    extra = _extra_vars(aws, kubeconfig)
    print(f"inventory {inventory}, latency profile 1:{aws.latency.get('scale')}")

    started = time.monotonic()
    cold = run_playbook("site.yml", inventory=inventory, extra_vars=extra, tmp_path=tmp)
    cold_wall = time.monotonic() - started
    if cold.rc != 0:
        print("cold run failed:", *cold.failure_messages(), sep="\n  ")
        return 1
    print(f"cold run:   wall {cold_wall:6.1f} s, changed {cold.changed}")
    critical = _print_phases(cold)
    print(
        f"  critical path {critical:6.1f} s (the sum of each phase's slowest host); "
        f"wall / critical path = {cold_wall / critical:.2f} (target <= {TARGETS['ratio']})"
    )

    aws.clear_recording()
    started, cpu_started = time.monotonic(), _children_cpu()
    emulator_started = _process_cpu(emulator_pid)
    noop = run_playbook("site.yml", inventory=inventory, extra_vars=extra, tmp_path=tmp)
    noop_wall, noop_cpu = time.monotonic() - started, _children_cpu() - cpu_started
    emulator_cpu = _process_cpu(emulator_pid) - emulator_started
    requests = aws.recorded_requests()
    calls = len(requests)
    managed = _managed_resources(aws, [platform["region"], platform.get("dr_region")], prefix)
    resources = sum(managed.values())
    print(
        f"no-op rerun: wall {noop_wall:6.1f} s (target <= {TARGETS['noop_seconds']:.0f} s), "
        f"changed {noop.changed}, rc {noop.rc}"
    )
    # The run is CPU-bound on a small machine: its processes' CPU time over the cores it had.
    print(
        f"  CPU {noop_cpu:6.1f} s (user + system of ansible-playbook, its workers and modules; "
        f"not of async jobs), emulator {emulator_cpu:.1f} s, on {os.cpu_count()} cores"
    )
    print(
        f"  AWS API calls {calls} for {resources} managed resources: "
        f"{calls / max(resources, 1):.2f} per resource "
        f"(target <= {TARGETS['calls_per_resource']})"
    )
    print("  managed: " + ", ".join(f"{kind} {n}" for kind, n in sorted(managed.items())))
    if noop.rc != 0 or noop.changed:
        details = ["failed:", *noop.failure_messages(), "changed:", *noop.changed_tasks()]
        print("  " + "\n    ".join(details))
    _print_phases(noop)
    if detail:
        print("  slowest no-op tasks:")
        for seconds, host, name in _task_times(noop)[:detail]:
            print(f"    {seconds:5.1f} s  {host:<18} {name}")
        print("  API calls by operation:")
        operations = Counter(f"{r.service}:{r.operation}" for r in requests)
        for operation, count in operations.most_common(detail):
            print(f"    {count:4d}  {operation}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
