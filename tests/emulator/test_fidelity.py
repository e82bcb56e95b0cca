"""Fidelity fixes over moto 5.2.5 (see tools/emulator/README.md, "moto behaviour checked")."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import (
    FAST_WAIT,
    create_db,
    create_replication_group,
    network,
)


def describe_db(rds: Any, name: str) -> dict[str, Any]:
    return dict(rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0])


def test_promote_same_region_replica_unlinks_both_sides(aws: Any) -> None:
    rds = aws.client("rds")
    create_db(rds, "source")
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="replica", SourceDBInstanceIdentifier="source"
    )
    assert describe_db(rds, "replica")["ReadReplicaSourceDBInstanceIdentifier"] == "source"
    assert describe_db(rds, "source")["ReadReplicaDBInstanceIdentifiers"] == ["replica"]

    rds.promote_read_replica(DBInstanceIdentifier="replica")
    assert "ReadReplicaSourceDBInstanceIdentifier" not in describe_db(rds, "replica")
    assert describe_db(rds, "source").get("ReadReplicaDBInstanceIdentifiers", []) == []
    # The promoted instance is standalone: deleting it leaves the old source alone.
    rds.delete_db_instance(DBInstanceIdentifier="replica", SkipFinalSnapshot=True)
    assert describe_db(rds, "source")["DBInstanceStatus"] == "available"


def test_promote_cross_region_replica_unlinks_both_sides(aws: Any) -> None:
    rds, rds_west = aws.client("rds"), aws.client("rds", region="us-west-2")
    source_arn = create_db(rds, "source")["DBInstanceArn"]
    replica = rds_west.create_db_instance_read_replica(
        DBInstanceIdentifier="remote", SourceDBInstanceIdentifier=source_arn
    )["DBInstance"]
    assert describe_db(rds_west, "remote")["ReadReplicaSourceDBInstanceIdentifier"] == source_arn
    assert describe_db(rds, "source")["ReadReplicaDBInstanceIdentifiers"] == [
        replica["DBInstanceArn"]
    ]

    rds_west.promote_read_replica(DBInstanceIdentifier="remote")
    assert "ReadReplicaSourceDBInstanceIdentifier" not in describe_db(rds_west, "remote")
    assert describe_db(rds, "source").get("ReadReplicaDBInstanceIdentifiers", []) == []


def test_deleting_a_cross_region_replica_unlinks_it(aws: Any) -> None:
    rds, rds_west = aws.client("rds"), aws.client("rds", region="us-west-2")
    source_arn = create_db(rds, "source")["DBInstanceArn"]
    rds_west.create_db_instance_read_replica(
        DBInstanceIdentifier="remote", SourceDBInstanceIdentifier=source_arn
    )
    # moto 5.2.5 failed here (list.remove on the identifier of a replica listed by ARN).
    rds_west.delete_db_instance(DBInstanceIdentifier="remote", SkipFinalSnapshot=True)
    assert describe_db(rds, "source").get("ReadReplicaDBInstanceIdentifiers", []) == []


def test_cross_region_replica_uses_the_subnet_group_of_its_own_region(aws: Any) -> None:
    rds, rds_west = aws.client("rds"), aws.client("rds", region="us-west-2")
    source_arn = create_db(rds, "source")["DBInstanceArn"]
    vpc, subnets = network(aws.client("ec2", region="us-west-2"), "us-west-2")
    rds_west.create_db_subnet_group(
        DBSubnetGroupName="west-only", DBSubnetGroupDescription="d", SubnetIds=subnets
    )
    rds_west.create_db_instance_read_replica(
        DBInstanceIdentifier="remote",
        SourceDBInstanceIdentifier=source_arn,
        DBSubnetGroupName="west-only",
    )
    group = describe_db(rds_west, "remote")["DBSubnetGroup"]
    assert (group["DBSubnetGroupName"], group["VpcId"]) == ("west-only", vpc)
    # Without a subnet group of its own region it has none, not the source region's.
    rds.create_db_subnet_group(
        DBSubnetGroupName="home",
        DBSubnetGroupDescription="d",
        SubnetIds=network(aws.client("ec2"))[1],
    )
    home_arn = create_db(rds, "homed", DBSubnetGroupName="home")["DBInstanceArn"]
    rds_west.create_db_instance_read_replica(
        DBInstanceIdentifier="groupless", SourceDBInstanceIdentifier=home_arn
    )
    groupless = describe_db(rds_west, "groupless")
    assert "DBSubnetGroup" not in groupless
    # Its security group is the default one of its own region's default VPC.
    ec2_west = aws.client("ec2", region="us-west-2")
    [vpc] = ec2_west.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    default = ec2_west.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )
    [group_id] = [g["VpcSecurityGroupId"] for g in groupless["VpcSecurityGroups"]]
    assert group_id in {g["GroupId"] for g in default["SecurityGroups"]}


def test_promote_unknown_instance_is_not_found(aws: Any) -> None:
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        aws.client("rds").promote_read_replica(DBInstanceIdentifier="nope")


def _window(ahead: int = 0) -> dict[str, datetime.datetime]:
    """The last ten minutes, ending now (as a monitoring query would) or ``ahead`` minutes on."""
    now = datetime.datetime.now(datetime.UTC)
    return {
        "StartTime": now - datetime.timedelta(minutes=10),
        "EndTime": now + datetime.timedelta(minutes=ahead),
    }


def _lag_statistics(cloudwatch: Any, name: str, ahead: int = 0) -> list[float]:
    stats = cloudwatch.get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": name}],
        Period=60,
        Statistics=["Maximum"],
        **_window(ahead),
    )
    return [point["Maximum"] for point in stats["Datapoints"]]


def test_replicas_publish_replica_lag(aws: Any) -> None:
    rds, cloudwatch = aws.client("rds"), aws.client("cloudwatch")
    create_db(rds, "source")
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="replica", SourceDBInstanceIdentifier="source"
    )
    lag = _lag_statistics(cloudwatch, "replica")
    assert lag and set(lag) == {0.0}
    assert _lag_statistics(cloudwatch, "source") == []  # not a replica: no ReplicaLag

    aws.set_replica_lag("replica", 42.5)
    assert set(_lag_statistics(cloudwatch, "replica")) == {42.5}
    data = cloudwatch.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "lag",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/RDS",
                        "MetricName": "ReplicaLag",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "replica"}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        **_window(),
    )["MetricDataResults"][0]
    assert data["Values"] and set(data["Values"]) == {42.5}
    listed = cloudwatch.list_metrics(Namespace="AWS/RDS", MetricName="ReplicaLag")["Metrics"]
    assert {d["Value"] for m in listed for d in m["Dimensions"]} == {"replica"}

    rds.promote_read_replica(DBInstanceIdentifier="replica")
    assert _lag_statistics(cloudwatch, "replica") == []  # promoted: no longer a replica


def test_replica_lag_in_another_region(aws: Any) -> None:
    rds, rds_west = aws.client("rds"), aws.client("rds", region="us-west-2")
    source_arn = create_db(rds, "source")["DBInstanceArn"]
    rds_west.create_db_instance_read_replica(
        DBInstanceIdentifier="remote", SourceDBInstanceIdentifier=source_arn
    )
    aws.set_replica_lag("remote", 7, region="us-west-2")
    assert set(_lag_statistics(aws.client("cloudwatch", region="us-west-2"), "remote")) == {7.0}
    assert _lag_statistics(aws.client("cloudwatch"), "remote") == []


def test_put_metric_data_into_aws_rds_is_returned(aws: Any) -> None:
    """Already right in moto: a test may also publish the metric itself."""
    cloudwatch = aws.client("cloudwatch")
    cloudwatch.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "manual"}],
                "Value": 3.0,
                "Unit": "Seconds",
            }
        ],
    )
    # moto stamps the datum with the exact time of the call: query up to a minute ahead.
    assert _lag_statistics(cloudwatch, "manual", ahead=1) == [3.0]


def _member_ids(group: dict[str, Any]) -> list[str]:
    return [m["CacheClusterId"] for ng in group["NodeGroups"] for m in ng["NodeGroupMembers"]]


def test_num_cache_clusters_gives_that_many_members(aws: Any) -> None:
    elasticache = aws.client("elasticache")
    group = create_replication_group(elasticache, "cache", NumCacheClusters=3)
    assert group["MemberClusters"] == ["cache-001", "cache-002", "cache-003"]
    assert _member_ids(group) == group["MemberClusters"]
    roles = [m["CurrentRole"] for m in group["NodeGroups"][0]["NodeGroupMembers"]]
    assert roles == ["primary", "replica", "replica"]

    clusters = elasticache.describe_cache_clusters()["CacheClusters"]
    assert sorted(c["CacheClusterId"] for c in clusters) == group["MemberClusters"]
    assert {c.get("ReplicationGroupId") for c in clusters} == {"cache"}
    one = elasticache.describe_cache_clusters(CacheClusterId="cache-002")["CacheClusters"][0]
    assert one["CacheClusterStatus"] == "available"


def test_replicas_per_node_group_members_are_clusters(aws: Any) -> None:
    elasticache = aws.client("elasticache")
    single = create_replication_group(elasticache, "single", ReplicasPerNodeGroup=1)
    assert single["MemberClusters"] == ["single-001", "single-002"]
    sharded = create_replication_group(
        elasticache, "sharded", NumNodeGroups=2, ReplicasPerNodeGroup=1, ClusterMode="enabled"
    )
    assert len(sharded["MemberClusters"]) == 4
    assert _member_ids(sharded) == sharded["MemberClusters"]
    clusters = elasticache.describe_cache_clusters()["CacheClusters"]
    assert sorted(c["CacheClusterId"] for c in clusters) == sorted(
        single["MemberClusters"] + sharded["MemberClusters"]
    )


def test_deleted_replication_group_disappears(aws: Any) -> None:
    elasticache = aws.client("elasticache")
    create_replication_group(elasticache, "cache", NumCacheClusters=2)
    deleted = elasticache.delete_replication_group(ReplicationGroupId="cache")
    assert deleted["ReplicationGroup"]["Status"] == "deleting"
    with pytest.raises(ClientError, match="ReplicationGroupNotFoundFault"):
        elasticache.describe_replication_groups(ReplicationGroupId="cache")
    elasticache.get_waiter("replication_group_deleted").wait(
        ReplicationGroupId="cache", WaiterConfig=FAST_WAIT
    )
    assert elasticache.describe_replication_groups()["ReplicationGroups"] == []
    assert elasticache.describe_cache_clusters()["CacheClusters"] == []
    # The identifier is free again.
    assert create_replication_group(elasticache, "cache")["Status"] == "available"


def test_eks_delete_answers_deleting(aws: Any) -> None:
    eks = aws.client("eks")
    role = "arn:aws:iam::123456789012:role/r"
    eks.create_cluster(name="c", roleArn=role, resourcesVpcConfig={"subnetIds": []})
    eks.create_nodegroup(clusterName="c", nodegroupName="ng", nodeRole=role, subnets=[])
    assert eks.delete_nodegroup(clusterName="c", nodegroupName="ng")["nodegroup"]["status"] == (
        "DELETING"
    )
    assert eks.delete_cluster(name="c")["cluster"]["status"] == "DELETING"
    eks.get_waiter("cluster_deleted").wait(name="c", WaiterConfig=FAST_WAIT)


def test_kms_schedule_and_cancel_deletion_by_arn(aws: Any) -> None:
    kms = aws.client("kms")
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"


def test_launch_template_tags_stay_off_the_template_data(aws: Any) -> None:
    ec2 = aws.client("ec2")
    instance_tags = {"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "1"}]}
    ec2.create_launch_template(
        LaunchTemplateName="tpl",
        LaunchTemplateData={"TagSpecifications": [instance_tags]},
        TagSpecifications=[
            {"ResourceType": "launch-template", "Tags": [{"Key": "b", "Value": "2"}]}
        ],
    )
    (version,) = ec2.describe_launch_template_versions(LaunchTemplateName="tpl")[
        "LaunchTemplateVersions"
    ]
    assert version["LaunchTemplateData"]["TagSpecifications"] == [instance_tags]
    (template,) = ec2.describe_launch_templates(LaunchTemplateNames=["tpl"])["LaunchTemplates"]
    assert template["Tags"] == [{"Key": "b", "Value": "2"}]
