"""Realistic-latency profile: long-running AWS operations pass through their transitional states.

moto makes RDS instances, EKS clusters and node groups, ElastiCache replication groups and NAT
gateways usable at once, and its state manager does not cover them, so waiters and parallel
provisioning would never be exercised. These patches wrap the backend methods that start such an
operation and register a timed transition (see ``timed``) for the resource's status attribute.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import timed
from latency_profile import LatencyProfile


def wrap(cls: type, name: str, after: Callable[..., Any]) -> None:
    """Replace ``cls.name`` by a call to the original followed by ``after(self, result, *a, **kw)``.

    ``after`` returns the value handed back to moto's response layer.
    """
    original = getattr(cls, name)

    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        return after(self, result, *args, **kwargs)

    setattr(cls, name, wrapper)


def require(cls: type, name: str, check: Callable[..., None]) -> None:
    """Call ``check(self, *args, **kwargs)``, which raises as AWS would, before ``cls.name``."""
    original = getattr(cls, name)

    @functools.wraps(original)
    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        check(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    setattr(cls, name, checked)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    return kwargs[name] if name in kwargs else args[index]


def _patch_nat(profile: LatencyProfile) -> None:
    from moto.ec2.models.nat_gateways import NatGateway, NatGatewayBackend

    timed.install(NatGateway, "state")

    def created(backend: Any, nat: Any, *args: Any, **kwargs: Any) -> Any:
        timed.begin(nat, "state", "pending", profile.seconds("NAT_CREATE"))
        return nat

    def deleted(backend: Any, nat: Any, *args: Any, **kwargs: Any) -> Any:
        # moto already set "deleted"; AWS shows "deleting" first and keeps the gateway listed.
        timed.begin(nat, "state", "deleting", profile.seconds("NAT_DELETE"))
        return nat

    wrap(NatGatewayBackend, "create_nat_gateway", created)
    wrap(NatGatewayBackend, "delete_nat_gateway", deleted)


def _patch_rds(profile: LatencyProfile) -> None:
    from moto.rds.exceptions import RDSClientError
    from moto.rds.models import DBInstance, RDSBackend

    timed.install(DBInstance, "status")

    # ModifyDBInstance, PromoteReadReplica and CreateDBInstanceReadReplica (RDS API Reference)
    # fail with InvalidDBInstanceState unless the instance (the source, for a replica) is
    # available: a caller that does not wait for its transitions fails as it would on AWS.
    def must_be_available(db: Any) -> None:
        if db is not None and db.status != "available":
            raise RDSClientError(
                "InvalidDBInstanceState",
                f"Database instance {db.db_instance_identifier} is not in available state "
                f"(it is {db.status}).",
            )

    def check_modify(backend: Any, db_instance_identifier: str, *args: Any, **kw: Any) -> None:
        must_be_available(backend.databases.get(db_instance_identifier))

    def check_promote(backend: Any, db_kwargs: dict[str, Any], *args: Any, **kw: Any) -> None:
        must_be_available(backend.databases.get(db_kwargs["db_instance_identifier"]))

    def check_replica(backend: Any, db_kwargs: dict[str, Any], *args: Any, **kw: Any) -> None:
        must_be_available(backend.find_db_from_id(db_kwargs["source_db_instance_identifier"]))

    def created(backend: Any, db: Any, *args: Any, **kwargs: Any) -> Any:
        key = "RDS_CREATE_MULTI_AZ" if getattr(db, "multi_az", False) else "RDS_CREATE"
        timed.begin(db, "status", "creating", profile.seconds(key))
        return db

    def replica_created(backend: Any, db: Any, *args: Any, **kwargs: Any) -> Any:
        source = str(db.source_db_instance_identifier or "")
        cross_region = source.startswith("arn:") and source.split(":")[3] != backend.region_name
        key = "RDS_REPLICA_CROSS_REGION" if cross_region else "RDS_REPLICA"
        timed.begin(db, "status", "creating", profile.seconds(key))
        return db

    def modified(backend: Any, db: Any, *args: Any, **kwargs: Any) -> Any:
        # moto applies every modification at once; the profile always shows the modifying window.
        timed.begin(db, "status", "modifying", profile.seconds("RDS_MODIFY"))
        return db

    def promoted(backend: Any, db: Any, *args: Any, **kwargs: Any) -> Any:
        timed.begin(db, "status", "modifying", profile.seconds("RDS_PROMOTE"))
        return db

    def deleted(backend: Any, db: Any, *args: Any, **kwargs: Any) -> Any:
        if timed.is_ghost(db):
            return db
        # moto popped the instance; keep it listed as "deleting" until the deadline.
        db_id = db.db_instance_identifier
        backend.databases[db_id] = db

        def remove() -> None:
            if backend.databases.get(db_id) is db:
                del backend.databases[db_id]

        timed.ghost(db, profile.seconds("RDS_DELETE"), remove)
        return db

    _guard_ghost_delete(
        RDSBackend,
        "delete_db_instance",
        lambda b, a, k: b.databases.get(_arg(a, k, 0, "db_instance_identifier")),
    )
    wrap(RDSBackend, "delete_db_instance", deleted)
    require(RDSBackend, "modify_db_instance", check_modify)
    require(RDSBackend, "promote_read_replica", check_promote)
    require(RDSBackend, "create_db_instance_read_replica", check_replica)
    wrap(RDSBackend, "create_db_instance", created)
    wrap(RDSBackend, "create_db_instance_read_replica", replica_created)
    wrap(RDSBackend, "modify_db_instance", modified)
    wrap(RDSBackend, "promote_read_replica", promoted)


def _patch_eks(profile: LatencyProfile) -> None:
    from moto.eks.exceptions import ResourceInUseException
    from moto.eks.models import Cluster, EKSBackend, Nodegroup

    timed.install(Cluster, "status")
    timed.install(Nodegroup, "status")

    def cluster_created(backend: Any, cluster: Any, *args: Any, **kwargs: Any) -> Any:
        timed.begin(cluster, "status", "CREATING", profile.seconds("EKS_CLUSTER_CREATE"))
        return cluster

    def nodegroup_created(backend: Any, nodegroup: Any, *args: Any, **kwargs: Any) -> Any:
        timed.begin(nodegroup, "status", "CREATING", profile.seconds("EKS_NODEGROUP_CREATE"))
        return nodegroup

    def nodegroup_updated(backend: Any, update: Any, *args: Any, **kwargs: Any) -> Any:
        cluster_name = _arg(args, kwargs, 0, "cluster_name")
        nodegroup_name = _arg(args, kwargs, 1, "nodegroup_name")
        nodegroup = backend.clusters[cluster_name].nodegroups[nodegroup_name]
        timed.begin(nodegroup, "status", "UPDATING", profile.seconds("EKS_NODEGROUP_UPDATE"))
        # UpdateNodegroupConfig returns an update that is InProgress until the node group is done.
        return {**update, "status": "InProgress"}

    # UpdateNodegroupConfig (EKS API Reference) is refused with ResourceInUseException while the
    # node group is not ACTIVE (creating, updating, deleting).
    def check_update(backend: Any, *args: Any, **kwargs: Any) -> None:
        cluster = backend.clusters.get(_arg(args, kwargs, 0, "cluster_name"))
        name = _arg(args, kwargs, 1, "nodegroup_name")
        nodegroup = cluster.nodegroups.get(name) if cluster is not None else None
        if nodegroup is not None and nodegroup.status != "ACTIVE":
            raise ResourceInUseException(
                clusterName=nodegroup.cluster_name,
                nodegroupName=name,
                fargateProfileName=None,
                addonName=None,
                message=f"Nodegroup {name} is currently {nodegroup.status}, not ACTIVE",
            )

    def cluster_deleted(backend: Any, cluster: Any, *args: Any, **kwargs: Any) -> Any:
        if timed.is_ghost(cluster):
            return cluster
        cluster.status = "DELETING"
        backend.clusters[cluster.name] = cluster
        backend.cluster_count += 1

        def remove() -> None:
            if backend.clusters.get(cluster.name) is cluster:
                del backend.clusters[cluster.name]
                backend.cluster_count -= 1

        timed.ghost(cluster, profile.seconds("EKS_CLUSTER_DELETE"), remove)
        return cluster

    def nodegroup_deleted(backend: Any, nodegroup: Any, *args: Any, **kwargs: Any) -> Any:
        if timed.is_ghost(nodegroup):
            return nodegroup
        nodegroup.status = "DELETING"
        cluster = backend.clusters[nodegroup.cluster_name]
        name = nodegroup.nodegroup_name
        # Back in the cluster and counted: DeleteCluster is refused while node groups delete.
        cluster.nodegroups[name] = nodegroup
        cluster.nodegroup_count += 1

        def remove() -> None:
            if cluster.nodegroups.get(name) is nodegroup:
                del cluster.nodegroups[name]
                cluster.nodegroup_count -= 1

        timed.ghost(nodegroup, profile.seconds("EKS_NODEGROUP_DELETE"), remove)
        return nodegroup

    _guard_ghost_delete(
        EKSBackend, "delete_cluster", lambda b, a, k: b.clusters.get(_arg(a, k, 0, "name"))
    )
    _guard_ghost_delete(
        EKSBackend,
        "delete_nodegroup",
        lambda b, a, k: getattr(
            b.clusters.get(_arg(a, k, 0, "cluster_name")), "nodegroups", {}
        ).get(_arg(a, k, 1, "nodegroup_name")),
    )
    wrap(EKSBackend, "create_cluster", cluster_created)
    wrap(EKSBackend, "create_nodegroup", nodegroup_created)
    require(EKSBackend, "update_nodegroup_config", check_update)
    wrap(EKSBackend, "update_nodegroup_config", nodegroup_updated)
    wrap(EKSBackend, "delete_cluster", cluster_deleted)
    wrap(EKSBackend, "delete_nodegroup", nodegroup_deleted)


def _guard_ghost_delete(
    cls: type, name: str, find: Callable[[Any, tuple[Any, ...], dict[str, Any]], Any]
) -> None:
    """Deleting something already being deleted returns it as is instead of deleting it twice."""
    original = getattr(cls, name)

    @functools.wraps(original)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        existing = find(self, args, kwargs)
        if existing is not None and timed.is_ghost(existing):
            return existing
        return original(self, *args, **kwargs)

    setattr(cls, name, guarded)


def _patch_elasticache(profile: LatencyProfile) -> None:
    from moto.elasticache.exceptions import ElastiCacheException
    from moto.elasticache.models import CacheCluster, ElastiCacheBackend, ReplicationGroup

    timed.install(ReplicationGroup, "status")
    timed.install(CacheCluster, "cache_cluster_status")

    def members(backend: Any, group: Any) -> list[Any]:
        return [
            backend.cache_clusters[cid]
            for cid in group.member_clusters
            if cid in backend.cache_clusters
        ]

    def created(backend: Any, group: Any, *args: Any, **kwargs: Any) -> Any:
        seconds = profile.seconds("ELASTICACHE_CREATE")
        timed.begin(group, "status", "creating", seconds)
        for cluster in members(backend, group):
            timed.begin(cluster, "cache_cluster_status", "creating", seconds)
        return group

    def modified(backend: Any, group: Any, *args: Any, **kwargs: Any) -> Any:
        seconds = profile.seconds("ELASTICACHE_MODIFY")
        timed.begin(group, "status", "modifying", seconds)
        for cluster in members(backend, group):
            timed.begin(cluster, "cache_cluster_status", "modifying", seconds)
        return group

    # ModifyReplicationGroup (ElastiCache API Reference) fails with InvalidReplicationGroupState
    # while the group is not available.
    def check_modify(backend: Any, replication_group_id: str, *args: Any, **kw: Any) -> None:
        group = backend.replication_groups.get(replication_group_id)
        if group is not None and group.status != "available":
            raise ElastiCacheException(
                "InvalidReplicationGroupState",
                f"Replication group {replication_group_id} is {group.status}, not available.",
            )

    require(ElastiCacheBackend, "modify_replication_group", check_modify)
    # Deletion (deleting -> gone) is done by the fidelity layer, with the profile's duration.
    wrap(ElastiCacheBackend, "create_replication_group", created)
    wrap(ElastiCacheBackend, "modify_replication_group", modified)


def apply(profile: LatencyProfile) -> None:
    """Install the latency patches (once per process, at server start).

    A no-op when the profile is off: moto then keeps its upstream timing.
    """
    if not profile.enabled:
        return
    _patch_nat(profile)
    _patch_rds(profile)
    _patch_eks(profile)
    _patch_elasticache(profile)
