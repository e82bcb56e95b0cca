#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_buckets
version_added: 0.1.0
short_description: Manage a set of private, encrypted S3 buckets in one task
description:
  - Makes a set of S3 buckets, each in its region (O(buckets[].region), default the module's
    region), exist with versioning, default encryption (SSE-S3 or
    SSE-KMS with an S3 Bucket Key), the public access block, object ownership, a bucket policy,
    tags and, when asked for, the lifecycle rules and the replication configuration. An unchanged
    bucket costs six reads (versioning, encryption, public access block, ownership controls,
    policy, tags), plus one per aspect asked for (C(GetBucketLifecycleConfiguration),
    C(GetBucketReplication)); writes happen only for what differs.
  - Written because M(amazon.aws.s3_bucket) takes one task per bucket and reads 13 to 14
    settings of each (ACL, requester pays, object lock, acceleration...) even when they are not
    managed, and does not support check mode. Here check mode reports what would be created or
    changed.
  - O(buckets[].lifecycle_rules) and O(buckets[].replication) have the semantics, validation and
    results of M(plinth.platform.s3_bucket_lifecycle) (rules purged to the list) and
    M(plinth.platform.s3_bucket_replication), which remain for managing one aspect of a bucket
    made elsewhere. A bucket and its DR copy, with versioning, lifecycle and replication, are then
    one task.
  - ACLs, object lock, website and the other settings are not managed.
  - With O(state=absent) empty buckets are deleted; a bucket that still holds objects or object
    versions fails the module (S3 refuses to delete it).
author:
  - Plinth engineering (!UNKNOWN)
options:
  buckets:
    description:
      - The buckets. Each is in O(buckets[].region), so one run can make the buckets of the
        primary and of the DR region. Bucket names are global, so a name may appear once.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The bucket name.
        type: str
        required: true
      region:
        description:
          - The region of the bucket; by default the module's region (O(region)).
          - One client is made per region and the buckets of a region are handled together.
        type: str
      versioning:
        description: Whether object versioning is enabled (an enabled one can only be suspended).
        type: bool
        default: true
      encryption:
        description: The default encryption.
        type: str
        default: aws:kms
        choices: [aws:kms, AES256]
      encryption_key_id:
        description: The KMS key (ARN) of O(buckets[].encryption=aws:kms).
        type: str
      bucket_key_enabled:
        description: Whether SSE-KMS uses an S3 Bucket Key (fewer KMS calls).
        type: bool
        default: true
      public_access_block:
        description: Whether all four public access block settings are on.
        type: bool
        default: true
      object_ownership:
        description: The object ownership setting.
        type: str
        default: BucketOwnerEnforced
        choices: [BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter]
      policy:
        description: The bucket policy (JSON string or dict); V(null) removes any policy.
        type: json
      tags:
        description: Tags of the bucket. See O(purge_tags).
        type: dict
        default: {}
      lifecycle_rules:
        description:
          - The bucket's whole lifecycle configuration, compared by rule ID regardless of order;
            rules not listed are removed, and V([]) deletes the lifecycle configuration.
          - Not given, the lifecycle configuration is left alone (and not read).
          - A rule that carries settings not managed here (tag or object-size filters,
            noncurrent-version transitions, expiration dates, delete-marker expiration) differs
            from the requested rule and is replaced by it.
        type: list
        elements: dict
        suboptions:
          id:
            description: The rule ID, unique in the bucket.
            required: true
            type: str
          prefix:
            description: The object key prefix the rule applies to; V("") for every object.
            default: ""
            type: str
          status:
            description: Whether the rule is applied.
            default: enabled
            choices: [enabled, disabled]
            type: str
          transitions:
            description: Transitions of current objects to other storage classes.
            type: list
            elements: dict
            default: []
            suboptions:
              days:
                description: Days after creation.
                required: true
                type: int
              storage_class:
                description: The target storage class.
                required: true
                choices:
                  - STANDARD_IA
                  - ONEZONE_IA
                  - INTELLIGENT_TIERING
                  - GLACIER_IR
                  - GLACIER
                  - DEEP_ARCHIVE
                type: str
          expiration_days:
            description: Days after creation when current objects expire.
            type: int
          noncurrent_version_expiration_days:
            description: Days after becoming noncurrent when object versions are deleted.
            type: int
          abort_incomplete_multipart_upload_days:
            description: Days after initiation when incomplete multipart uploads are aborted.
            type: int
      replication:
        description:
          - The bucket's replication configuration, compared as a whole (the role and every rule,
            by rule ID regardless of order) and written in one call when it differs.
          - Replication is set after every bucket of the run has been created and versioned, so
            its destination (for example the DR copy, in its region, in the same O(buckets)) exists
            with versioning by then. Both buckets need versioning enabled.
          - O(buckets[].replication.rules=[]) deletes the replication configuration; not given,
            it is left alone (and not read).
        type: dict
        suboptions:
          role:
            description:
              - The ARN of the IAM role S3 assumes to replicate objects.
              - Required when O(buckets[].replication.rules) is not empty.
            type: str
          rules:
            description: The replication rules.
            type: list
            elements: dict
            default: []
            suboptions:
              id:
                description: The rule ID, unique in the bucket.
                required: true
                type: str
              priority:
                description: The rule's priority; higher wins when rules overlap.
                default: 0
                type: int
              prefix:
                description: The object key prefix the rule applies to; V("") for every object.
                default: ""
                type: str
              status:
                description: Whether the rule is applied.
                default: enabled
                choices: [enabled, disabled]
                type: str
              destination_bucket:
                description: The ARN of the destination bucket (C(arn:aws:s3:::name)).
                required: true
                type: str
              storage_class:
                description: The storage class of the replicas; by default the source object's.
                type: str
              replica_kms_key_id:
                description:
                  - The ARN of the KMS key, in the destination's region, that encrypts the replicas.
                  - Requires O(buckets[].replication.rules[].replicate_kms_encrypted=true).
                type: str
              replicate_kms_encrypted:
                description: Whether objects encrypted with SSE-KMS are replicated.
                default: false
                type: bool
              delete_marker_replication:
                description: Whether delete markers are replicated.
                default: false
                type: bool
  purge_tags:
    description: Whether tags not in O(buckets[].tags) are removed.
    type: bool
    default: true
  state:
    description:
      - V(present) to make the buckets exist as given, V(absent) to delete them (their
        O(buckets[].lifecycle_rules) and O(buckets[].replication) are then ignored).
    type: str
    default: present
    choices: [present, absent]
notes:
  - S3 reads of a bucket's settings right after they were written may return the previous value
    for a moment; a rerun within seconds may then report a change once.
  - The moto emulator (5.2.5) drops C(SourceSelectionCriteria), C(DeleteMarkerReplication) and
    the prefix from C(GetBucketReplication) (see M(plinth.platform.s3_bucket_replication)), so
    against moto a replication rule using them is reported as changed on every run.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: Private SSE-KMS buckets
  plinth.platform.s3_buckets:
    buckets:
      - name: plinth-production-raw
        encryption_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-123456
        tags: {Environment: production}
      - name: plinth-production-logs
        versioning: false
        encryption: AES256

- name: A bucket and its DR copy in one task
  plinth.platform.s3_buckets:
    buckets:
      - name: plinth-production-raw
        encryption: AES256
      - name: plinth-production-raw-dr
        region: us-west-2
        encryption: AES256

- name: Source and DR copy with lifecycle tiers and replication, in one task
  plinth.platform.s3_buckets:
    buckets:
      - name: plinth-production-raw
        encryption_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-123456
        lifecycle_rules:
          - id: tiers
            transitions:
              - {days: 30, storage_class: STANDARD_IA}
              - {days: 90, storage_class: GLACIER_IR}
            noncurrent_version_expiration_days: 30
            abort_incomplete_multipart_upload_days: 7
        replication:
          role: arn:aws:iam::123456789012:role/plinth-production-s3-replication
          rules:
            - id: dr
              destination_bucket: arn:aws:s3:::plinth-production-raw-dr
              replicate_kms_encrypted: true
              replica_kms_key_id: arn:aws:kms:us-west-2:123456789012:key/0f0e0d0c-0b0a-0908-0706
      # Created (with versioning) before the replication above is set.
      - name: plinth-production-raw-dr
        region: us-west-2
        encryption_key_id: arn:aws:kms:us-west-2:123456789012:key/0f0e0d0c-0b0a-0908-0706
        lifecycle_rules: []

- name: Stop replicating a bucket (its other settings as before)
  plinth.platform.s3_buckets:
    buckets:
      - name: plinth-production-raw
        encryption_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-123456
        replication: {rules: []}
"""

RETURN = r"""
changed:
  description: Whether any bucket was created, changed or deleted (in check mode, would be).
  type: bool
  returned: always
  sample: false
buckets:
  description: The buckets in the order of O(buckets), as they are after the module ran.
  type: list
  elements: dict
  returned: always
  contains:
    name:
      description: The bucket name.
      type: str
      sample: plinth-production-raw
    region:
      description: The region of the bucket.
      type: str
      sample: us-east-1
    changed:
      description: Whether this bucket was created, changed or deleted.
      type: bool
      sample: false
    changes:
      description:
        - The settings that were (or in check mode would be) set; C(lifecycle_rules) and
          C(replication) for those aspects.
      type: list
      elements: str
      sample: [tags]
    lifecycle_rules:
      description:
        - The bucket's lifecycle rules after the module ran (in check mode, as they would be),
          normalised like O(buckets[].lifecycle_rules) and sorted by ID, as
          M(plinth.platform.s3_bucket_lifecycle) returns them.
      type: list
      elements: dict
      returned: when O(buckets[].lifecycle_rules) is given and O(state=present)
      sample: []
    replication:
      description:
        - The bucket's replication configuration after the module ran (in check mode, as it would
          be), C(role) and C(rules) normalised like O(buckets[].replication) with the rules sorted
          by ID, as M(plinth.platform.s3_bucket_replication) returns it; empty when there is none.
      type: dict
      returned: when O(buckets[].replication) is given and O(state=present)
      sample: {}
diff:
  description:
    - The buckets that changed, before and after, by name (only the settings that differ, with
      C(lifecycle_rules) and C(replication) as the modules that manage them alone return them);
      a bucket of another region than the module's is under C(region:name).
  type: dict
  returned: when diff mode is on
"""

import contextlib
import json
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
)
from ansible_collections.plinth.platform.plugins.module_utils.bulk import (
    by_region,
    diff_key,
    item_region,
    refuse_duplicates,
)
from ansible_collections.plinth.platform.plugins.module_utils.s3 import (
    LifecycleManager,
    ReplicationManager,
    duplicate_ids,
    lifecycle_rule_spec,
    replication_rule_errors,
    replication_rule_spec,
)

PUBLIC_ACCESS_KEYS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)
# A freshly created bucket may not answer for a moment (S3 is eventually consistent).
NEW_BUCKET_CODES = ["NoSuchBucket", "OperationAborted"]


class Missing(Exception):
    """The bucket does not exist."""


class S3BucketsManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.client: Any = None
        self.writer: Any = None
        self.region = module.region
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}
        self.clients: dict[str, tuple[Any, Any]] = {}
        self.created: set[str] = set()

    def use_region(self, region: str) -> None:
        """Work on the buckets of ``region`` from now on (one client per region)."""
        self.region = region
        if region not in self.clients:
            self.clients[region] = (
                self.module.client(
                    "s3", retry_decorator=AWSRetry.jittered_backoff(), region=region
                ),
                self.module.client(
                    "s3",
                    retry_decorator=AWSRetry.jittered_backoff(
                        catch_extra_error_codes=NEW_BUCKET_CODES
                    ),
                    region=region,
                ),
            )
        self.client, self.writer = self.clients[region]

    def diff_key(self, name: str) -> str:
        return diff_key(self.module, self.region, name)

    def fail(self, e: Exception, msg: str) -> None:
        self.module.fail_json_aws(e, msg=msg)

    def get(self, action: str, name: str, absent: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """A bucket setting; None when S3 answers one of the ``absent`` codes (not set)."""
        try:
            return getattr(self.client, action)(aws_retry=True, Bucket=name)
        except is_boto3_error_code("NoSuchBucket"):
            raise Missing(name) from None
        except is_boto3_error_code(list(absent) or ["-"]):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.fail(e, f"Failed to read {action.removeprefix('get_')} of bucket {name}")
        return None

    def current(self, name: str) -> dict[str, Any] | None:
        """The managed settings of the bucket, or None when it does not exist."""
        try:
            versioning = self.get("get_bucket_versioning", name)
        except Missing:
            return None
        encryption = self.get(
            "get_bucket_encryption", name, ("ServerSideEncryptionConfigurationNotFoundError",)
        )
        rule = ((encryption or {}).get("ServerSideEncryptionConfiguration") or {}).get(
            "Rules", [{}]
        )[0]
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        block = self.get("get_public_access_block", name, ("NoSuchPublicAccessBlockConfiguration",))
        block_config = (block or {}).get("PublicAccessBlockConfiguration") or {}
        ownership = self.get(
            "get_bucket_ownership_controls", name, ("OwnershipControlsNotFoundError",)
        )
        ownership_rules = ((ownership or {}).get("OwnershipControls") or {}).get("Rules") or [{}]
        policy = self.get("get_bucket_policy", name, ("NoSuchBucketPolicy",))
        tagging = self.get("get_bucket_tagging", name, ("NoSuchTagSet", "NoSuchTagSetError"))
        return {
            "versioning": (versioning or {}).get("Status") == "Enabled",
            "versioning_status": (versioning or {}).get("Status", ""),
            "encryption": default.get("SSEAlgorithm", ""),
            "encryption_key_id": default.get("KMSMasterKeyID", ""),
            "bucket_key_enabled": bool(rule.get("BucketKeyEnabled", False)),
            "public_access_block": all(block_config.get(k) for k in PUBLIC_ACCESS_KEYS),
            "object_ownership": ownership_rules[0].get("ObjectOwnership", ""),
            "policy": json.loads(policy["Policy"]) if policy else None,
            "tags": boto3_tag_list_to_ansible_dict((tagging or {}).get("TagSet", [])),
        }

    def desired(self, wanted: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
        kms = wanted["encryption"] == "aws:kms"
        tags = dict(wanted["tags"])
        if not self.module.params["purge_tags"]:
            tags = {**current["tags"], **tags}
        policy = wanted["policy"]
        same = policy is not None and current["policy"] is not None
        if same and not compare_policies(current["policy"], policy):
            policy = current["policy"]  # the same policy, as S3 spells it
        return {
            "versioning": wanted["versioning"],
            "encryption": wanted["encryption"],
            "encryption_key_id": (wanted["encryption_key_id"] or "") if kms else "",
            "bucket_key_enabled": wanted["bucket_key_enabled"] if kms else False,
            "public_access_block": wanted["public_access_block"],
            "object_ownership": wanted["object_ownership"],
            "policy": policy,
            "tags": tags,
        }

    def write(self, name: str, setting: str, desired: dict[str, Any], current: dict[str, Any]):
        """Set one setting group of the bucket to its desired value."""
        client = self.writer
        if setting == "versioning":
            if not desired["versioning"] and not current.get("versioning_status"):
                return  # never versioned: nothing to suspend
            status = "Enabled" if desired["versioning"] else "Suspended"
            client.put_bucket_versioning(
                aws_retry=True, Bucket=name, VersioningConfiguration={"Status": status}
            )
        elif setting == "encryption":
            default = {"SSEAlgorithm": desired["encryption"]}
            if desired["encryption_key_id"]:
                default["KMSMasterKeyID"] = desired["encryption_key_id"]
            client.put_bucket_encryption(
                aws_retry=True,
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": default,
                            "BucketKeyEnabled": desired["bucket_key_enabled"],
                        }
                    ]
                },
            )
        elif setting == "public_access_block":
            if desired["public_access_block"]:
                client.put_public_access_block(
                    aws_retry=True,
                    Bucket=name,
                    PublicAccessBlockConfiguration=dict.fromkeys(PUBLIC_ACCESS_KEYS, True),
                )
            else:
                client.delete_public_access_block(aws_retry=True, Bucket=name)
        elif setting == "object_ownership":
            client.put_bucket_ownership_controls(
                aws_retry=True,
                Bucket=name,
                OwnershipControls={"Rules": [{"ObjectOwnership": desired["object_ownership"]}]},
            )
        elif setting == "policy":
            if desired["policy"] is None:
                client.delete_bucket_policy(aws_retry=True, Bucket=name)
            else:
                client.put_bucket_policy(
                    aws_retry=True, Bucket=name, Policy=json.dumps(desired["policy"])
                )
        elif setting == "tags":
            if desired["tags"]:
                client.put_bucket_tagging(
                    aws_retry=True,
                    Bucket=name,
                    Tagging={"TagSet": ansible_dict_to_boto3_tag_list(desired["tags"])},
                )
            else:
                client.delete_bucket_tagging(aws_retry=True, Bucket=name)

    def differing(self, desired: dict[str, Any], current: dict[str, Any]) -> list[str]:
        groups = {
            "versioning": ("versioning",),
            "encryption": ("encryption", "encryption_key_id", "bucket_key_enabled"),
            "public_access_block": ("public_access_block",),
            "object_ownership": ("object_ownership",),
            "policy": ("policy",),
            "tags": ("tags",),
        }
        return [g for g, keys in groups.items() if any(desired[k] != current[k] for k in keys)]

    def create(self, name: str, ownership: str) -> None:
        params: dict[str, Any] = {"Bucket": name, "ObjectOwnership": ownership}
        if self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.writer.create_bucket(aws_retry=True, **params)
            self.client.get_waiter("bucket_exists").wait(
                Bucket=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to create bucket {name}")

    def ensure_bucket(self, wanted: dict[str, Any]) -> dict[str, Any]:
        name = wanted["name"]
        current = self.current(name)
        created = current is None
        if created:
            # A new bucket: every setting is written except what CreateBucket sets (ownership) or
            # what is empty anyway; the account's defaults for new buckets are not relied on.
            current = {
                "versioning": False,
                "versioning_status": "",
                "encryption": "",
                "encryption_key_id": "",
                "bucket_key_enabled": False,
                "public_access_block": None,
                "object_ownership": wanted["object_ownership"],
                "policy": None,
                "tags": {},
            }
        desired = self.desired(wanted, current)
        changes = self.differing(desired, current)
        if not self.module.check_mode:
            if created:
                self.create(name, wanted["object_ownership"])
            for setting in changes:
                try:
                    self.write(name, setting, desired, current)
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    self.fail(e, f"Failed to set {setting} of bucket {name}")
        if created or changes:
            self.changed = True
            key = self.diff_key(name)
            self.before[key] = {} if created else {g: current[g] for g in changes}
            self.after[key] = desired if created else {g: desired[g] for g in changes}
        if created:
            self.created.add(name)
        result = {
            "name": name,
            "region": self.region,
            "changed": created or bool(changes),
            "changes": changes,
        }
        if wanted["lifecycle_rules"] is not None:
            lifecycle = LifecycleManager(
                self.module,
                name,
                client=self.client,
                writer=self.writer,
                rules=wanted["lifecycle_rules"],
                purge=True,
            )
            self.converge(result, lifecycle, "lifecycle_rules")
        return result

    def converge(self, result: dict[str, Any], manager: Any, aspect: str) -> None:
        """Converge one configuration of the bucket (``lifecycle_rules``, ``replication``)
        through its manager, and note it in the bucket's result and diff. A bucket this run
        creates has none: nothing to read."""
        name = result["name"]
        current = manager.empty() if name in self.created else manager.read()
        after = manager.ensure_present(current)
        result[aspect] = after
        if manager.changed:
            self.changed = result["changed"] = True
            result["changes"].append(aspect)
            key = self.diff_key(name)
            before = self.before.setdefault(key, {})
            if name not in self.created:
                before[aspect] = current
            self.after.setdefault(key, {})[aspect] = after

    def ensure_replication(self, wanted: dict[str, Any], result: dict[str, Any]) -> None:
        replication = wanted["replication"]
        manager = ReplicationManager(
            self.module,
            wanted["name"],
            client=self.client,
            writer=self.writer,
            role=replication["role"],
            rules=replication["rules"],
        )
        self.converge(result, manager, "replication")

    def delete_bucket(self, name: str) -> dict[str, Any]:
        try:
            self.client.head_bucket(aws_retry=True, Bucket=name)
        except is_boto3_error_code(["404", "NoSuchBucket", "NotFound"]):
            return {"name": name, "region": self.region, "changed": False, "changes": []}
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.fail(e, f"Failed to find bucket {name}")
        if not self.module.check_mode:
            try:
                self.writer.delete_bucket(aws_retry=True, Bucket=name)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.fail(e, f"Failed to delete bucket {name} (it must be empty)")
        self.changed = True
        self.before[self.diff_key(name)] = {"exists": True}
        self.after[self.diff_key(name)] = {}
        return {"name": name, "region": self.region, "changed": True, "changes": ["deleted"]}

    def refuse_bad_bucket(self, bucket: dict[str, Any]) -> None:
        """Fail on what S3 would refuse, or what the module cannot do, before any call."""
        name = bucket["name"]
        if not item_region(self.module, bucket):
            self.module.fail_json(msg=f"{name}: no region (set region)")
        if self.module.params["state"] == "absent":
            return
        if bucket["encryption"] == "aws:kms" and not bucket["encryption_key_id"]:
            self.module.fail_json(msg=f"{name}: aws:kms needs encryption_key_id")
        duplicates = duplicate_ids(bucket["lifecycle_rules"] or [])
        if duplicates:
            self.module.fail_json(
                msg=f"{name}: lifecycle_rules: Duplicate rule IDs: {', '.join(duplicates)}"
            )
        replication = bucket["replication"]
        if replication is None:
            return
        if replication["rules"] and not replication["role"]:
            self.module.fail_json(msg=f"{name}: replication: role is required with rules")
        errors = replication_rule_errors(replication["rules"])
        if errors:
            self.module.fail_json(msg=f"{name}: replication: {errors[0]}")

    def run(self) -> None:
        buckets = self.module.params["buckets"]
        names = [bucket["name"] for bucket in buckets]
        refuse_duplicates(self.module, names, "bucket names")  # global, whatever the region
        wanted = []
        for bucket in buckets:
            self.refuse_bad_bucket(bucket)
            policy = bucket["policy"]
            wanted.append(dict(bucket, policy=json.loads(policy) if policy else None))
        results: list[dict[str, Any]] = [{}] * len(wanted)
        regions = by_region(self.module, wanted)
        for region, indexes in regions.items():
            self.use_region(region)
            for index in indexes:
                if self.module.params["state"] == "absent":
                    results[index] = self.delete_bucket(names[index])
                else:
                    results[index] = self.ensure_bucket(wanted[index])
        # Replication last: its destinations (e.g. the DR copies, in their region) are then
        # created and versioned, as S3 requires, whatever the order of the buckets.
        if self.module.params["state"] == "present":
            for region, indexes in regions.items():
                replicated = [i for i in indexes if wanted[i]["replication"] is not None]
                if replicated:
                    self.use_region(region)
                for index in replicated:
                    self.ensure_replication(wanted[index], results[index])
        out: dict[str, Any] = {"changed": self.changed, "buckets": results}
        if self.module._diff:
            out["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**out)


def main() -> None:
    bucket = dict(
        name=dict(type="str", required=True),
        region=dict(type="str"),
        versioning=dict(type="bool", default=True),
        encryption=dict(type="str", default="aws:kms", choices=["aws:kms", "AES256"]),
        encryption_key_id=dict(type="str", no_log=False),
        bucket_key_enabled=dict(type="bool", default=True, no_log=False),
        public_access_block=dict(type="bool", default=True),
        object_ownership=dict(
            type="str",
            default="BucketOwnerEnforced",
            choices=["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"],
        ),
        policy=dict(type="json"),
        tags=dict(type="dict", default={}),
        lifecycle_rules=dict(type="list", elements="dict", options=lifecycle_rule_spec()),
        replication=dict(
            type="dict",
            options=dict(
                role=dict(type="str"),
                rules=dict(
                    type="list", elements="dict", default=[], options=replication_rule_spec()
                ),
            ),
        ),
    )
    argument_spec = dict(
        buckets=dict(type="list", elements="dict", required=True, options=bucket),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    S3BucketsManager(module).run()


if __name__ == "__main__":
    main()
