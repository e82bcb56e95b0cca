"""Without PLINTH_EMULATOR_LATENCY moto keeps its upstream timing: everything is ready at once."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.helpers import (
    ROLE_ARN,
    create_db,
    create_replication_group,
    db_status,
    network,
)


def test_profile_is_off(aws: Any) -> None:
    assert aws.latency["enabled"] is False


def test_resources_are_available_immediately(aws: Any) -> None:
    ec2, rds, eks = aws.client("ec2"), aws.client("rds"), aws.client("eks")
    elasticache = aws.client("elasticache")
    _, subnets = network(ec2)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation)["NatGateway"]
    assert nat["State"] == "available"

    assert create_db(rds, "db", MultiAZ=True)["DBInstanceStatus"] == "available"
    modified = rds.modify_db_instance(
        DBInstanceIdentifier="db", AllocatedStorage=40, ApplyImmediately=True
    )["DBInstance"]
    assert modified["DBInstanceStatus"] == "available"

    cluster = eks.create_cluster(
        name="c", roleArn=ROLE_ARN, resourcesVpcConfig={"subnetIds": subnets}
    )["cluster"]
    assert cluster["status"] == "ACTIVE"
    nodegroup = eks.create_nodegroup(
        clusterName="c", nodegroupName="ng", nodeRole=ROLE_ARN, subnets=subnets
    )["nodegroup"]
    assert nodegroup["status"] == "ACTIVE"

    assert create_replication_group(elasticache, "cache")["Status"] == "available"


def test_deletes_are_immediate(aws: Any) -> None:
    ec2, rds, eks = aws.client("ec2"), aws.client("rds"), aws.client("eks")
    _, subnets = network(ec2)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat_id = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation)["NatGateway"][
        "NatGatewayId"
    ]
    ec2.delete_nat_gateway(NatGatewayId=nat_id)
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] == (
        "deleted"
    )

    create_db(rds, "db")
    assert db_status(rds, "db") == "available"
    rds.delete_db_instance(DBInstanceIdentifier="db", SkipFinalSnapshot=True)
    with pytest.raises(ClientError, match="DBInstanceNotFound"):
        rds.describe_db_instances(DBInstanceIdentifier="db")

    eks.create_cluster(name="c", roleArn=ROLE_ARN, resourcesVpcConfig={"subnetIds": subnets})
    eks.delete_cluster(name="c")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        eks.describe_cluster(name="c")
