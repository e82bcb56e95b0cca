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
    SSE-KMS with an S3 Bucket Key), the public access block, object ownership, a bucket policy
    and tags. An unchanged bucket costs six reads (versioning, encryption, public access block,
    ownership controls, policy, tags); writes happen only for what differs.
  - Written because M(amazon.aws.s3_bucket) takes one task per bucket and reads 13 to 14
    settings of each (ACL, requester pays, object lock, acceleration...) even when they are not
    managed, and does not support check mode. Here check mode reports what would be created or
    changed.
  - Lifecycle and replication are left to M(plinth.platform.s3_bucket_lifecycle) and
    M(plinth.platform.s3_bucket_replication); ACLs, object lock, website and the other settings
    are not managed.
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
  purge_tags:
    description: Whether tags not in O(buckets[].tags) are removed.
    type: bool
    default: true
  state:
    description: V(present) to make the buckets exist as given, V(absent) to delete them.
    type: str
    default: present
    choices: [present, absent]
notes:
  - S3 reads of a bucket's settings right after they were written may return the previous value
    for a moment; a rerun within seconds may then report a change once.
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
      description: The settings that were (or in check mode would be) set.
      type: list
      elements: str
      sample: [tags]
diff:
  description:
    - The buckets that changed, before and after, by name (only the settings that differ); a
      bucket of another region than the module's is under C(region:name).
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

    def use_region(self, region: str) -> None:
        """Work on the buckets of ``region`` from now on (one client per region)."""
        self.region = region
        self.client = self.module.client(
            "s3", retry_decorator=AWSRetry.jittered_backoff(), region=region
        )
        self.writer = self.module.client(
            "s3",
            retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=NEW_BUCKET_CODES),
            region=region,
        )

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
            before = {} if created else {g: current[g] for g in changes}
            self.before[self.diff_key(name)] = before
            self.after[self.diff_key(name)] = (
                desired if created else {g: desired[g] for g in changes}
            )
        return {
            "name": name,
            "region": self.region,
            "changed": created or bool(changes),
            "changes": changes,
        }

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

    def run(self) -> None:
        buckets = self.module.params["buckets"]
        names = [bucket["name"] for bucket in buckets]
        refuse_duplicates(self.module, names, "bucket names")  # global, whatever the region
        wanted = []
        for bucket in buckets:
            if not item_region(self.module, bucket):
                self.module.fail_json(msg=f"{bucket['name']}: no region (set region)")
            kms = bucket["encryption"] == "aws:kms"
            if kms and not bucket["encryption_key_id"] and self.module.params["state"] == "present":
                self.module.fail_json(msg=f"{bucket['name']}: aws:kms needs encryption_key_id")
            policy = bucket["policy"]
            wanted.append(dict(bucket, policy=json.loads(policy) if policy else None))
        results: list[dict[str, Any]] = [{}] * len(wanted)
        for region, indexes in by_region(self.module, wanted).items():
            self.use_region(region)
            for index in indexes:
                if self.module.params["state"] == "absent":
                    results[index] = self.delete_bucket(names[index])
                else:
                    results[index] = self.ensure_bucket(wanted[index])
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
