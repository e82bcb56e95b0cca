"""Fidelity fixes: where moto 5.2.5 departs from documented AWS behaviour that Plinth relies on.

Each fix was checked against moto first (see README "moto behaviour checked"); only what moto gets
wrong is patched. Applied in the server process at start unless ``PLINTH_EMULATOR_FIDELITY=0``.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import threading
from typing import Any

import timed
from latency import wrap
from latency_profile import LatencyProfile

DEFAULT_ACCOUNT = "123456789012"

# ReplicaLag values set by tests, keyed by (account, region, DB instance identifier).
_replica_lag: dict[tuple[str, str, str], float] = {}
_lag_lock = threading.Lock()
# Metric provider classes made at apply() time, kept alive here.
_providers: list[type] = []


def set_replica_lag(db_instance_identifier: str, seconds: float, region: str, account: str) -> None:
    with _lag_lock:
        _replica_lag[(account, region, db_instance_identifier)] = float(seconds)


def reset() -> None:
    with _lag_lock:
        _replica_lag.clear()


def _unlink_replica(source: Any, replica: Any) -> None:
    # Same-region replicas are listed by identifier, cross-region ones by ARN (moto's add_replica).
    for ref in (replica.db_instance_identifier, replica.db_instance_arn):
        if ref in source.replicas:
            source.replicas.remove(ref)


def _patch_rds() -> None:
    from moto.rds.exceptions import DBInstanceNotFoundError
    from moto.rds.models import DBInstance, RDSBackend

    # DeleteDBInstance (RDS API Reference) on a cross-region read replica: moto's remove_replica
    # removes the identifier but the source lists the replica by ARN, so the call failed with
    # "list.remove(x): x not in list". Remove whichever reference the source holds.
    def remove_replica(self: Any, replica: Any) -> None:
        _unlink_replica(self, replica)

    DBInstance.remove_replica = remove_replica  # type: ignore[method-assign]

    original_promote = RDSBackend.promote_read_replica

    # PromoteReadReplica (RDS API Reference): "Promotes a read replica DB instance to a standalone
    # DB instance." A standalone instance has no ReadReplicaSourceDBInstanceIdentifier and its
    # former source no longer lists it in ReadReplicaDBInstanceIdentifiers (DBInstance data type).
    # moto 5.2.5 only cleared is_replica and kept both links, for same- and cross-region replicas.
    @functools.wraps(original_promote)
    def promote_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        # DescribeDBInstances raises DBInstanceNotFound where moto's lookup raised a KeyError (500).
        db = self.describe_db_instances(db_kwargs["db_instance_identifier"])[0]
        source_id = db.source_db_instance_identifier if db.is_replica else None
        result = original_promote(self, db_kwargs)
        if source_id:
            # If the source was deleted first, nothing lists the replica any more.
            with contextlib.suppress(DBInstanceNotFoundError):
                _unlink_replica(self.find_db_from_id(source_id), result)
            result.source_db_instance_identifier = None
        return result

    RDSBackend.promote_read_replica = promote_read_replica  # type: ignore[method-assign]

    original_replica = RDSBackend.create_db_instance_read_replica

    # CreateDBInstanceReadReplica (RDS API Reference), DBSubnetGroupName: "The specified DB subnet
    # group must be in the same Amazon Web Services Region in which the operation is running."
    # moto 5.2.5 copies the source instance and applies the request's parameters before the copy
    # is moved to this region's backend, so for a cross-region replica it looked the subnet group
    # up in the source's region: refused when only this region has it, wrong VPC when both do.
    # Without DBSubnetGroupName the copy kept the source's group, of the other region; "if no DB
    # subnet group is specified, then the new DB instance isn't created in a VPC": it has none.
    # Without VpcSecurityGroupIds it kept the source's groups, of the other region; the default
    # is "the default EC2 VPC security group for the DB subnet group's VPC" (moto's CreateDBInstance
    # takes the default VPC's when there is no subnet group).
    @functools.wraps(original_replica)
    def create_db_instance_read_replica(self: Any, db_kwargs: dict[str, Any]) -> Any:
        # moto applies the parameters in order: the backend (this region) first.
        replica = original_replica(self, {"backend": self, **db_kwargs})
        source = str(db_kwargs.get("source_db_instance_identifier") or "")
        if not source.startswith("arn:") or source.split(":")[3] == self.region_name:
            return replica
        if not db_kwargs.get("db_subnet_group_name"):
            replica.__dict__.pop("db_subnet_group", None)
        if not db_kwargs.get("vpc_security_group_ids"):
            from moto.ec2.models import ec2_backends

            ec2 = ec2_backends[self.account_id][self.region_name]
            group = getattr(replica, "db_subnet_group", None)
            default = ec2.get_default_security_group(group.vpc_id if group else None)
            replica.vpc_security_group_ids = [default.id] if default else []
        return replica

    RDSBackend.create_db_instance_read_replica = create_db_instance_read_replica  # type: ignore[method-assign]


def _patch_replica_lag() -> None:
    from moto.cloudwatch.models import MetricDatum
    from moto.core.common_models import CloudWatchMetricProvider
    from moto.core.utils import utcnow
    from moto.rds.models import rds_backends

    # "Amazon CloudWatch metrics for Amazon RDS" (RDS User Guide): ReplicaLag, namespace AWS/RDS,
    # dimension DBInstanceIdentifier, "the amount of time a read replica DB instance lags behind
    # the source DB instance", in Seconds, published every minute for each read replica. moto
    # publishes no RDS metric; this provider (moto's own hook for service metrics, read by
    # GetMetricStatistics and GetMetricData) reports each replica's lag, 0 unless a test set one
    # (POST /plinth-emulator/replica-lag). Datapoints cover the last five whole minutes so a query
    # ending "now" sees them. A test may also PutMetricData into AWS/RDS, which moto stores as is.
    class ReplicaLagMetrics(CloudWatchMetricProvider):
        @staticmethod
        def get_cloudwatch_metrics(account_id: str, region: str) -> list[Any]:
            backend = rds_backends[account_id][region]
            minute = utcnow().replace(second=0, microsecond=0)
            data = []
            for db in list(backend.databases.values()):
                if not db.is_replica or timed.is_ghost(db):
                    continue
                with _lag_lock:
                    lag = _replica_lag.get((account_id, region, db.db_instance_identifier), 0.0)
                for age in range(5):
                    data.append(
                        MetricDatum(
                            namespace="AWS/RDS",
                            name="ReplicaLag",
                            value=lag,
                            dimensions=[
                                {"Name": "DBInstanceIdentifier", "Value": db.db_instance_identifier}
                            ],
                            timestamp=minute - datetime.timedelta(minutes=age),
                            unit="Seconds",
                        )
                    )
            return data

    # moto finds providers through __subclasses__(), which holds only weak references.
    _providers.append(ReplicaLagMetrics)


def _member_cluster(backend: Any, group: Any, cluster_id: str, az: str | None) -> Any:
    from moto.elasticache.models import CacheCluster

    cluster = CacheCluster(
        account_id=backend.account_id,
        region_name=backend.region_name,
        cache_cluster_id=cluster_id,
        cache_node_type=group.cache_node_type,
        replication_group_id=group.replication_group_id,
        az_mode="single-az",
        preferred_availability_zone=az,
        num_cache_nodes=1,
        engine=group.engine,
        engine_version=group.engine_version,
        cache_parameter_group_name=group.cache_parameter_group_name,
        cache_subnet_group_name=group.cache_subnet_group_name,
        transit_encryption_enabled=group.transit_encryption_enabled,
        network_type=group.network_type,
        ip_discovery=group.ip_discovery,
        snapshot_name=None,
        preferred_maintenance_window=group.preferred_maintenance_window,
        port=group.port,
        notification_topic_arn=group.notification_topic_arn,
        auto_minor_version_upgrade=group.auto_minor_version_upgrade,
        snapshot_retention_limit=0,
        snapshot_window=None,
        auth_token=None,
        outpost_mode=None,
        preferred_outpost_arn=None,
        preferred_availability_zones=None,
        cache_security_group_names=group.cache_security_group_names,
        security_group_ids=group.security_group_ids,
        tags=None,
        snapshot_arns=None,
        preferred_outpost_arns=None,
        log_delivery_configurations=[],
        cache_node_ids_to_remove=None,
        cache_node_ids_to_reboot=None,
    )
    # CacheCluster only sets replication_group_id for engine "redis" (not valkey).
    cluster.replication_group_id = group.replication_group_id
    return cluster


def _patch_cache_cluster_security_groups() -> None:
    from moto.elasticache.models import CacheCluster

    # DescribeCacheClusters (ElastiCache API Reference), CacheCluster.SecurityGroups: "A list of VPC
    # Security Groups associated with the cluster." moto kept the ids but never returned them, so
    # callers comparing a cluster's security groups saw none and changed them on every run.
    def security_groups(self: Any) -> list[dict[str, str]]:
        return [{"SecurityGroupId": sg, "Status": "active"} for sg in self.security_group_ids or []]

    CacheCluster.security_groups = property(security_groups)  # type: ignore[attr-defined]


def _patch_elasticache(profile: LatencyProfile) -> None:
    from moto.elasticache.models import ElastiCacheBackend, ReplicationGroup

    original_members = ReplicationGroup._set_node_members_clusters_disabled

    # CreateReplicationGroup (ElastiCache API Reference), NumCacheClusters: "The number of clusters
    # this replication group initially has." moto 5.2.5 derives the count from
    # ReplicasPerNodeGroup only and ignored NumCacheClusters (NumCacheClusters=3 gave one member).
    @functools.wraps(original_members)
    def set_members_disabled(self: Any, *args: Any, **kwargs: Any) -> None:
        wanted = kwargs.get("num_cache_clusters") or 1
        if not kwargs.get("replicas_per_node_group") and wanted > 1:
            kwargs["replicas_per_node_group"] = wanted - 1
        original_members(self, *args, **kwargs)

    ReplicationGroup._set_node_members_clusters_disabled = set_members_disabled  # type: ignore

    # ReplicationGroup data type: MemberClusters are "the names of all the cache clusters that are
    # part of this replication group"; DescribeCacheClusters returns every provisioned cluster,
    # each with the ReplicationGroupId it belongs to. moto created no cluster for the members, so
    # DescribeCacheClusters listed none of them.
    def created(backend: Any, group: Any, *args: Any, **kwargs: Any) -> Any:
        azs = {
            member["cache_cluster_id"]: member.get("preferred_availability_zone")
            for node_group in group.node_groups
            for member in node_group["node_group_members"]
        }
        for cluster_id in group.member_clusters:
            if cluster_id not in backend.cache_clusters:
                backend.cache_clusters[cluster_id] = _member_cluster(
                    backend, group, cluster_id, azs.get(cluster_id)
                )
        return group

    # DeleteReplicationGroup (ElastiCache API Reference): ElastiCache "immediately begins deleting
    # the selected resources"; once done, DescribeReplicationGroups answers
    # ReplicationGroupNotFoundFault (what the replication_group_deleted waiter expects). moto left
    # the group "deleting" for ever. It now goes when the deletion's time is up: at once without
    # the latency profile, after ELASTICACHE_DELETE with it; its member clusters go with it.
    def deleted(backend: Any, group: Any, *args: Any, **kwargs: Any) -> Any:
        if timed.is_ghost(group):
            return group
        group_id = group.replication_group_id
        retain = kwargs.get("retain_primary_cluster", args[1] if len(args) > 1 else None)
        primary = group.node_groups[0]["node_group_members"][0]["cache_cluster_id"]
        kept = primary if retain else None
        member_ids = [
            cid
            for cid, cluster in backend.cache_clusters.items()
            if getattr(cluster, "replication_group_id", None) == group_id and cid != kept
        ]
        for cid in member_ids:
            backend.cache_clusters[cid].cache_cluster_status = "deleting"

        def remove() -> None:
            if backend.replication_groups.get(group_id) is group:
                del backend.replication_groups[group_id]
            for cid in member_ids:
                cluster = backend.cache_clusters.get(cid)
                if cluster is not None and cluster.replication_group_id == group_id:
                    del backend.cache_clusters[cid]
            if kept in backend.cache_clusters:
                backend.cache_clusters[kept].replication_group_id = None

        timed.ghost(group, profile.seconds("ELASTICACHE_DELETE"), remove)
        return group

    wrap(ElastiCacheBackend, "create_replication_group", created)
    wrap(ElastiCacheBackend, "delete_replication_group", deleted)


def _patch_eks() -> None:
    from moto.eks.models import EKSBackend

    # DeleteCluster / DeleteNodegroup (EKS API Reference) answer with the resource in status
    # DELETING; moto 5.2.5 answered with the status it had (ACTIVE). Only the response changes:
    # without the latency profile the resource is already gone, as upstream.
    def deleting(backend: Any, resource: Any, *args: Any, **kwargs: Any) -> Any:
        resource.status = "DELETING"
        return resource

    wrap(EKSBackend, "delete_cluster", deleting)
    wrap(EKSBackend, "delete_nodegroup", deleting)


def _patch_rds_gp3_baseline() -> None:
    from moto.rds.models import DBInstance

    # DescribeDBInstances (RDS API Reference) and "Amazon RDS DB instance storage" (gp3): a gp3
    # instance always reports Iops and StorageThroughput; without provisioned values they are the
    # baseline, 3000 IOPS and 125 MiB/s below 400 GiB (PostgreSQL), 12000 and 500 from 400 GiB.
    # moto left both out, and amazon.aws rds_instance indexes them on every rerun.
    def _baseline(instance: Any) -> tuple[int, int]:
        return (12000, 500) if (instance.allocated_storage or 0) >= 400 else (3000, 125)

    original_throughput = DBInstance.storage_throughput

    def get_throughput(self: Any) -> int | None:
        value = original_throughput.fget(self)
        if value is None and self.storage_type == "gp3":
            return _baseline(self)[1]
        return value

    DBInstance.storage_throughput = property(get_throughput, original_throughput.fset)

    def get_iops(self: Any) -> int | None:
        value = self.__dict__.get("_plinth_iops")
        if value is None and getattr(self, "storage_type", None) == "gp3":
            return _baseline(self)[0]
        return value

    def set_iops(self: Any, value: int | None) -> None:
        self.__dict__["_plinth_iops"] = value

    DBInstance.iops = property(get_iops, set_iops)  # type: ignore[attr-defined]


def _patch_s3_replication() -> None:
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import S3Response

    # GetBucketReplication (S3 API Reference) returns the configuration that was put. moto answered
    # every rule with DeleteMarkerReplication Disabled and an empty-prefix Filter, and dropped
    # SourceSelectionCriteria, so a caller comparing its rules saw a difference on every run.
    kept = ("ID", "Priority", "Status", "Filter", "DeleteMarkerReplication", "Destination")
    optional = ("SourceSelectionCriteria", "ExistingObjectReplication")

    def get_bucket_replication(self: Any) -> Any:
        self.data["Action"] = "GetBucketReplication"
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        stored = replication["Rule"]
        rules = []
        for rule in stored if isinstance(stored, list) else [stored]:
            answer = {key: rule.get(key) for key in kept}
            answer["Filter"] = answer["Filter"] or {"Prefix": rule.get("Prefix") or ""}
            answer["DeleteMarkerReplication"] = answer["DeleteMarkerReplication"] or {
                "Status": "Disabled"
            }
            answer.update({key: rule[key] for key in optional if rule.get(key)})
            rules.append(answer)
        result = {"ReplicationConfiguration": {"Role": replication["Role"], "Rules": rules}}
        return self.serialized(ActionResult(result))

    S3Response.get_bucket_replication = get_bucket_replication  # type: ignore[method-assign]


def _patch_kms() -> None:
    from moto.kms.models import KmsBackend

    # ScheduleKeyDeletion / CancelKeyDeletion (KMS API Reference) take a key ID or key ARN; moto
    # 5.2.5 looked the ARN up as an ID (KeyError, HTTP 500), and amazon.aws kms_key passes the
    # ARN. Added for the eks layer, whose teardown schedules its secrets key for deletion.
    for name in ("schedule_key_deletion", "cancel_key_deletion"):
        original = getattr(KmsBackend, name)

        def by_id(self: Any, key_id: str, *args: Any, _original: Any = original, **kw: Any) -> Any:
            return _original(self, self.get_key_id(key_id), *args, **kw)

        setattr(KmsBackend, name, by_id)


def _patch_ec2() -> None:
    from moto.core.responses import ActionResult
    from moto.ec2 import utils as ec2_utils
    from moto.ec2.models.launch_templates import LaunchTemplateBackend
    from moto.ec2.responses.security_groups import SecurityGroups

    # CreateLaunchTemplate (EC2 API Reference): the request's TagSpecifications tag the template
    # itself (resource type launch-template). moto 5.2.5 also copied them into the first
    # version's LaunchTemplateData, so amazon.aws ec2_launch_template, which compares that data
    # with its own, added a version on the next run. Added for the eks layer.
    create_template = LaunchTemplateBackend.create_launch_template

    def create_launch_template(
        self: Any, name: str, description: str, data: dict, tag_spec: dict
    ) -> Any:
        specs = [
            s for s in data.get("TagSpecifications") or [] if s["ResourceType"] != "launch-template"
        ]
        data = {k: v for k, v in data.items() if k != "TagSpecifications"}
        if specs:
            data["TagSpecifications"] = specs
        return create_template(self, name, description, data, tag_spec)

    LaunchTemplateBackend.create_launch_template = create_launch_template

    # DescribeTags (EC2 API Reference), resource-type: NAT gateways are "natgateway". moto reported
    # "nat-gateway", so amazon.aws, which filters NAT tags by "natgateway", saw none and re-tagged
    # the gateway on every run.
    ec2_utils.EC2_PREFIX_TO_RESOURCE["nat"] = "natgateway"

    # UpdateSecurityGroupRuleDescriptionsIngress/Egress (EC2 API Reference) respond with
    # "return: Returns true if the request succeeds"; moto sent an empty body, so callers reading
    # Return (amazon.aws ec2_security_group) crashed when a rule's description changed.
    for name in (
        "update_security_group_rule_descriptions_ingress",
        "update_security_group_rule_descriptions_egress",
    ):
        original = getattr(SecurityGroups, name)

        def with_return(self: Any, _original: Any = original) -> Any:
            _original(self)
            return ActionResult({"Return": True})

        setattr(SecurityGroups, name, with_return)


def apply(profile: LatencyProfile) -> None:
    """Install the fidelity fixes (once per process, before the latency patches)."""
    _patch_ec2()
    _patch_rds()
    _patch_rds_gp3_baseline()
    _patch_eks()
    _patch_kms()
    _patch_s3_replication()
    _patch_replica_lag()
    _patch_elasticache(profile)
    _patch_cache_cluster_security_groups()
