"""Shared setup for the emulator tests."""

from __future__ import annotations

from typing import Any

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/plinth-test"
# Poll every second: the profile's test scale makes transitions last 3-6 s.
FAST_WAIT = {"Delay": 1, "MaxAttempts": 60}


def network(ec2: Any, region: str = "us-east-1") -> tuple[str, list[str]]:
    """A VPC with two subnets in different AZs of ``region`` (that of the ec2 client);
    returns (vpc_id, subnet_ids)."""
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
        for cidr, az in (("10.0.1.0/24", f"{region}a"), ("10.0.2.0/24", f"{region}b"))
    ]
    return vpc_id, subnets


def create_db(rds: Any, name: str, **extra: Any) -> dict[str, Any]:
    return rds.create_db_instance(
        DBInstanceIdentifier=name,
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        MasterUsername="plinth",
        MasterUserPassword="not-a-secret-1",
        AllocatedStorage=20,
        **extra,
    )["DBInstance"]


def db_status(rds: Any, name: str) -> str:
    return str(
        rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]["DBInstanceStatus"]
    )


def create_replication_group(elasticache: Any, name: str, **extra: Any) -> dict[str, Any]:
    return elasticache.create_replication_group(
        ReplicationGroupId=name,
        ReplicationGroupDescription="plinth test",
        CacheNodeType="cache.t3.micro",
        Engine="redis",
        **extra,
    )["ReplicationGroup"]
