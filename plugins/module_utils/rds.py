# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How ``rds_instances`` compares a wanted DB instance with what ``DescribeDBInstances`` reports,
and builds the ``CreateDBInstance`` / ``CreateDBInstanceReadReplica`` / ``ModifyDBInstance``
parameters. Pure functions (no client), so they are tested and reused without AWS.

The comparison follows AWS's semantics rather than the raw values:

- a pending modification (``PendingModifiedValues``) counts as done, so a change waiting for the
  maintenance window is not requested again on every run;
- ``engine_version`` ``"16"`` matches any ``16.x``, and a higher minor version than the one asked
  for (automatic minor upgrades) is kept: only an upgrade is requested, never a downgrade;
- storage only grows (storage autoscaling may have grown it past ``allocated_storage``);
- Performance Insights settings are compared only when the instance reports them (the AWS
  emulator, moto 5.2.5, reports none), and its KMS key is sent only when PI gets enabled;
- what cannot change on an existing instance (engine, master user name, database name,
  encryption and its key, a replica's source) is an error, never ignored silently.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

ID_PATTERN = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{0,62}(?<!-)$")
ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:rds:([a-z0-9-]+):(\d{12}):db:(.+)$")
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)

# Option -> (DescribeDBInstances key, ModifyDBInstance parameter, CreateDBInstance parameter,
# CreateDBInstanceReadReplica parameter or None when a replica takes it from a later modify).
SCALARS: dict[str, tuple[str, str, str, str | None]] = {
    "instance_class": ("DBInstanceClass", "DBInstanceClass", "DBInstanceClass", "DBInstanceClass"),
    "storage_type": ("StorageType", "StorageType", "StorageType", "StorageType"),
    "max_allocated_storage": (
        "MaxAllocatedStorage",
        "MaxAllocatedStorage",
        "MaxAllocatedStorage",
        "MaxAllocatedStorage",
    ),
    "port": ("DbInstancePort", "DBPortNumber", "Port", "Port"),
    "subnet_group": (
        "DBSubnetGroupName",
        "DBSubnetGroupName",
        "DBSubnetGroupName",
        "DBSubnetGroupName",
    ),
    "parameter_group": (
        "DBParameterGroupName",
        "DBParameterGroupName",
        "DBParameterGroupName",
        "DBParameterGroupName",
    ),
    "multi_az": ("MultiAZ", "MultiAZ", "MultiAZ", "MultiAZ"),
    "backup_retention_period": (
        "BackupRetentionPeriod",
        "BackupRetentionPeriod",
        "BackupRetentionPeriod",
        None,
    ),
    "backup_window": (
        "PreferredBackupWindow",
        "PreferredBackupWindow",
        "PreferredBackupWindow",
        None,
    ),
    "maintenance_window": (
        "PreferredMaintenanceWindow",
        "PreferredMaintenanceWindow",
        "PreferredMaintenanceWindow",
        None,
    ),
    "publicly_accessible": (
        "PubliclyAccessible",
        "PubliclyAccessible",
        "PubliclyAccessible",
        "PubliclyAccessible",
    ),
    "deletion_protection": (
        "DeletionProtection",
        "DeletionProtection",
        "DeletionProtection",
        "DeletionProtection",
    ),
    "copy_tags_to_snapshot": (
        "CopyTagsToSnapshot",
        "CopyTagsToSnapshot",
        "CopyTagsToSnapshot",
        "CopyTagsToSnapshot",
    ),
    "auto_minor_version_upgrade": (
        "AutoMinorVersionUpgrade",
        "AutoMinorVersionUpgrade",
        "AutoMinorVersionUpgrade",
        "AutoMinorVersionUpgrade",
    ),
}
# Set at creation only; an existing instance that differs fails the module.
IMMUTABLE: dict[str, str] = {
    "engine": "Engine",
    "master_username": "MasterUsername",
    "db_name": "DBName",
    "storage_encrypted": "StorageEncrypted",
}
# What a read replica takes from its source: giving it for a replica is refused.
PRIMARY_ONLY = (
    "engine_version",
    "allocated_storage",
    "storage_encrypted",
    "master_username",
    "master_user_password",
    "db_name",
    "log_exports",
)
# Every option compared and shown in the diff (never the password).
MANAGED = (
    "engine",
    "engine_version",
    "instance_class",
    "allocated_storage",
    "max_allocated_storage",
    "storage_type",
    "iops",
    "storage_throughput",
    "storage_encrypted",
    "kms_key_id",
    "master_username",
    "db_name",
    "port",
    "subnet_group",
    "security_group_ids",
    "parameter_group",
    "multi_az",
    "backup_retention_period",
    "backup_window",
    "maintenance_window",
    "performance_insights",
    "performance_insights_retention_period",
    "performance_insights_kms_key_id",
    "log_exports",
    "publicly_accessible",
    "deletion_protection",
    "copy_tags_to_snapshot",
    "auto_minor_version_upgrade",
    "monitoring_interval",
    "monitoring_role_arn",
    "source_id",
    "tags",
)


def arn_region(arn: str) -> str | None:
    """The region of an RDS instance ARN, None for an identifier."""
    match = ARN_PATTERN.match(arn or "")
    return match.group(1) if match else None


def same_key(current: str | None, wanted: str | None) -> bool:
    """Whether a KMS key ARN reported by RDS is the wanted key (an ARN or a bare key id; an alias
    cannot be resolved without KMS and is taken as the same)."""
    if not wanted or wanted.startswith("alias/") or ":alias/" in wanted:
        return True
    return (current or "").split("/")[-1] == wanted.split("/")[-1]


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def version_satisfied(current: str, wanted: str) -> bool:
    """Whether the running engine version meets the wanted one: ``16`` is met by any 16.x,
    ``16.4`` by 16.4 and any later 16.x (automatic minor upgrades are kept)."""
    cur, want = version_tuple(current), version_tuple(wanted)
    if cur[: len(want)] == want:
        return True
    return cur[:1] == want[:1] and cur > want


def effective(instance: dict[str, Any]) -> dict[str, Any]:
    """The instance's managed attributes as option -> value, pending modifications applied."""
    pending = instance.get("PendingModifiedValues") or {}
    flat = dict(instance)
    flat["DBSubnetGroupName"] = (instance.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
    groups = instance.get("DBParameterGroups") or []
    flat["DBParameterGroupName"] = groups[0]["DBParameterGroupName"] if groups else None
    flat["DbInstancePort"] = instance.get("DbInstancePort") or (instance.get("Endpoint") or {}).get(
        "Port"
    )
    for key in (
        "DBInstanceClass",
        "AllocatedStorage",
        "MultiAZ",
        "EngineVersion",
        "Iops",
        "StorageType",
        "StorageThroughput",
        "DBSubnetGroupName",
        "BackupRetentionPeriod",
    ):
        if pending.get(key) is not None:
            flat[key] = pending[key]
    if pending.get("Port") is not None:
        flat["DbInstancePort"] = pending["Port"]
    state: dict[str, Any] = {option: flat.get(keys[0]) for option, keys in SCALARS.items()}
    state.update({option: flat.get(key) for option, key in IMMUTABLE.items()})
    logs = set(instance.get("EnabledCloudwatchLogsExports") or [])
    pending_logs = pending.get("PendingCloudwatchLogsExports") or {}
    logs = (logs | set(pending_logs.get("LogTypesToEnable") or [])) - set(
        pending_logs.get("LogTypesToDisable") or []
    )
    state.update(
        engine_version=flat.get("EngineVersion"),
        allocated_storage=flat.get("AllocatedStorage"),
        iops=flat.get("Iops"),
        storage_throughput=flat.get("StorageThroughput"),
        kms_key_id=instance.get("KmsKeyId"),
        security_group_ids=sorted(
            g["VpcSecurityGroupId"]
            for g in instance.get("VpcSecurityGroups") or []
            if g.get("Status") in ("active", "adding")
        ),
        performance_insights=instance.get("PerformanceInsightsEnabled"),
        performance_insights_retention_period=instance.get("PerformanceInsightsRetentionPeriod"),
        performance_insights_kms_key_id=instance.get("PerformanceInsightsKMSKeyId"),
        log_exports=sorted(logs),
        monitoring_interval=instance.get("MonitoringInterval"),
        monitoring_role_arn=instance.get("MonitoringRoleArn"),
        source_id=instance.get("ReadReplicaSourceDBInstanceIdentifier"),
        tags=boto3_tag_list_to_ansible_dict(instance.get("TagList") or []),
    )
    if state["maintenance_window"]:
        state["maintenance_window"] = state["maintenance_window"].lower()
    return state


def validate(item: dict[str, Any]) -> list[str]:
    """What is wrong with one wanted instance on its own (no AWS needed); empty when fine."""
    name = item["id"]
    errors = []
    if not ID_PATTERN.match(name):
        errors.append(
            f"{name}: an instance id has 1 to 63 letters, digits or hyphens, starts with a "
            "letter, and has no two hyphens in a row nor one at the end"
        )
    replica = bool(item.get("source_id"))
    if replica:
        given = [option for option in PRIMARY_ONLY if item.get(option) is not None]
        if given:
            errors.append(
                f"{name}: a read replica takes {', '.join(given)} from its source; leave them out"
            )
    else:
        missing = [
            option
            for option in ("engine", "allocated_storage", "master_username")
            if item.get(option) is None
        ]
        if missing:
            errors.append(f"{name}: a primary needs {', '.join(missing)}")
    interval = item.get("monitoring_interval")
    if interval is not None and interval not in MONITORING_INTERVALS:
        errors.append(f"{name}: monitoring_interval must be one of {MONITORING_INTERVALS}")
    if interval and not item.get("monitoring_role_arn"):
        errors.append(f"{name}: monitoring_interval {interval} needs monitoring_role_arn")
    retention = item.get("performance_insights_retention_period")
    if retention is not None and not (
        retention == 7 or (retention % 31 == 0 and 31 <= retention <= 731)
    ):
        errors.append(
            f"{name}: performance_insights_retention_period must be 7 or a multiple of 31 "
            "up to 731"
        )
    if item.get("storage_type") in ("gp2", "standard") and item.get("iops"):
        errors.append(f"{name}: storage_type {item['storage_type']} takes no iops")
    if item.get("storage_throughput") and item.get("storage_type") not in (None, "gp3"):
        errors.append(f"{name}: storage_throughput is for gp3 storage only")
    allocated, ceiling = item.get("allocated_storage"), item.get("max_allocated_storage")
    if allocated and ceiling and ceiling <= allocated:
        errors.append(f"{name}: max_allocated_storage must be more than allocated_storage")
    if item.get("engine_version") and not re.match(r"^\d+(\.\d+)*$", item["engine_version"]):
        errors.append(f"{name}: engine_version must look like 16 or 16.4")
    return errors


def immutable_errors(
    item: dict[str, Any], current: dict[str, Any], source: str | None
) -> list[str]:
    """What the wanted instance asks to change that cannot change on an existing one.
    ``source`` is the wanted replica source as RDS reports it (an id in the same region, an ARN
    across regions), None for a primary."""
    name = item["id"]
    errors = []
    for option in IMMUTABLE:
        wanted = item.get(option)
        if wanted is None or current.get(option) is None:
            continue
        if option == "engine" and source:
            continue
        if wanted != current[option]:
            errors.append(
                f"{name}: {option} is {current[option]!r}, not {wanted!r}, and cannot change on "
                "an existing instance"
            )
    if (
        item.get("kms_key_id")
        and current.get("kms_key_id")
        and not same_key(current["kms_key_id"], item["kms_key_id"])
    ):
        errors.append(
            f"{name}: the storage is encrypted with {current['kms_key_id']}, not "
            f"{item['kms_key_id']}; the key of an existing instance cannot change"
        )
    if (
        item.get("performance_insights")
        and current.get("performance_insights")
        and item.get("performance_insights_kms_key_id")
        and current.get("performance_insights_kms_key_id")
        and not same_key(
            current["performance_insights_kms_key_id"], item["performance_insights_kms_key_id"]
        )
    ):
        errors.append(
            f"{name}: Performance Insights is encrypted with "
            f"{current['performance_insights_kms_key_id']}, not "
            f"{item['performance_insights_kms_key_id']}; that key cannot change once enabled"
        )
    if source is not None:
        current_source = current.get("source_id")
        if not current_source:
            errors.append(
                f"{name}: exists but is not a read replica (promoted?); it cannot become a "
                f"replica of {source}"
            )
        elif current_source.split(":")[-1].lower() != source.split(":")[-1].lower():
            errors.append(
                f"{name}: is a read replica of {current_source}, not of {source}; a replica's "
                "source cannot change"
            )
    elif current.get("source_id"):
        errors.append(
            f"{name}: is a read replica of {current['source_id']}; give source_id to manage it"
        )
    return errors


def _storage_changes(item: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    allocated = current.get("allocated_storage") or 0
    wanted_allocated = item.get("allocated_storage")
    if wanted_allocated is not None and wanted_allocated > allocated:
        params["AllocatedStorage"] = wanted_allocated
    for option, key in (("iops", "Iops"), ("storage_throughput", "StorageThroughput")):
        if item.get(option) is not None and item[option] != current.get(option):
            params[key] = item[option]
    if ("Iops" in params or "StorageThroughput" in params) and "AllocatedStorage" not in params:
        # RDS wants the storage size along with a new IOPS or throughput.
        params["AllocatedStorage"] = max(allocated, wanted_allocated or 0)
    return params


def modify_params(
    item: dict[str, Any], current: dict[str, Any], purge_tags: bool
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """``ModifyDBInstance`` parameters (without the identifier) for what differs, the tags to
    set and the tag keys to remove."""
    params: dict[str, Any] = {}
    replica = bool(item.get("source_id"))
    for option, (_describe, modify, _create, _replica_create) in SCALARS.items():
        wanted = item.get(option)
        if wanted is None:
            continue
        if option == "maintenance_window":
            wanted = wanted.lower()
        if option == "port" and current.get(option) is None:
            continue  # no endpoint yet (still being created): nothing to compare
        if wanted != current.get(option):
            params[modify] = item[option]
    if not replica:
        wanted_version = item.get("engine_version")
        current_version = current.get("engine_version")
        if (
            wanted_version
            and current_version
            and not version_satisfied(current_version, wanted_version)
            and version_tuple(wanted_version) > version_tuple(current_version)
        ):
            params["EngineVersion"] = wanted_version
            if version_tuple(wanted_version)[:1] != version_tuple(current_version)[:1]:
                params["AllowMajorVersionUpgrade"] = True
        params.update(_storage_changes(item, current))
        wanted_logs = item.get("log_exports")
        if wanted_logs is not None:
            have, want = set(current.get("log_exports") or []), set(wanted_logs)
            if have != want:
                params["CloudwatchLogsExportConfiguration"] = {
                    "EnableLogTypes": sorted(want - have),
                    "DisableLogTypes": sorted(have - want),
                }
    elif item.get("storage_throughput") is not None or item.get("iops") is not None:
        params.update(
            {k: v for k, v in _storage_changes(item, current).items() if k != "AllocatedStorage"}
        )
    groups = item.get("security_group_ids")
    if groups is not None and groups and sorted(set(groups)) != current.get("security_group_ids"):
        params["VpcSecurityGroupIds"] = list(groups)
    # Performance Insights: only what the instance reports is compared.
    wanted_pi = item.get("performance_insights")
    if wanted_pi is not None and current.get("performance_insights") is not None:
        if wanted_pi != current["performance_insights"]:
            params["EnablePerformanceInsights"] = wanted_pi
            if wanted_pi and item.get("performance_insights_kms_key_id"):
                params["PerformanceInsightsKMSKeyId"] = item["performance_insights_kms_key_id"]
            if wanted_pi and item.get("performance_insights_retention_period"):
                params["PerformanceInsightsRetentionPeriod"] = item[
                    "performance_insights_retention_period"
                ]
        elif (
            wanted_pi
            and item.get("performance_insights_retention_period") is not None
            and current.get("performance_insights_retention_period") is not None
            and item["performance_insights_retention_period"]
            != current["performance_insights_retention_period"]
        ):
            params["EnablePerformanceInsights"] = True
            params["PerformanceInsightsRetentionPeriod"] = item[
                "performance_insights_retention_period"
            ]
    interval = item.get("monitoring_interval")
    if interval is not None:
        role = item.get("monitoring_role_arn") if interval else None
        if interval != current.get("monitoring_interval") or (
            interval and role != current.get("monitoring_role_arn")
        ):
            params["MonitoringInterval"] = interval
            if interval:
                params["MonitoringRoleArn"] = role
    tags_to_set: dict[str, str] = {}
    tags_to_remove: list[str] = []
    if item.get("tags") is not None:
        tags_to_set, tags_to_remove = compare_aws_tags(
            current.get("tags") or {}, item["tags"], purge_tags
        )
    return params, tags_to_set, tags_to_remove


def create_params(item: dict[str, Any], source: str | None, source_region: str | None) -> dict:
    """``CreateDBInstance`` (primary) or ``CreateDBInstanceReadReplica`` (``source`` given)
    parameters. What a replica cannot be created with is left to a modify once it is available."""
    params: dict[str, Any] = {"DBInstanceIdentifier": item["id"]}
    replica = source is not None
    for option, (_describe, _modify, create, replica_create) in SCALARS.items():
        key = replica_create if replica else create
        if key and item.get(option) is not None:
            params[key] = item[option]
    if replica:
        params["SourceDBInstanceIdentifier"] = source
        if source_region:
            params["SourceRegion"] = source_region  # boto3 signs the PreSignedUrl with it
        for option, key in (("iops", "Iops"), ("storage_throughput", "StorageThroughput")):
            if item.get(option) is not None:
                params[key] = item[option]
    else:
        for option, key in (
            ("engine", "Engine"),
            ("engine_version", "EngineVersion"),
            ("allocated_storage", "AllocatedStorage"),
            ("iops", "Iops"),
            ("storage_throughput", "StorageThroughput"),
            ("storage_encrypted", "StorageEncrypted"),
            ("master_username", "MasterUsername"),
            ("master_user_password", "MasterUserPassword"),
            ("db_name", "DBName"),
        ):
            if item.get(option) is not None:
                params[key] = item[option]
        if item.get("log_exports"):
            params["EnableCloudwatchLogsExports"] = list(item["log_exports"])
    if item.get("kms_key_id") and (replica or item.get("storage_encrypted") is not False):
        params["KmsKeyId"] = item["kms_key_id"]
    if item.get("security_group_ids"):
        params["VpcSecurityGroupIds"] = list(item["security_group_ids"])
    if item.get("performance_insights") is not None:
        params["EnablePerformanceInsights"] = item["performance_insights"]
        if item["performance_insights"]:
            if item.get("performance_insights_retention_period"):
                params["PerformanceInsightsRetentionPeriod"] = item[
                    "performance_insights_retention_period"
                ]
            if item.get("performance_insights_kms_key_id"):
                params["PerformanceInsightsKMSKeyId"] = item["performance_insights_kms_key_id"]
    if item.get("monitoring_interval") is not None:
        params["MonitoringInterval"] = item["monitoring_interval"]
        if item["monitoring_interval"]:
            params["MonitoringRoleArn"] = item["monitoring_role_arn"]
    if item.get("tags"):
        params["Tags"] = ansible_dict_to_boto3_tag_list(item["tags"])
    return params


def wanted_state(item: dict[str, Any], current: dict[str, Any], purge_tags: bool) -> dict:
    """The managed attributes as they will be once the module has run (for the diff)."""
    after = dict(current)
    for option in MANAGED:
        if option in ("tags", "allocated_storage", "engine_version"):
            continue
        if item.get(option) is not None:
            after[option] = item[option]
    if item.get("maintenance_window"):
        after["maintenance_window"] = item["maintenance_window"].lower()
    if item.get("security_group_ids") is not None:
        after["security_group_ids"] = sorted(set(item["security_group_ids"]))
    if item.get("log_exports") is not None:
        after["log_exports"] = sorted(item["log_exports"])
    if item.get("allocated_storage") is not None:
        after["allocated_storage"] = max(
            item["allocated_storage"], current.get("allocated_storage") or 0
        )
    wanted_version, current_version = item.get("engine_version"), current.get("engine_version")
    if wanted_version and not (
        current_version and version_satisfied(current_version, wanted_version)
    ):
        after["engine_version"] = wanted_version
    if current:  # only what the instance reports is compared
        for option in (
            "performance_insights",
            "performance_insights_retention_period",
            "performance_insights_kms_key_id",
        ):
            if current.get(option) is None:
                after[option] = None
        if current.get("kms_key_id"):
            after["kms_key_id"] = current["kms_key_id"]
        if after.get("performance_insights_kms_key_id") and current.get(
            "performance_insights_kms_key_id"
        ):
            after["performance_insights_kms_key_id"] = current["performance_insights_kms_key_id"]
    if current.get("source_id"):
        after["source_id"] = current["source_id"]
    if not item.get("monitoring_interval"):
        after["monitoring_role_arn"] = current.get("monitoring_role_arn")
    if item.get("tags") is not None:
        have = current.get("tags") or {}
        to_set, to_remove = compare_aws_tags(have, item["tags"], purge_tags)
        after["tags"] = {k: v for k, v in {**have, **to_set}.items() if k not in to_remove}
    return {option: after.get(option) for option in MANAGED}


SUBNET_GROUP_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9 ._-]{0,254}$")


def validate_subnet_group(group: dict[str, Any]) -> list[str]:
    """What is wrong with one wanted DB subnet group on its own; empty when fine."""
    name = group["name"]
    errors = []
    if not SUBNET_GROUP_PATTERN.match(name) or name.lower() == "default":
        errors.append(
            f"subnet group {name}: up to 255 letters, digits, spaces, periods, underscores or "
            "hyphens, not 'default'"
        )
    if not group.get("subnet_ids"):
        errors.append(f"subnet group {name}: needs subnet_ids")
    return errors


def subnet_group_state(group: dict[str, Any] | None, tags: dict[str, str]) -> dict[str, Any]:
    """A described DB subnet group as the options that manage it ({} when there is none)."""
    if not group:
        return {}
    return {
        "description": group.get("DBSubnetGroupDescription", ""),
        "subnet_ids": sorted(s["SubnetIdentifier"] for s in group.get("Subnets") or []),
        "tags": tags,
    }
