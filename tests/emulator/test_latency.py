"""Realistic-latency profile: each long operation shows its transitional state, then the real
boto3 waiter sees it reach the final one. The test scale is 1:200 with a 3 s floor."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import (
    FAST_WAIT,
    ROLE_ARN,
    create_db,
    create_replication_group,
    db_status,
    network,
)

pytestmark = pytest.mark.latency
ROOT = Path(__file__).resolve().parents[2]


def waited(waiter: Any, **kwargs: Any) -> float:
    """Run a real boto3 waiter at a 1 s poll; return the seconds it took."""
    start = time.monotonic()
    waiter.wait(WaiterConfig=FAST_WAIT, **kwargs)
    elapsed = time.monotonic() - start
    print(f"{waiter.name} {kwargs}: {elapsed:.1f}s")
    return elapsed


def test_profile_durations_at_default_scale() -> None:
    spec = importlib.util.spec_from_file_location(
        "plinth_latency_profile", ROOT / "tools" / "emulator" / "latency_profile.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    profile = module.LatencyProfile.from_env(
        {"PLINTH_EMULATOR_LATENCY": "1", "PLINTH_EMULATOR_LATENCY_EKS_NODEGROUP_CREATE": "7"}
    )
    assert profile.scale == 60
    seconds = {key: profile.seconds(key) for key in module.REAL_SECONDS}
    assert seconds["EKS_CLUSTER_CREATE"] == 10
    assert seconds["EKS_NODEGROUP_CREATE"] == 7  # per-transition override, unscaled
    assert seconds["RDS_CREATE_MULTI_AZ"] == 15
    assert seconds["RDS_CREATE"] < seconds["RDS_CREATE_MULTI_AZ"]
    assert seconds["RDS_REPLICA_CROSS_REGION"] == 20
    assert seconds["RDS_REPLICA"] == 10
    assert seconds["ELASTICACHE_CREATE"] == 10
    assert seconds["NAT_CREATE"] == 2
    off = module.LatencyProfile.from_env({})
    assert not off.enabled and off.seconds("EKS_CLUSTER_CREATE") == 0


def test_fixture_profile_is_the_test_scale(emulator_latency: Any) -> None:
    latency = emulator_latency.latency
    assert latency["enabled"] is True
    assert latency["scale"] == 200
    assert all(3 <= s <= 6 for s in latency["seconds"].values()), latency["seconds"]


def test_nat_gateway_pending_then_available_then_deleting_then_deleted(aws_latency: Any) -> None:
    ec2 = aws_latency.client("ec2")
    _, subnets = network(ec2)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation)["NatGateway"]
    nat_id = nat["NatGatewayId"]
    assert nat["State"] == "pending"
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == "pending"
    pending = ec2.describe_nat_gateways(Filters=[{"Name": "state", "Values": ["pending"]}])
    assert [n["NatGatewayId"] for n in pending["NatGateways"]] == [nat_id]

    waited(ec2.get_waiter("nat_gateway_available"), NatGatewayIds=[nat_id])
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == (
        "available"
    )

    ec2.delete_nat_gateway(NatGatewayId=nat_id)
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == (
        "deleting"
    )
    waited(ec2.get_waiter("nat_gateway_deleted"), NatGatewayIds=[nat_id])


def test_rds_create_modify_delete(aws_latency: Any) -> None:
    rds = aws_latency.client("rds")
    assert create_db(rds, "db-single")["DBInstanceStatus"] == "creating"
    assert db_status(rds, "db-single") == "creating"
    waited(rds.get_waiter("db_instance_available"), DBInstanceIdentifier="db-single")
    assert db_status(rds, "db-single") == "available"

    modified = rds.modify_db_instance(
        DBInstanceIdentifier="db-single", AllocatedStorage=40, ApplyImmediately=True
    )["DBInstance"]
    assert modified["DBInstanceStatus"] == "modifying"
    waited(rds.get_waiter("db_instance_available"), DBInstanceIdentifier="db-single")

    deleted = rds.delete_db_instance(DBInstanceIdentifier="db-single", SkipFinalSnapshot=True)
    assert deleted["DBInstance"]["DBInstanceStatus"] == "deleting"
    assert db_status(rds, "db-single") == "deleting"
    waited(rds.get_waiter("db_instance_deleted"), DBInstanceIdentifier="db-single")
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        rds.describe_db_instances(DBInstanceIdentifier="db-single")


def test_rds_multi_az_takes_longer_than_single_az(aws_latency: Any) -> None:
    seconds = aws_latency.latency["seconds"]
    assert seconds["RDS_CREATE_MULTI_AZ"] > seconds["RDS_CREATE"]
    rds = aws_latency.client("rds")
    assert create_db(rds, "db-multi", MultiAZ=True)["DBInstanceStatus"] == "creating"
    waited(rds.get_waiter("db_instance_available"), DBInstanceIdentifier="db-multi")


def test_rds_replicas_and_promotion(aws_latency: Any) -> None:
    rds = aws_latency.client("rds")
    rds_west = aws_latency.client("rds", region="us-west-2")
    source = create_db(rds, "db-source")
    waited(rds.get_waiter("db_instance_available"), DBInstanceIdentifier="db-source")

    replica = rds.create_db_instance_read_replica(
        DBInstanceIdentifier="db-replica", SourceDBInstanceIdentifier="db-source"
    )["DBInstance"]
    remote = rds_west.create_db_instance_read_replica(
        DBInstanceIdentifier="db-remote", SourceDBInstanceIdentifier=source["DBInstanceArn"]
    )["DBInstance"]
    assert replica["DBInstanceStatus"] == "creating"
    assert remote["DBInstanceStatus"] == "creating"
    waited(rds.get_waiter("db_instance_available"), DBInstanceIdentifier="db-replica")
    # Cross-region replicas take twice as long as same-region ones (20 vs 10 real minutes).
    assert db_status(rds_west, "db-remote") == "creating"
    waited(rds_west.get_waiter("db_instance_available"), DBInstanceIdentifier="db-remote")

    promoted = rds.promote_read_replica(DBInstanceIdentifier="db-replica")["DBInstance"]
    assert promoted["DBInstanceStatus"] == "modifying"
    waited(rds.get_waiter("db_instance_available"), DBInstanceIdentifier="db-replica")


def test_eks_cluster_and_nodegroup_lifecycle(aws_latency: Any) -> None:
    ec2 = aws_latency.client("ec2")
    eks = aws_latency.client("eks")
    _, subnets = network(ec2)
    cluster = eks.create_cluster(
        name="plinth", roleArn=ROLE_ARN, resourcesVpcConfig={"subnetIds": subnets}
    )["cluster"]
    assert cluster["status"] == "CREATING"
    assert eks.describe_cluster(name="plinth")["cluster"]["status"] == "CREATING"
    # As on AWS, node groups can only be added to an ACTIVE cluster.
    with pytest.raises(ClientError, match="not in ACTIVE status"):
        eks.create_nodegroup(
            clusterName="plinth", nodegroupName="ng", nodeRole=ROLE_ARN, subnets=subnets
        )
    waited(eks.get_waiter("cluster_active"), name="plinth")

    nodegroup = eks.create_nodegroup(
        clusterName="plinth", nodegroupName="ng", nodeRole=ROLE_ARN, subnets=subnets
    )["nodegroup"]
    assert nodegroup["status"] == "CREATING"
    waited(eks.get_waiter("nodegroup_active"), clusterName="plinth", nodegroupName="ng")

    update = eks.update_nodegroup_config(
        clusterName="plinth",
        nodegroupName="ng",
        scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 3},
    )["update"]
    assert update["status"] == "InProgress"
    described = eks.describe_nodegroup(clusterName="plinth", nodegroupName="ng")["nodegroup"]
    assert described["status"] == "UPDATING"
    assert described["scalingConfig"]["desiredSize"] == 3
    waited(eks.get_waiter("nodegroup_active"), clusterName="plinth", nodegroupName="ng")

    eks.delete_nodegroup(clusterName="plinth", nodegroupName="ng")
    described = eks.describe_nodegroup(clusterName="plinth", nodegroupName="ng")["nodegroup"]
    assert described["status"] == "DELETING"
    # A cluster whose node groups are still deleting cannot be deleted.
    with pytest.raises(ClientError, match="ResourceInUse"):
        eks.delete_cluster(name="plinth")
    waited(eks.get_waiter("nodegroup_deleted"), clusterName="plinth", nodegroupName="ng")

    assert eks.delete_cluster(name="plinth")["cluster"]["status"] == "DELETING"
    assert eks.describe_cluster(name="plinth")["cluster"]["status"] == "DELETING"
    assert eks.list_clusters()["clusters"] == ["plinth"]
    waited(eks.get_waiter("cluster_deleted"), name="plinth")
    assert eks.list_clusters()["clusters"] == []


def test_elasticache_replication_group_lifecycle(aws_latency: Any) -> None:
    elasticache = aws_latency.client("elasticache")
    group = create_replication_group(elasticache, "cache", NumCacheClusters=2)
    assert group["Status"] == "creating"
    clusters = elasticache.describe_cache_clusters()["CacheClusters"]
    assert {c["CacheClusterStatus"] for c in clusters} == {"creating"}
    waited(elasticache.get_waiter("replication_group_available"), ReplicationGroupId="cache")
    clusters = elasticache.describe_cache_clusters()["CacheClusters"]
    assert {c["CacheClusterStatus"] for c in clusters} == {"available"}

    modified = elasticache.modify_replication_group(
        ReplicationGroupId="cache", SnapshotRetentionLimit=3, ApplyImmediately=True
    )["ReplicationGroup"]
    assert modified["Status"] == "modifying"
    waited(elasticache.get_waiter("replication_group_available"), ReplicationGroupId="cache")

    deleted = elasticache.delete_replication_group(ReplicationGroupId="cache")
    assert deleted["ReplicationGroup"]["Status"] == "deleting"
    described = elasticache.describe_replication_groups(ReplicationGroupId="cache")
    assert described["ReplicationGroups"][0]["Status"] == "deleting"
    waited(elasticache.get_waiter("replication_group_deleted"), ReplicationGroupId="cache")
    assert elasticache.describe_cache_clusters()["CacheClusters"] == []


def test_parallel_provisioning_overlaps(aws_latency: Any) -> None:
    """Resources created together are all in flight at once and each finishes on its own."""
    ec2 = aws_latency.client("ec2")
    rds = aws_latency.client("rds")
    elasticache = aws_latency.client("elasticache")
    _, subnets = network(ec2)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat_id = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation)["NatGateway"][
        "NatGatewayId"
    ]
    create_db(rds, "db-parallel")
    create_replication_group(elasticache, "cache-parallel")
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == "pending"
    assert db_status(rds, "db-parallel") == "creating"
    group = elasticache.describe_replication_groups(ReplicationGroupId="cache-parallel")
    assert group["ReplicationGroups"][0]["Status"] == "creating"
    start = time.monotonic()
    waited(ec2.get_waiter("nat_gateway_available"), NatGatewayIds=[nat_id])
    waited(rds.get_waiter("db_instance_available"), DBInstanceIdentifier="db-parallel")
    waited(
        elasticache.get_waiter("replication_group_available"), ReplicationGroupId="cache-parallel"
    )
    # Figures only (no timed assertion): all three ran concurrently, so waiting for all of them
    # takes about the longest transition, not the sum.
    print(f"parallel: all available {time.monotonic() - start:.1f}s after the first wait")


def test_operations_on_resources_in_transition_are_refused(aws_latency: Any) -> None:
    """A caller that does not wait for a transition fails as it would on AWS."""
    rds = aws_latency.client("rds")
    create_db(rds, "db-busy")
    with pytest.raises(ClientError) as err:
        rds.modify_db_instance(DBInstanceIdentifier="db-busy", AllocatedStorage=40)
    assert err.value.response["Error"]["Code"] == "InvalidDBInstanceState"
    with pytest.raises(ClientError, match="InvalidDBInstanceState"):
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier="db-busy-replica", SourceDBInstanceIdentifier="db-busy"
        )
    waited(rds.get_waiter("db_instance_available"), DBInstanceIdentifier="db-busy")
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="db-busy-replica", SourceDBInstanceIdentifier="db-busy"
    )
    with pytest.raises(ClientError, match="InvalidDBInstanceState"):
        rds.promote_read_replica(DBInstanceIdentifier="db-busy-replica")

    elasticache = aws_latency.client("elasticache")
    create_replication_group(elasticache, "cache-busy")
    with pytest.raises(ClientError) as err:
        elasticache.modify_replication_group(
            ReplicationGroupId="cache-busy", SnapshotRetentionLimit=1
        )
    assert err.value.response["Error"]["Code"] == "InvalidReplicationGroupState"

    ec2, eks = aws_latency.client("ec2"), aws_latency.client("eks")
    _, subnets = network(ec2)
    eks.create_cluster(name="busy", roleArn=ROLE_ARN, resourcesVpcConfig={"subnetIds": subnets})
    waited(eks.get_waiter("cluster_active"), name="busy")
    eks.create_nodegroup(clusterName="busy", nodegroupName="ng", nodeRole=ROLE_ARN, subnets=subnets)
    with pytest.raises(ClientError, match="ResourceInUseException"):
        eks.update_nodegroup_config(
            clusterName="busy", nodegroupName="ng", labels={"addOrUpdateLabels": {"a": "b"}}
        )
