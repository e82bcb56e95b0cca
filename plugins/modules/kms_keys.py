#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kms_keys
version_added: 0.1.0
short_description: Manage a set of customer-managed KMS keys, each known by its alias, in one task
description:
  - Makes a set of symmetric (or other) customer-managed KMS keys exist, each found by its alias
    in its region (O(keys[].region), default the module's region), with their description,
    enabled state, automatic rotation, tags and, when given, the key policy. A missing key is
    created with its alias; a key scheduled for deletion has the deletion cancelled and is
    enabled again (its data stays readable).
  - Written because M(amazon.aws.kms_key) makes about 20 API calls per key even when nothing
    changes (it lists every alias of the account twice, every grant, every policy, and reads the
    whole key again after updating it) and takes one task per key. This module proves a key
    unchanged with three calls (C(DescribeKey) by alias, C(GetKeyRotationStatus),
    C(ListResourceTags)), plus C(GetKeyPolicy) when O(keys[].policy) is given, and writes only
    what differs.
  - Grants are not managed (keys made by this module have none); use M(amazon.aws.kms_key) for
    grants or multi-Region keys.
  - With O(state=absent) each key is scheduled for deletion after O(pending_window) days; a key
    already scheduled, or not found, is left alone. Aliases go with their key when it is deleted.
author:
  - Plinth engineering (!UNKNOWN)
options:
  keys:
    description:
      - The keys. Each is in O(keys[].region), so one run can make the keys of the primary and
        of the DR region; an alias must be unique within a region.
    type: list
    elements: dict
    required: true
    suboptions:
      alias:
        description:
          - The key's alias, with or without the C(alias/) prefix. It identifies the key; it must
            not start with C(alias/aws/) (reserved for AWS managed keys).
        type: str
        required: true
      region:
        description:
          - The region of the key; by default the module's region (O(region)).
          - One client is made per region and the keys of a region are handled together.
        type: str
      description:
        description:
          - The key description. V(null) leaves an existing key's description as it is.
        type: str
      enabled:
        description:
          - Whether the key can be used for cryptographic operations.
        type: bool
        default: true
      enable_key_rotation:
        description:
          - Whether KMS rotates the key material automatically (yearly). Only symmetric
            encryption keys support rotation.
        type: bool
        default: true
      policy:
        description:
          - The key policy (a JSON string or a dict). When omitted, a new key gets the AWS default
            key policy and an existing key's policy is not read nor changed.
        type: json
      tags:
        description:
          - Tags of the key. See O(purge_tags).
        type: dict
        default: {}
      key_spec:
        description:
          - The key spec of a new key. An existing key with another spec fails the module (the
            spec of a key cannot change).
        type: str
        default: SYMMETRIC_DEFAULT
        choices:
          - SYMMETRIC_DEFAULT
          - RSA_2048
          - RSA_3072
          - RSA_4096
          - ECC_NIST_P256
          - ECC_NIST_P384
          - ECC_NIST_P521
          - ECC_SECG_P256K1
          - HMAC_224
          - HMAC_256
          - HMAC_384
          - HMAC_512
      key_usage:
        description:
          - The key usage of a new key; as with O(keys[].key_spec), an existing key must match.
        type: str
        default: ENCRYPT_DECRYPT
        choices: [ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC]
  purge_tags:
    description:
      - Whether tags not in O(keys[].tags) are removed from the keys.
    type: bool
    default: true
  state:
    description:
      - V(present) to make the keys exist as given, V(absent) to schedule them for deletion.
    type: str
    default: present
    choices: [present, absent]
  pending_window:
    description:
      - With O(state=absent), the days (7 to 30) before KMS deletes a key scheduled for deletion.
    type: int
    default: 30
notes:
  - KMS is eventually consistent, so calls on a key right after it was created may answer
    C(NotFoundException) for a moment; the module retries those.
  - KMS changes the rotation of enabled keys only; a key that is to stay disabled keeps the
    rotation status it has.
  - In check mode a key that does not exist yet is reported with an empty ARN
    (RV(keys[].key_arn) is V("")).
  - The embedded AWS emulator (moto 5.2.5) answers C(ScheduleKeyDeletion) and
    C(CancelKeyDeletion) only for a bare key ID, not a key ARN; the module passes the key ID,
    which AWS accepts as well.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: The keys of a stack, rotated yearly
  plinth.platform.kms_keys:
    keys:
      - alias: alias/plinth-production-storage
        description: Plinth plinth-production storage (S3 buckets, secrets)
        tags: {Environment: production, "plinth:stack": plinth-production}
      - alias: plinth-production-rds
        description: Encrypts the plinth-production databases
        tags: {Environment: production, "plinth:stack": plinth-production}
  register: keys

- name: The ARN of the first key
  ansible.builtin.debug:
    msg: "{{ keys['keys'][0].key_arn }}"

- name: A key with its own policy, not rotated
  plinth.platform.kms_keys:
    region: us-west-2
    keys:
      - alias: alias/plinth-production-audit
        enable_key_rotation: false
        policy:
          Version: "2012-10-17"
          Statement:
            - Sid: Root
              Effect: Allow
              Principal: {AWS: "arn:aws:iam::123456789012:root"}
              Action: "kms:*"
              Resource: "*"

- name: The storage key in the primary and in the DR region, in one task
  plinth.platform.kms_keys:
    keys:
      - alias: alias/plinth-production-storage
      - alias: alias/plinth-production-storage
        region: us-west-2
  register: keys

- name: Schedule the keys for deletion in 7 days
  plinth.platform.kms_keys:
    keys:
      - alias: alias/plinth-production-storage
      - alias: alias/plinth-production-rds
    state: absent
    pending_window: 7
"""

RETURN = r"""
changed:
  description: Whether any key was created or changed (in check mode, would be).
  type: bool
  returned: always
  sample: false
keys:
  description:
    - The keys in the order of O(keys), after the module ran (in check mode, as they would be).
  type: list
  elements: dict
  returned: always
  contains:
    alias:
      description: The alias, with the C(alias/) prefix.
      type: str
      sample: alias/plinth-production-storage
    region:
      description: The region of the key.
      type: str
      sample: us-east-1
    key_id:
      description: The key ID; V("") for a key that does not exist (check mode, or O(state=absent)).
      type: str
      sample: 1234abcd-12ab-34cd-56ef-1234567890ab
    key_arn:
      description: The key ARN; V("") when the key does not exist.
      type: str
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    key_state:
      description: The key state (V(Enabled), V(Disabled), V(PendingDeletion)...); V("") when none.
      type: str
      sample: Enabled
    description:
      description: The key description.
      type: str
      sample: Plinth plinth-production storage (S3 buckets, secrets)
    enabled:
      description: Whether the key is enabled.
      type: bool
      sample: true
    enable_key_rotation:
      description: Whether automatic rotation is on.
      type: bool
      sample: true
    tags:
      description: The key's tags.
      type: dict
      sample: {Environment: production}
    changed:
      description: Whether this key was created or changed.
      type: bool
      sample: false
diff:
  description:
    - The keys that changed, before and after, by alias (only what the module manages); a key of
      another region than the module's is under C(region:alias).
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
    compare_aws_tags,
)
from ansible_collections.plinth.platform.plugins.module_utils.bulk import (
    by_region,
    call,
    diff_key,
    item_region,
    refuse_duplicates_by_region,
)

KEY_SPECS = [
    "SYMMETRIC_DEFAULT",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
]
KEY_USAGES = ["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC"]
# States a key can be brought to the requested state from; the others (Creating, PendingImport,
# Unavailable, Updating, PendingReplicaDeletion) are left for the user to resolve.
MANAGEABLE_STATES = {"Enabled", "Disabled", "PendingDeletion"}


def canonical_alias(alias: str) -> str:
    return alias if alias.startswith("alias/") else f"alias/{alias}"


class KmsKeysManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.region = module.region
        self.client: Any = None
        self.new_key_client: Any = None
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def use_region(self, region: str) -> None:
        """Work on the keys of ``region`` from now on (one client per region)."""
        self.region = region
        self.client = self.module.client(
            "kms", retry_decorator=AWSRetry.jittered_backoff(), region=region
        )
        # A key just created may not be found for a moment (KMS is eventually consistent).
        self.new_key_client = self.module.client(
            "kms",
            retry_decorator=AWSRetry.jittered_backoff(
                retries=8, catch_extra_error_codes=["NotFoundException"]
            ),
            region=region,
        )

    def diff_key(self, alias: str) -> str:
        return diff_key(self.module, self.region, alias)

    def fail(self, e: Exception, msg: str) -> None:
        self.module.fail_json_aws(e, msg=msg)

    # Reads -------------------------------------------------------------------------------------

    def describe(self, alias: str) -> dict[str, Any] | None:
        """The key the alias points at, or None when there is no such alias."""
        try:
            return self.client.describe_key(aws_retry=True, KeyId=alias)["KeyMetadata"]
        except is_boto3_error_code("NotFoundException"):
            return None
        except (
            botocore.exceptions.ClientError,
            botocore.exceptions.BotoCoreError,
        ) as e:  # pylint: disable=duplicate-except
            self.fail(e, f"Failed to describe the key of {alias}")
        return None

    def rotation(self, metadata: dict[str, Any]) -> bool | None:
        key_id = metadata["KeyId"]
        if metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            return False  # only symmetric encryption keys rotate
        if metadata["KeyState"] == "PendingDeletion":
            return None  # reads false until the deletion is cancelled, which restores it
        try:
            status = self.client.get_key_rotation_status(aws_retry=True, KeyId=key_id)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to get the rotation status of key {key_id}")
        return bool(status.get("KeyRotationEnabled"))

    def tags(self, key_id: str) -> dict[str, str]:
        tags: list[dict[str, str]] = []
        params: dict[str, str] = {"KeyId": key_id}
        try:
            while True:  # ListResourceTags has no paginator
                page = self.client.list_resource_tags(aws_retry=True, **params)
                tags.extend(page.get("Tags", []))
                if not page.get("Truncated") or not page.get("NextMarker"):
                    break
                params["Marker"] = page["NextMarker"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to list the tags of key {key_id}")
        return boto3_tag_list_to_ansible_dict(tags, "TagKey", "TagValue")

    def policy(self, key_id: str) -> dict[str, Any]:
        try:
            response = self.client.get_key_policy(
                aws_retry=True, KeyId=key_id, PolicyName="default"
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            self.fail(e, f"Failed to get the policy of key {key_id}")
        return json.loads(response["Policy"])

    # Writes ------------------------------------------------------------------------------------

    def call(self, action: str, what: str, new_key: bool = False, **params: Any) -> Any:
        """One write (never in check mode); retried on NotFoundException for a new key."""
        return call(
            self.module, self.new_key_client if new_key else self.client, action, what, **params
        )

    def create(self, wanted: dict[str, Any]) -> dict[str, Any]:
        state = {
            "key_id": "",
            "key_arn": "",
            "key_state": "Enabled" if wanted["enabled"] else "Disabled",
            "description": wanted["description"] or "",
            "enabled": wanted["enabled"],
            "enable_key_rotation": wanted["enable_key_rotation"],
            "tags": dict(wanted["tags"]),
        }
        if self.module.check_mode:
            return state
        alias = wanted["alias"]
        params: dict[str, Any] = {
            "KeySpec": wanted["key_spec"],
            "KeyUsage": wanted["key_usage"],
            "Origin": "AWS_KMS",
            "Description": wanted["description"] or "",
        }
        if wanted["tags"]:
            params["Tags"] = ansible_dict_to_boto3_tag_list(wanted["tags"], "TagKey", "TagValue")
        if wanted["policy"] is not None:
            params["Policy"] = json.dumps(wanted["policy"])
        metadata = self.call("create_key", f"create the key of {alias}", **params)["KeyMetadata"]
        key_id = metadata["KeyId"]
        self.call(
            "create_alias",
            f"create alias {alias}",
            new_key=True,
            AliasName=alias,
            TargetKeyId=key_id,
        )
        if wanted["enable_key_rotation"]:
            self.call(
                "enable_key_rotation", f"enable rotation of {alias}", new_key=True, KeyId=key_id
            )
        if not wanted["enabled"]:
            self.call("disable_key", f"disable {alias}", new_key=True, KeyId=key_id)
        return dict(state, key_id=key_id, key_arn=metadata["Arn"])

    def update(self, wanted: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any]:
        alias, key_id = wanted["alias"], metadata["KeyId"]
        if metadata["KeyState"] not in MANAGEABLE_STATES:
            self.module.fail_json(
                msg=f"The key of {alias} ({key_id}) is in state {metadata['KeyState']}; "
                "the module manages keys that are Enabled, Disabled or PendingDeletion"
            )
        for option, field in (("key_spec", "KeySpec"), ("key_usage", "KeyUsage")):
            if metadata.get(field) and metadata[field] != wanted[option]:
                self.module.fail_json(
                    msg=f"The key of {alias} has {field} {metadata[field]}, not "
                    f"{wanted[option]}; it cannot change on an existing key"
                )
        current = {
            "key_state": metadata["KeyState"],
            "description": metadata.get("Description", ""),
            "enabled": metadata["KeyState"] == "Enabled",
            "enable_key_rotation": self.rotation(metadata),
            "tags": self.tags(key_id),
        }
        desired = dict(current, enabled=wanted["enabled"])
        desired["key_state"] = "Enabled" if wanted["enabled"] else "Disabled"
        desired["enable_key_rotation"] = wanted["enable_key_rotation"]
        if wanted["description"] is not None:
            desired["description"] = wanted["description"]
        purge = self.module.params["purge_tags"]
        tags_to_set, tags_to_remove = compare_aws_tags(current["tags"], wanted["tags"], purge)
        desired["tags"] = {
            k: v for k, v in {**current["tags"], **tags_to_set}.items() if k not in tags_to_remove
        }
        current_policy = desired_policy = None
        if wanted["policy"] is not None:
            current_policy = self.policy(key_id)
            desired_policy = (
                wanted["policy"]
                if compare_policies(current_policy, wanted["policy"])
                else current_policy
            )
            current["policy"], desired["policy"] = current_policy, desired_policy

        if desired != current and not self.module.check_mode:
            self.apply(alias, metadata, current, desired, tags_to_set, tags_to_remove)
        return dict(desired, key_id=key_id, key_arn=metadata["Arn"], before=current)

    def apply(
        self,
        alias: str,
        metadata: dict[str, Any],
        current: dict[str, Any],
        desired: dict[str, Any],
        tags_to_set: dict[str, str],
        tags_to_remove: list[str],
    ) -> None:
        key_id = metadata["KeyId"]
        state = current["key_state"]
        rotation = current["enable_key_rotation"]
        if state == "PendingDeletion":
            # The key comes back Disabled, with the rotation status it had before.
            self.call("cancel_key_deletion", f"cancel the deletion of {alias}", KeyId=key_id)
            state = "Disabled"
            rotation = self.rotation(dict(metadata, KeyState=state))
        # Rotation can only change on an enabled key: enable first, disable last.
        if state != "Enabled" and desired["enabled"]:
            self.call("enable_key", f"enable {alias}", KeyId=key_id)
        if rotation != desired["enable_key_rotation"]:
            action = (
                "enable_key_rotation" if desired["enable_key_rotation"] else "disable_key_rotation"
            )
            self.call(action, f"set the rotation of {alias}", KeyId=key_id)
        if state == "Enabled" and not desired["enabled"]:
            self.call("disable_key", f"disable {alias}", KeyId=key_id)
        if current["description"] != desired["description"]:
            self.call(
                "update_key_description",
                f"update the description of {alias}",
                KeyId=key_id,
                Description=desired["description"],
            )
        if tags_to_remove:
            self.call(
                "untag_resource", f"untag {alias}", KeyId=key_id, TagKeys=list(tags_to_remove)
            )
        if tags_to_set:
            tags = ansible_dict_to_boto3_tag_list(tags_to_set, "TagKey", "TagValue")
            self.call("tag_resource", f"tag {alias}", KeyId=key_id, Tags=tags)
        if current.get("policy") != desired.get("policy"):
            self.call(
                "put_key_policy",
                f"put the policy of {alias}",
                KeyId=key_id,
                PolicyName="default",
                Policy=json.dumps(desired["policy"]),
            )

    def schedule_deletion(self, alias: str) -> dict[str, Any]:
        metadata = self.describe(alias)
        result = {
            "alias": alias,
            "region": self.region,
            "key_id": "",
            "key_arn": "",
            "key_state": "",
            "changed": False,
        }
        if metadata is None:
            return result
        result.update(key_id=metadata["KeyId"], key_arn=metadata["Arn"])
        result["key_state"] = "PendingDeletion"
        if metadata["KeyState"] == "PendingDeletion":
            return result
        if not self.module.check_mode:
            self.call(
                "schedule_key_deletion",
                f"schedule the deletion of {alias}",
                KeyId=metadata["KeyId"],
                PendingWindowInDays=self.module.params["pending_window"],
            )
        self.before[self.diff_key(alias)] = {"key_state": metadata["KeyState"]}
        self.after[self.diff_key(alias)] = {"key_state": "PendingDeletion"}
        self.changed = True
        return dict(result, changed=True)

    # Entry points ------------------------------------------------------------------------------

    def ensure_key(self, wanted: dict[str, Any]) -> dict[str, Any]:
        alias = wanted["alias"]
        metadata = self.describe(alias)
        if metadata is None:
            state = self.create(wanted)
            self.before[self.diff_key(alias)] = {}
            self.after[self.diff_key(alias)] = {
                k: v for k, v in state.items() if k not in ("key_id", "key_arn")
            }
            self.changed = True
            return dict(state, alias=alias, region=self.region, changed=True)
        state = self.update(wanted, metadata)
        before = state.pop("before")
        changed = any(before[k] != state[k] for k in before)
        if changed:
            self.before[self.diff_key(alias)] = before
            self.after[self.diff_key(alias)] = {k: state[k] for k in before}
            self.changed = True
        state.pop("policy", None)
        return dict(state, alias=alias, region=self.region, changed=changed)

    def validate(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        wanted = []
        for key in keys:
            alias = canonical_alias(key["alias"])
            if alias.startswith("alias/aws/"):
                self.module.fail_json(msg=f"{alias}: aliases under alias/aws/ are reserved for AWS")
            if key["enable_key_rotation"] and key["key_spec"] != "SYMMETRIC_DEFAULT":
                self.module.fail_json(
                    msg=f"{alias}: only SYMMETRIC_DEFAULT keys rotate; "
                    "set enable_key_rotation: false"
                )
            policy = key["policy"]
            if policy is not None:
                try:
                    policy = json.loads(policy)
                except ValueError as e:
                    self.module.fail_json(msg=f"{alias}: the policy is not valid JSON: {e}")
            region = item_region(self.module, key)
            if not region:
                self.module.fail_json(msg=f"{alias}: no region (set region or keys[].region)")
            wanted.append(
                dict(key, alias=alias, region=region, policy=policy, tags=key["tags"] or {})
            )
        refuse_duplicates_by_region(
            self.module, wanted, [key["alias"] for key in wanted], "aliases"
        )
        return wanted

    def run(self) -> None:
        params = self.module.params
        wanted = self.validate(params["keys"])
        if params["state"] == "absent" and not 7 <= params["pending_window"] <= 30:
            self.module.fail_json(msg="pending_window must be between 7 and 30 days")
        results: list[dict[str, Any]] = [{}] * len(wanted)
        for region, indexes in by_region(self.module, wanted).items():
            self.use_region(region)
            for index in indexes:
                key = wanted[index]
                if params["state"] == "absent":
                    results[index] = self.schedule_deletion(key["alias"])
                else:
                    results[index] = self.ensure_key(key)
        out: dict[str, Any] = {"changed": self.changed, "keys": results}
        if self.module._diff:
            out["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**out)


def main() -> None:
    key = dict(
        alias=dict(type="str", required=True),
        region=dict(type="str"),
        description=dict(type="str"),
        enabled=dict(type="bool", default=True),
        enable_key_rotation=dict(type="bool", default=True),
        policy=dict(type="json"),
        tags=dict(type="dict", default={}),
        key_spec=dict(type="str", default="SYMMETRIC_DEFAULT", choices=KEY_SPECS),
        key_usage=dict(type="str", default="ENCRYPT_DECRYPT", choices=KEY_USAGES),
    )
    argument_spec = dict(
        keys=dict(type="list", elements="dict", required=True, options=key, no_log=False),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        pending_window=dict(type="int", default=30),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    KmsKeysManager(module).run()


if __name__ == "__main__":
    main()
