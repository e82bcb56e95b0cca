# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Bucket access shared by the modules that manage one configuration of an S3 bucket
(``s3_bucket_lifecycle``, ``s3_bucket_replication``, and ``s3_buckets``' ``lifecycle_rules`` and
``replication``): read it (a missing bucket is no configuration in check mode, where an earlier
task may only be about to create it), compare it with the requested one, write or delete it under
check mode, and report the result with its diff.
"""

from __future__ import annotations

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry


def s3_client(module: Any, region: str | None = None) -> Any:
    """An S3 client with retries, of ``region`` (default: the module's)."""
    extra = {"region": region} if region else {}
    return module.client("s3", retry_decorator=AWSRetry.jittered_backoff(), **extra)


def by_id(rule: dict[str, Any]) -> str:
    return rule["id"]


class BucketConfigurationManager:
    """A subclass names the configuration (``what``, ``result_key``, ``missing_code``: the error
    code of a bucket without one) and implements ``get`` (the raw response), ``parse`` (the
    normalised value, falsy when empty), ``put``, ``delete``, ``empty`` and ``ensure_present``
    (the value after the module ran, written with ``write``).
    """

    what = ""
    result_key = ""
    missing_code = ""

    def __init__(
        self, module: Any, name: str | None = None, client: Any = None, writer: Any = None
    ) -> None:
        """``name`` and ``client`` default to the module's ``name`` and a client of the module's
        region; a module that handles several buckets passes each bucket's (one client per
        region). ``writer`` (default: ``client``) makes the writes, e.g. a client that retries
        on a bucket created a moment ago."""
        self.module = module
        self.params = module.params
        self.name: str = module.params["name"] if name is None else name
        self.client = client or s3_client(module)
        self.writer = writer or self.client
        self.changed = False

    def get(self) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, response: dict[str, Any]) -> Any:
        raise NotImplementedError

    def put(self, desired: Any) -> None:
        raise NotImplementedError

    def delete(self) -> None:
        raise NotImplementedError

    def empty(self) -> Any:
        raise NotImplementedError

    def ensure_present(self, current: Any) -> Any:
        raise NotImplementedError

    def diff_view(self, value: Any) -> Any:
        return value

    def read(self) -> Any:
        try:
            response = self.get()
        except is_boto3_error_code(self.missing_code):
            return self.empty()
        except is_boto3_error_code("NoSuchBucket") as e:
            # In check mode the bucket may only be about to be created by an earlier task.
            if self.module.check_mode:
                return self.empty()
            self.module.fail_json_aws(e, msg=f"Bucket {self.name} does not exist")
        except (
            BotoCoreError,
            ClientError,
        ) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Failed to get the {self.what} of bucket {self.name}")
        return self.parse(response)

    def write(self, desired: Any) -> Any:
        self.changed = True
        if not self.module.check_mode:
            try:
                self.put(desired)
            except (BotoCoreError, ClientError) as e:
                self.module.fail_json_aws(
                    e, msg=f"Failed to set the {self.what} of bucket {self.name}"
                )
        return desired

    def remove(self, current: Any) -> Any:
        if not current:
            return self.empty()
        self.changed = True
        if not self.module.check_mode:
            try:
                self.delete()
            except (BotoCoreError, ClientError) as e:
                self.module.fail_json_aws(
                    e, msg=f"Failed to delete the {self.what} of bucket {self.name}"
                )
        return self.empty()

    def exit(self, current: Any, after: Any) -> None:
        result: dict[str, Any] = {"changed": self.changed, self.result_key: after}
        if self.module._diff:
            result["diff"] = {"before": self.diff_view(current), "after": self.diff_view(after)}
        self.module.exit_json(**result)

    def apply(self) -> None:
        """Read, converge to ``state``, exit with the result."""
        current = self.read()
        if self.params["state"] == "present":
            after = self.ensure_present(current)
        else:
            after = self.remove(current)
        self.exit(current, after)


# Lifecycle rules: the options of s3_bucket_lifecycle's rules and s3_buckets' lifecycle_rules.

STORAGE_CLASSES = [
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
]


def lifecycle_rule_spec() -> dict[str, Any]:
    """The argument spec of one lifecycle rule."""
    transition = dict(
        days=dict(type="int", required=True),
        storage_class=dict(type="str", required=True, choices=STORAGE_CLASSES),
    )
    return dict(
        id=dict(type="str", required=True),
        prefix=dict(type="str", default=""),
        status=dict(type="str", default="enabled", choices=["enabled", "disabled"]),
        transitions=dict(type="list", elements="dict", default=[], options=transition),
        expiration_days=dict(type="int"),
        noncurrent_version_expiration_days=dict(type="int"),
        abort_incomplete_multipart_upload_days=dict(type="int"),
    )


def duplicate_ids(rules: list[dict[str, Any]]) -> list[str]:
    """The rule IDs given more than once, sorted."""
    ids = [rule["id"] for rule in rules]
    return sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})


def normalise_lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A GetBucketLifecycleConfiguration rule in the modules' terms.

    AWS returns the prefix as ``Filter.Prefix``, ``Filter.And.Prefix``, the legacy top-level
    ``Prefix`` or not at all (``Filter: {}``); all mean the same prefix. Settings the modules do
    not manage are kept under ``unmanaged`` so that such a rule never compares equal.
    """
    rule_filter = dict(rule.get("Filter") or {})
    and_filter = dict(rule_filter.pop("And", None) or {})
    prefix = rule_filter.pop("Prefix", None) or and_filter.pop("Prefix", None) or ""
    prefix = prefix or rule.get("Prefix") or ""
    unmanaged: dict[str, Any] = {}
    if rule_filter or and_filter:
        unmanaged["Filter"] = {**rule_filter, **and_filter}
    expiration = dict(rule.get("Expiration") or {})
    expiration_days = expiration.pop("Days", None)
    if expiration.get("ExpiredObjectDeleteMarker") is False:
        expiration.pop("ExpiredObjectDeleteMarker")
    if expiration:
        unmanaged["Expiration"] = expiration
    noncurrent = dict(rule.get("NoncurrentVersionExpiration") or {})
    noncurrent_days = noncurrent.pop("NoncurrentDays", None)
    if noncurrent:
        unmanaged["NoncurrentVersionExpiration"] = noncurrent
    if rule.get("NoncurrentVersionTransitions"):
        unmanaged["NoncurrentVersionTransitions"] = rule["NoncurrentVersionTransitions"]
    transitions = []
    for transition in rule.get("Transitions") or []:
        if "Days" not in transition:
            unmanaged.setdefault("Transitions", []).append(transition)
            continue
        transitions.append(
            {"days": transition["Days"], "storage_class": transition["StorageClass"]}
        )
    abort = (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")
    result = {
        "id": rule.get("ID", ""),
        "prefix": prefix,
        "status": str(rule.get("Status", "Enabled")).lower(),
        "transitions": sorted(transitions, key=lambda t: (t["days"], t["storage_class"])),
        "expiration_days": expiration_days,
        "noncurrent_version_expiration_days": noncurrent_days,
        "abort_incomplete_multipart_upload_days": abort,
    }
    if unmanaged:
        result["unmanaged"] = unmanaged
    return result


def requested_lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A rule option in the same normalised form as :func:`normalise_lifecycle_rule`."""
    return {
        "id": rule["id"],
        "prefix": rule["prefix"] or "",
        "status": rule["status"],
        "transitions": sorted(
            ({"days": t["days"], "storage_class": t["storage_class"]} for t in rule["transitions"]),
            key=lambda t: (t["days"], t["storage_class"]),
        ),
        "expiration_days": rule["expiration_days"],
        "noncurrent_version_expiration_days": rule["noncurrent_version_expiration_days"],
        "abort_incomplete_multipart_upload_days": rule["abort_incomplete_multipart_upload_days"],
    }


def lifecycle_rule_to_boto3(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ID": rule["id"],
        "Filter": {"Prefix": rule["prefix"]},
        "Status": rule["status"].title(),
    }
    if rule["transitions"]:
        out["Transitions"] = [
            {"Days": t["days"], "StorageClass": t["storage_class"]} for t in rule["transitions"]
        ]
    if rule["expiration_days"] is not None:
        out["Expiration"] = {"Days": rule["expiration_days"]}
    if rule["noncurrent_version_expiration_days"] is not None:
        out["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["noncurrent_version_expiration_days"]
        }
    if rule["abort_incomplete_multipart_upload_days"] is not None:
        out["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": rule["abort_incomplete_multipart_upload_days"]
        }
    return out


class LifecycleManager(BucketConfigurationManager):
    """The whole lifecycle configuration of one bucket. ``rules`` and ``purge`` default to the
    module's ``rules`` and ``purge_rules``."""

    what = "lifecycle"
    result_key = "rules"
    missing_code = "NoSuchLifecycleConfiguration"

    def __init__(
        self,
        module: Any,
        name: str | None = None,
        client: Any = None,
        rules: list[dict[str, Any]] | None = None,
        purge: bool | None = None,
        writer: Any = None,
    ) -> None:
        super().__init__(module, name, client, writer)
        self.rules: list[dict[str, Any]] = module.params["rules"] if rules is None else rules
        self.purge: bool = module.params["purge_rules"] if purge is None else purge

    def get(self) -> dict[str, Any]:
        return self.client.get_bucket_lifecycle_configuration(aws_retry=True, Bucket=self.name)

    def parse(self, response: dict[str, Any]) -> list[dict[str, Any]]:
        """The bucket's rules, normalised (AWS keeps them, and returns them, in its own order)."""
        return sorted((normalise_lifecycle_rule(r) for r in response.get("Rules", [])), key=by_id)

    def put(self, desired: list[dict[str, Any]]) -> None:
        self.writer.put_bucket_lifecycle_configuration(
            aws_retry=True,
            Bucket=self.name,
            LifecycleConfiguration={"Rules": [lifecycle_rule_to_boto3(r) for r in desired]},
        )

    def delete(self) -> None:
        self.writer.delete_bucket_lifecycle(aws_retry=True, Bucket=self.name)

    def empty(self) -> list[dict[str, Any]]:
        return []

    def diff_view(self, value: list[dict[str, Any]]) -> dict[str, Any]:
        return {"rules": value}

    def desired_rules(self, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        requested = {rule["id"]: requested_lifecycle_rule(rule) for rule in self.rules}
        kept = [] if self.purge else [r for r in current if r["id"] not in requested]
        return sorted(kept + list(requested.values()), key=by_id)

    def ensure_present(self, current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Converge to the rules; none left (nothing requested, purged) deletes the
        configuration."""
        desired = self.desired_rules(current)
        if desired == current:
            return current
        if not desired:
            return self.remove(current)
        return self.write(desired)


# Replication: the options of s3_bucket_replication and of s3_buckets' replication.

REPLICATION_RULE_KEYS = (
    "id",
    "priority",
    "prefix",
    "status",
    "destination_bucket",
    "storage_class",
    "replica_kms_key_id",
    "replicate_kms_encrypted",
    "delete_marker_replication",
)


def replication_rule_spec() -> dict[str, Any]:
    """The argument spec of one replication rule."""
    return dict(
        id=dict(type="str", required=True),
        priority=dict(type="int", default=0),
        prefix=dict(type="str", default=""),
        status=dict(type="str", default="enabled", choices=["enabled", "disabled"]),
        destination_bucket=dict(type="str", required=True),
        storage_class=dict(type="str"),
        replica_kms_key_id=dict(type="str"),
        replicate_kms_encrypted=dict(type="bool", default=False),
        delete_marker_replication=dict(type="bool", default=False),
    )


def replication_rule_errors(rules: list[dict[str, Any]]) -> list[str]:
    """What is wrong with replication rules, before any call (empty when they are fine)."""
    errors = [
        f"Rule {rule['id']}: replica_kms_key_id requires replicate_kms_encrypted=true"
        for rule in rules
        if rule["replica_kms_key_id"] and not rule["replicate_kms_encrypted"]
    ]
    if duplicate_ids(rules):
        errors.append(f"Rule IDs must be unique: {', '.join(sorted(r['id'] for r in rules))}")
    return errors


def _enabled(value: dict[str, Any] | None) -> bool:
    return (value or {}).get("Status") == "Enabled"


def normalise_replication_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A GetBucketReplication rule in the modules' terms; unmanaged settings kept apart."""
    rule_filter = dict(rule.get("Filter") or {})
    prefix = rule_filter.pop("Prefix", None) or rule.get("Prefix") or ""
    destination = dict(rule.get("Destination") or {})
    selection = dict(rule.get("SourceSelectionCriteria") or {})
    result = {
        "id": rule.get("ID", ""),
        "priority": rule.get("Priority", 0),
        "prefix": prefix,
        "status": str(rule.get("Status", "Enabled")).lower(),
        "destination_bucket": destination.pop("Bucket", None),
        "storage_class": destination.pop("StorageClass", None),
        "replica_kms_key_id": (destination.pop("EncryptionConfiguration", None) or {}).get(
            "ReplicaKmsKeyID"
        ),
        "replicate_kms_encrypted": _enabled(selection.pop("SseKmsEncryptedObjects", None)),
        "delete_marker_replication": _enabled(rule.get("DeleteMarkerReplication")),
    }
    # AWS may report settings that are off as {"Status": "Disabled"}: only enabled ones count.
    enabled = [
        key
        for key, value in (
            ("ReplicaModifications", selection.pop("ReplicaModifications", None)),
            ("ExistingObjectReplication", rule.get("ExistingObjectReplication")),
        )
        if _enabled(value)
    ]
    unmanaged = {
        key: value
        for key, value in (
            ("Filter", rule_filter),
            ("Destination", destination),
            ("SourceSelectionCriteria", selection),
            ("Enabled", enabled),
        )
        if value
    }
    if unmanaged:
        result["unmanaged"] = unmanaged
    return result


def replication_rule_to_boto3(rule: dict[str, Any]) -> dict[str, Any]:
    destination: dict[str, Any] = {"Bucket": rule["destination_bucket"]}
    if rule["storage_class"]:
        destination["StorageClass"] = rule["storage_class"]
    if rule["replica_kms_key_id"]:
        destination["EncryptionConfiguration"] = {"ReplicaKmsKeyID": rule["replica_kms_key_id"]}
    out: dict[str, Any] = {
        "ID": rule["id"],
        "Priority": rule["priority"],
        "Filter": {"Prefix": rule["prefix"]},
        "Status": rule["status"].title(),
        "Destination": destination,
        "DeleteMarkerReplication": {
            "Status": "Enabled" if rule["delete_marker_replication"] else "Disabled"
        },
    }
    if rule["replicate_kms_encrypted"]:
        out["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    return out


class ReplicationManager(BucketConfigurationManager):
    """The replication configuration of one bucket. ``role`` and ``rules`` default to the
    module's."""

    what = "replication"
    result_key = "replication"
    missing_code = "ReplicationConfigurationNotFoundError"

    def __init__(
        self,
        module: Any,
        name: str | None = None,
        client: Any = None,
        role: str | None = None,
        rules: list[dict[str, Any]] | None = None,
        writer: Any = None,
    ) -> None:
        super().__init__(module, name, client, writer)
        self.role: str | None = module.params.get("role") if role is None else role
        self.rules: list[dict[str, Any]] = module.params["rules"] if rules is None else rules

    def get(self) -> dict[str, Any]:
        return self.client.get_bucket_replication(aws_retry=True, Bucket=self.name)

    def parse(self, response: dict[str, Any]) -> dict[str, Any]:
        config = response.get("ReplicationConfiguration") or {}
        rules = [normalise_replication_rule(rule) for rule in config.get("Rules", [])]
        return {"role": config.get("Role"), "rules": sorted(rules, key=by_id)}

    def put(self, desired: dict[str, Any]) -> None:
        self.writer.put_bucket_replication(
            aws_retry=True,
            Bucket=self.name,
            ReplicationConfiguration={
                "Role": desired["role"],
                "Rules": [replication_rule_to_boto3(rule) for rule in desired["rules"]],
            },
        )

    def delete(self) -> None:
        self.writer.delete_bucket_replication(aws_retry=True, Bucket=self.name)

    def empty(self) -> dict[str, Any]:
        return {}

    def desired(self) -> dict[str, Any]:
        rules = [{key: rule[key] for key in REPLICATION_RULE_KEYS} for rule in self.rules]
        return {"role": self.role, "rules": sorted(rules, key=by_id)}

    def ensure_present(self, current: dict[str, Any]) -> dict[str, Any]:
        """Converge to the role and rules; no rules deletes the configuration."""
        if not self.rules:
            return self.remove(current)
        desired = self.desired()
        if desired == current:
            return current
        return self.write(desired)
