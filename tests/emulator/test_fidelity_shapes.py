"""Response-shape fidelity fixes of the emulator layer (tools/emulator/fidelity.py)."""

from __future__ import annotations

from typing import Any

import pytest


def test_nat_gateway_tags_report_resource_type_natgateway(aws: Any) -> None:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(
        SubnetId=subnet,
        AllocationId=eip,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "k", "Value": "v"}]}],
    )["NatGateway"]["NatGatewayId"]
    filters = [
        {"Name": "resource-id", "Values": [nat]},
        {"Name": "resource-type", "Values": ["natgateway"]},
    ]
    tags = ec2.describe_tags(Filters=filters)["Tags"]
    assert [(t["Key"], t["ResourceType"]) for t in tags] == [("k", "natgateway")]


def test_rule_description_updates_return_true(aws: Any) -> None:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
    permission = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    ec2.authorize_security_group_ingress(
        GroupId=group, IpPermissions=[dict(permission, IpRanges=[{"CidrIp": "10.0.0.0/8"}])]
    )
    described = dict(permission, IpRanges=[{"CidrIp": "10.0.0.0/8", "Description": "https"}])
    answer = ec2.update_security_group_rule_descriptions_ingress(
        GroupId=group, IpPermissions=[described]
    )
    assert answer["Return"] is True
    egress = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "out"}]}
    answer = ec2.update_security_group_rule_descriptions_egress(
        GroupId=group, IpPermissions=[egress]
    )
    assert answer["Return"] is True
    (rule,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert rule["IpRanges"][0]["Description"] == "https"


def test_cache_clusters_report_their_security_groups(aws: Any) -> None:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="cache", Description="d", VpcId=vpc)["GroupId"]
    elasticache = aws.client("elasticache")
    elasticache.create_replication_group(
        ReplicationGroupId="sessions",
        ReplicationGroupDescription="d",
        CacheNodeType="cache.t4g.small",
        Engine="redis",
        NumCacheClusters=2,
        SecurityGroupIds=[group],
    )
    clusters = elasticache.describe_cache_clusters()["CacheClusters"]
    assert len(clusters) == 2
    for cluster in clusters:
        assert cluster["SecurityGroups"] == [{"SecurityGroupId": group, "Status": "active"}]


@pytest.mark.parametrize(("storage", "iops", "throughput"), [(50, 3000, 125), (400, 12000, 500)])
def test_gp3_instances_report_their_baseline(
    aws: Any, storage: int, iops: int, throughput: int
) -> None:
    rds = aws.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="db",
        DBInstanceClass="db.t4g.medium",
        Engine="postgres",
        AllocatedStorage=storage,
        StorageType="gp3",
        MasterUsername="admin_user",
        MasterUserPassword="not-a-secret-1",
    )
    (instance,) = rds.describe_db_instances(DBInstanceIdentifier="db")["DBInstances"]
    assert (instance["Iops"], instance["StorageThroughput"]) == (iops, throughput)


def test_bucket_replication_reads_back_as_put(aws: Any) -> None:
    s3 = aws.client("s3")
    for bucket in ("source", "target"):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    rule = {
        "ID": "to-dr",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {"Prefix": "data/"},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {"Bucket": "arn:aws:s3:::target"},
    }
    s3.put_bucket_replication(
        Bucket="source",
        ReplicationConfiguration={"Role": "arn:aws:iam::123456789012:role/r", "Rules": [rule]},
    )
    (read,) = s3.get_bucket_replication(Bucket="source")["ReplicationConfiguration"]["Rules"]
    assert read["Filter"] == {"Prefix": "data/"}
    assert read["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert read["SourceSelectionCriteria"] == rule["SourceSelectionCriteria"]
    assert read["Destination"]["Bucket"] == "arn:aws:s3:::target"
