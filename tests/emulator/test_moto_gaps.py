"""What upstream moto 5.2.5 does where the fidelity layer steps in (PLINTH_EMULATOR_FIDELITY=0).

These pin down the behaviour checked before patching; when a moto upgrade fixes one, its test
fails and the matching fix in tools/emulator/fidelity.py can go.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from tests.emulator.helpers import (
    ROLE_ARN,
    create_db,
    create_replication_group,
    network,
)
from tests.support.emulator_fixture import EmulatorHandle, _start

NO_RETRY = Config(retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorHandle]:
    server = _start(
        tmp_path_factory.mktemp("emulator-upstream"),
        {"PLINTH_EMULATOR_FIDELITY": "0", "PLINTH_EMULATOR_LATENCY": "0"},
    )
    try:
        handle = EmulatorHandle(server)
        assert server.health()["fidelity"] is False
        yield handle
    finally:
        server.stop()


@pytest.fixture
def moto(upstream: EmulatorHandle) -> EmulatorHandle:
    upstream.reset()
    return upstream


def test_promote_keeps_both_replica_links(moto: Any) -> None:
    rds = moto.client("rds")
    create_db(rds, "source")
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="replica", SourceDBInstanceIdentifier="source"
    )
    rds.promote_read_replica(DBInstanceIdentifier="replica")
    promoted = rds.describe_db_instances(DBInstanceIdentifier="replica")["DBInstances"][0]
    source = rds.describe_db_instances(DBInstanceIdentifier="source")["DBInstances"][0]
    assert promoted["ReadReplicaSourceDBInstanceIdentifier"] == "source"
    assert source["ReadReplicaDBInstanceIdentifiers"] == ["replica"]


def test_deleting_cross_region_replica_fails(moto: Any) -> None:
    rds = moto.client("rds")
    rds_west = moto.client("rds", region="us-west-2", config=NO_RETRY)
    arn = create_db(rds, "source")["DBInstanceArn"]
    rds_west.create_db_instance_read_replica(
        DBInstanceIdentifier="remote", SourceDBInstanceIdentifier=arn
    )
    # moto raises inside the handler (list.remove): an HTML 500 page botocore cannot parse.
    with pytest.raises(ResponseParserError, match="500 Internal Server Error"):
        rds_west.delete_db_instance(DBInstanceIdentifier="remote", SkipFinalSnapshot=True)


def test_cross_region_replica_looks_its_subnet_group_up_in_the_source_region(moto: Any) -> None:
    rds = moto.client("rds")
    rds_west = moto.client("rds", region="us-west-2", config=NO_RETRY)
    arn = create_db(rds, "source")["DBInstanceArn"]
    subnets = network(moto.client("ec2", region="us-west-2"), "us-west-2")[1]
    rds_west.create_db_subnet_group(
        DBSubnetGroupName="west-only", DBSubnetGroupDescription="d", SubnetIds=subnets
    )
    with pytest.raises(ClientError, match="DBSubnetGroupNotFoundFault"):
        rds_west.create_db_instance_read_replica(
            DBInstanceIdentifier="remote",
            SourceDBInstanceIdentifier=arn,
            DBSubnetGroupName="west-only",
        )


def test_cross_region_replica_keeps_the_source_regions_subnet_group(moto: Any) -> None:
    rds = moto.client("rds")
    subnets = network(moto.client("ec2"))[1]
    rds.create_db_subnet_group(
        DBSubnetGroupName="home", DBSubnetGroupDescription="d", SubnetIds=subnets
    )
    source = create_db(rds, "source", DBSubnetGroupName="home")
    replica = moto.client("rds", region="us-west-2").create_db_instance_read_replica(
        DBInstanceIdentifier="remote", SourceDBInstanceIdentifier=source["DBInstanceArn"]
    )["DBInstance"]
    assert replica["DBSubnetGroup"]["DBSubnetGroupName"] == "home"
    assert replica["VpcSecurityGroups"] == source["VpcSecurityGroups"]  # us-east-1 groups


def test_no_replica_lag_metric(moto: Any) -> None:
    rds = moto.client("rds")
    create_db(rds, "source")
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier="replica", SourceDBInstanceIdentifier="source"
    )
    metrics = moto.client("cloudwatch").list_metrics(Namespace="AWS/RDS")["Metrics"]
    assert metrics == []


def test_elasticache_members_and_deletion(moto: Any) -> None:
    elasticache = moto.client("elasticache")
    group = create_replication_group(elasticache, "cache", NumCacheClusters=3)
    assert group["MemberClusters"] == ["cache-001"]
    assert elasticache.describe_cache_clusters()["CacheClusters"] == []
    elasticache.delete_replication_group(ReplicationGroupId="cache")
    described = elasticache.describe_replication_groups(ReplicationGroupId="cache")
    assert described["ReplicationGroups"][0]["Status"] == "deleting"


def test_eks_delete_answers_active(moto: Any) -> None:
    eks = moto.client("eks")
    eks.create_cluster(name="c", roleArn=ROLE_ARN, resourcesVpcConfig={"subnetIds": []})
    assert eks.delete_cluster(name="c")["cluster"]["status"] == "ACTIVE"


def test_nat_gateway_tags_have_resource_type_nat_gateway(moto: Any) -> None:
    ec2 = moto.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24")["Subnet"]["SubnetId"]
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.create_nat_gateway(
        SubnetId=subnet,
        AllocationId=eip,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": [{"Key": "k", "Value": "v"}]}],
    )
    tags = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["k"]}])["Tags"]
    assert [t["ResourceType"] for t in tags] == ["nat-gateway"]


def test_rule_description_update_has_no_return(moto: Any) -> None:
    ec2 = moto.client("ec2")
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
    assert "Return" not in answer
