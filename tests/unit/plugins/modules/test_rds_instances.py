"""Unit tests for plinth.platform.rds_instances, run against moto's in-process mock_aws."""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from ansible_collections.plinth.platform.plugins.module_utils import rds
from ansible_collections.plinth.platform.plugins.modules import rds_instances

HOME, DR = "us-east-1", "us-west-2"
PRIMARY = "plinth-test-main"
REPLICA = f"{PRIMARY}-replica-1"
DR_REPLICA = f"{PRIMARY}-dr"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-1111-1111-1111-111111111111"
DR_KEY = "arn:aws:kms:us-west-2:123456789012:key/22222222-2222-2222-2222-222222222222"
ROLE = "arn:aws:iam::123456789012:role/plinth-test-rds-monitoring"
TAGS = {"plinth:stack": "plinth-test", "Name": PRIMARY}
WRITES = {
    "CreateDBInstance",
    "CreateDBInstanceReadReplica",
    "ModifyDBInstance",
    "AddTagsToResource",
    "RemoveTagsFromResource",
}


def primary(**kwargs: Any) -> dict[str, Any]:
    return dict(
        {
            "id": PRIMARY,
            "engine": "postgres",
            "engine_version": "16.4",
            "instance_class": "db.r6g.large",
            "allocated_storage": 400,
            "max_allocated_storage": 1000,
            "storage_type": "gp3",
            "iops": 12000,
            "storage_throughput": 500,
            "storage_encrypted": True,
            "kms_key_id": KEY,
            "master_username": "app_admin",
            "master_user_password": "s3cret-passw0rd-never-shown",
            "db_name": "app",
            "port": 5432,
            "parameter_group": PRIMARY,
            "multi_az": True,
            "backup_retention_period": 7,
            "backup_window": "03:00-04:00",
            "maintenance_window": "sun:04:30-sun:05:30",
            "performance_insights": True,
            "performance_insights_retention_period": 7,
            "performance_insights_kms_key_id": KEY,
            "log_exports": ["postgresql", "upgrade"],
            "publicly_accessible": False,
            "deletion_protection": False,
            "copy_tags_to_snapshot": True,
            "auto_minor_version_upgrade": True,
            "monitoring_interval": 60,
            "monitoring_role_arn": ROLE,
            "tags": TAGS,
        },
        **kwargs,
    )


def replica() -> dict[str, Any]:
    return {
        "id": REPLICA,
        "source_id": PRIMARY,
        "instance_class": "db.r6g.xlarge",
        "parameter_group": PRIMARY,
        "multi_az": False,
        "publicly_accessible": False,
        "monitoring_interval": 60,
        "monitoring_role_arn": ROLE,
        "tags": {"plinth:stack": "plinth-test", "Name": REPLICA},
    }


def dr_replica() -> dict[str, Any]:
    return {
        "id": DR_REPLICA,
        "region": DR,
        "source_id": PRIMARY,
        "source_region": HOME,
        "instance_class": "db.r6g.large",
        "kms_key_id": DR_KEY,
        "parameter_group": PRIMARY,
        "multi_az": False,
        "backup_retention_period": 7,
        "tags": {"plinth:stack": "plinth-test", "Name": DR_REPLICA},
    }


def stack() -> dict[str, Any]:
    return {"instances": [replica(), dr_replica(), primary()]}


@pytest.fixture
def clients(aws_moto: None) -> dict[str, Any]:
    out = {region: boto3.client("rds", region_name=region) for region in (HOME, DR)}
    for client in out.values():
        client.create_db_parameter_group(
            DBParameterGroupName=PRIMARY, DBParameterGroupFamily="postgres16", Description="p"
        )
    return out


@pytest.fixture
def calls(api_calls: Any) -> list[str]:
    return api_calls("rds")


def instances(client: Any) -> dict[str, dict[str, Any]]:
    return {i["DBInstanceIdentifier"]: i for i in client.describe_db_instances()["DBInstances"]}


def test_creates_primary_replica_and_cross_region_replica(run_module, clients, calls):
    result = run_module(rds_instances, stack(), diff=True)
    assert result["changed"]
    # Results follow the request order; primaries are created before the replicas.
    assert [i["id"] for i in result["instances"]] == [REPLICA, DR_REPLICA, PRIMARY]
    assert [c for c in calls if c in WRITES] == [
        "CreateDBInstance",
        "CreateDBInstanceReadReplica",
        "CreateDBInstanceReadReplica",
    ]
    home, dr = instances(clients[HOME]), instances(clients[DR])
    main = home[PRIMARY]
    assert main["StorageEncrypted"] and main["KmsKeyId"] == KEY
    assert (main["StorageType"], main["Iops"], main["StorageThroughput"]) == ("gp3", 12000, 500)
    assert main["MaxAllocatedStorage"] == 1000 and main["MultiAZ"]
    assert sorted(main["EnabledCloudwatchLogsExports"]) == ["postgresql", "upgrade"]
    assert main["MonitoringRoleArn"] == ROLE
    assert {t["Key"]: t["Value"] for t in main["TagList"]} == TAGS
    assert home[REPLICA]["ReadReplicaSourceDBInstanceIdentifier"] == PRIMARY
    assert home[REPLICA]["DBInstanceClass"] == "db.r6g.xlarge" and not home[REPLICA]["MultiAZ"]
    assert dr[DR_REPLICA]["ReadReplicaSourceDBInstanceIdentifier"] == main["DBInstanceArn"]
    assert dr[DR_REPLICA]["KmsKeyId"] == DR_KEY
    by_id = {i["id"]: i for i in result["instances"]}
    assert by_id[PRIMARY]["arn"] == main["DBInstanceArn"]
    assert by_id[PRIMARY]["endpoint"] == {"address": main["Endpoint"]["Address"], "port": 5432}
    assert by_id[DR_REPLICA]["region"] == DR and by_id[DR_REPLICA]["status"] == "available"
    assert all(i["created"] and not i["existed"] for i in result["instances"])
    assert result["diff"]["before"][PRIMARY] == {}
    assert result["diff"]["after"][f"{DR}:{DR_REPLICA}"]["kms_key_id"] == DR_KEY
    assert "s3cret-passw0rd-never-shown" not in str(result)

    calls.clear()
    again = run_module(rds_instances, stack(), diff=True)
    assert not again["changed"], again["instances"]
    assert not any(i["changed"] for i in again["instances"])
    assert all(i["existed"] for i in again["instances"])
    assert again["diff"] == {"before": {}, "after": {}}
    # One read per region; nothing written.
    assert sorted(calls) == ["DescribeDBInstances", "DescribeDBInstances"]
    assert {i["db_instance_identifier"] for i in again["existing"]} == {
        PRIMARY,
        REPLICA,
        DR_REPLICA,
    }


def test_modify_class_and_backup_window(run_module, clients, calls):
    run_module(rds_instances, stack())
    changed = stack()
    changed["instances"][2].update(instance_class="db.r6g.xlarge", backup_window="02:00-02:30")
    changed["instances"][2]["tags"] = {"plinth:stack": "plinth-test", "Owner": "data"}

    calls.clear()
    check = run_module(rds_instances, changed, check_mode=True, diff=True)
    assert check["changed"] and not [c for c in calls if c in WRITES]
    assert check["diff"]["before"][PRIMARY]["instance_class"] == "db.r6g.large"
    assert check["diff"]["after"][PRIMARY]["instance_class"] == "db.r6g.xlarge"
    assert check["diff"]["after"][PRIMARY]["tags"] == changed["instances"][2]["tags"]
    assert instances(clients[HOME])[PRIMARY]["DBInstanceClass"] == "db.r6g.large"

    calls.clear()
    result = run_module(rds_instances, changed)
    by_id = {i["id"]: i for i in result["instances"]}
    assert by_id[PRIMARY]["changed"] and not by_id[REPLICA]["changed"]
    assert by_id[PRIMARY]["modified"] == [
        "DBInstanceClass",
        "PreferredBackupWindow",
        "Tags",
    ]
    assert [c for c in calls if c in WRITES] == [
        "ModifyDBInstance",
        "RemoveTagsFromResource",
        "AddTagsToResource",
    ]
    main = instances(clients[HOME])[PRIMARY]
    assert main["DBInstanceClass"] == "db.r6g.xlarge"
    assert main["PreferredBackupWindow"] == "02:00-02:30"
    assert {t["Key"]: t["Value"] for t in main["TagList"]} == changed["instances"][2]["tags"]
    assert not run_module(rds_instances, changed)["changed"]


def test_check_mode_creates_nothing(run_module, clients, calls):
    result = run_module(rds_instances, stack(), check_mode=True, diff=True)
    assert result["changed"]
    assert all(i["created"] and i["arn"] == "" for i in result["instances"])
    assert set(calls) == {"DescribeDBInstances"}
    assert instances(clients[HOME]) == {} and instances(clients[DR]) == {}
    assert result["diff"]["after"][PRIMARY]["instance_class"] == "db.r6g.large"
    assert "master_user_password" not in result["diff"]["after"][PRIMARY]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"id": "bad--id"}, "an instance id has"),
        ({"monitoring_role_arn": None}, "needs monitoring_role_arn"),
        ({"performance_insights_retention_period": 10}, "multiple of 31"),
        ({"max_allocated_storage": 100}, "more than allocated_storage"),
        ({"allocated_storage": None}, "a primary needs allocated_storage"),
    ],
)
def test_bad_input_is_refused_before_any_call(run_module, clients, calls, change, fragment):
    args = {"instances": [primary(**change)]}
    result = run_module(rds_instances, args)
    assert result["failed"] and fragment in result["msg"], result["msg"]
    assert calls == []


def test_replica_options_and_duplicates_are_refused_before_any_call(run_module, clients, calls):
    bad = dict(replica(), master_username="x")
    result = run_module(rds_instances, {"instances": [primary(), bad]})
    assert result["failed"] and "takes master_username from its source" in result["msg"]
    result = run_module(rds_instances, {"instances": [primary(), primary()]})
    assert result["failed"] and "Duplicate instance ids" in result["msg"]
    assert calls == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"master_username": "other"}, "master_username is 'app_admin'"),
        ({"kms_key_id": KEY.replace("1111-1111-1111", "9999-9999-9999")}, "cannot change"),
        ({"db_name": "other"}, "db_name is 'app'"),
    ],
)
def test_immutable_change_is_refused_without_writing(run_module, clients, calls, change, fragment):
    run_module(rds_instances, {"instances": [primary()]})
    calls.clear()
    result = run_module(rds_instances, {"instances": [primary(**change)]})
    assert result["failed"] and fragment in result["msg"], result["msg"]
    assert PRIMARY in result["msg"]
    assert not [c for c in calls if c in WRITES]


def test_missing_password_and_unknown_source_fail_before_writes(run_module, clients, calls):
    result = run_module(
        rds_instances, {"instances": [primary(master_user_password=None), replica()]}
    )
    assert result["failed"] and "needs a password" in result["msg"]
    result = run_module(rds_instances, {"instances": [replica()]})
    assert result["failed"] and "does not exist in us-east-1" in result["msg"]
    assert not [c for c in calls if c in WRITES]


def test_discover_only_reads_the_stack(run_module, clients, calls):
    run_module(rds_instances, stack())
    clients[HOME].create_db_instance(
        DBInstanceIdentifier="other",
        Engine="postgres",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="u",
        MasterUserPassword="password123",
    )
    calls.clear()
    result = run_module(
        rds_instances,
        {"discover_regions": [HOME, DR], "discover_tags": {"plinth:stack": "plinth-test"}},
    )
    assert not result["changed"] and result["instances"] == []
    found = {(i["region"], i["db_instance_identifier"]) for i in result["existing"]}
    assert found == {(HOME, PRIMARY), (HOME, REPLICA), (DR, DR_REPLICA)}
    dr = next(i for i in result["existing"] if i["region"] == DR)
    assert dr["tags"]["Name"] == DR_REPLICA and dr["read_replica_source_db_instance_identifier"]
    assert calls == ["DescribeDBInstances", "DescribeDBInstances"]


def test_comparison_semantics() -> None:
    assert rds.version_satisfied("16.4", "16")
    assert rds.version_satisfied("16.6", "16.4")  # automatic minor upgrade kept
    assert not rds.version_satisfied("16.4", "16.6")
    assert not rds.version_satisfied("15.8", "16")
    described = {
        "DBInstanceIdentifier": PRIMARY,
        "DBInstanceClass": "db.r6g.large",
        "EngineVersion": "16.4",
        "AllocatedStorage": 500,
        "StorageType": "gp3",
        "PreferredBackupWindow": "03:00-04:00",
        "PendingModifiedValues": {"DBInstanceClass": "db.r6g.xlarge"},
        "EnabledCloudwatchLogsExports": ["postgresql"],
        "PerformanceInsightsEnabled": False,
    }
    current = rds.effective(described)
    item = {
        "id": PRIMARY,
        "instance_class": "db.r6g.xlarge",  # pending: not asked again
        "engine_version": "16",
        "allocated_storage": 400,  # grown by autoscaling: not shrunk
        "log_exports": ["postgresql", "upgrade"],
        "performance_insights": True,
        "performance_insights_kms_key_id": KEY,
    }
    params, to_set, to_remove = rds.modify_params(copy.deepcopy(item), current, True)
    assert params == {
        "CloudwatchLogsExportConfiguration": {
            "EnableLogTypes": ["upgrade"],
            "DisableLogTypes": [],
        },
        "EnablePerformanceInsights": True,
        "PerformanceInsightsKMSKeyId": KEY,
    }
    assert (to_set, to_remove) == ({}, [])
    upgrade = rds.modify_params({"id": PRIMARY, "engine_version": "17.2"}, current, True)[0]
    assert upgrade == {"EngineVersion": "17.2", "AllowMajorVersionUpgrade": True}


def subnet_group(subnets: list[str], **kwargs: Any) -> dict[str, Any]:
    return dict(
        {
            "name": "plinth-test-db",
            "description": "Database subnets of plinth-test",
            "subnet_ids": subnets,
            "tags": {"plinth:stack": "plinth-test"},
        },
        **kwargs,
    )


def test_subnet_group_then_instance_in_one_run(run_module, clients, calls, moto_vpc):
    group = subnet_group(moto_vpc["subnets"])
    args = {"subnet_groups": [group], "instances": [primary(subnet_group="plinth-test-db")]}
    check = run_module(rds_instances, args, check_mode=True, diff=True)
    assert check["changed"] and check["subnet_groups"][0]["changed"]
    assert check["diff"]["before"]["subnet_group:plinth-test-db"] == {}
    assert not [c for c in calls if c.startswith(("Create", "Modify", "Add"))]

    result = run_module(rds_instances, args)
    assert result["changed"]
    (out,) = result["subnet_groups"]
    assert out["vpc_id"] == moto_vpc["vpc_id"] and out["arn"].endswith(":subgrp:plinth-test-db")
    main = instances(clients[HOME])[PRIMARY]
    assert main["DBSubnetGroup"]["DBSubnetGroupName"] == "plinth-test-db"

    calls.clear()
    again = run_module(rds_instances, args)
    assert not again["changed"] and not again["subnet_groups"][0]["changed"]
    assert sorted(calls) == ["DescribeDBInstances", "DescribeDBSubnetGroups", "ListTagsForResource"]

    changed = dict(group, description="changed")
    changed["tags"] = {"plinth:stack": "plinth-test", "Owner": "data"}
    calls.clear()
    fixed = run_module(rds_instances, dict(args, subnet_groups=[changed]), diff=True)
    assert fixed["changed"] and fixed["subnet_groups"][0]["changed"]
    assert fixed["diff"]["after"]["subnet_group:plinth-test-db"]["description"] == "changed"
    assert [c for c in calls if c in WRITES or c == "ModifyDBSubnetGroup"] == [
        "ModifyDBSubnetGroup",
        "AddTagsToResource",
    ]
    # moto 5.2.5's ModifyDBSubnetGroup drops the group from its store (it pops it and never puts
    # it back), so what the emulator holds afterwards is not checked here.


def test_bad_subnet_group_is_refused_before_any_call(run_module, clients, calls):
    result = run_module(rds_instances, {"subnet_groups": [subnet_group([])]})
    assert result["failed"] and "needs subnet_ids" in result["msg"]
    result = run_module(
        rds_instances, {"subnet_groups": [subnet_group(["subnet-1"], name="default")]}
    )
    assert result["failed"] and "not 'default'" in result["msg"]
    assert calls == []
