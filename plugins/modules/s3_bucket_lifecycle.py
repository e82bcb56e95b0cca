#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_bucket_lifecycle
version_added: 0.1.0
short_description: Manage the whole lifecycle configuration of S3 buckets
description:
  - Sets the lifecycle rules of an S3 bucket declaratively, all rules in one call, compared by
    rule ID regardless of order; with O(purge_rules=true) rules not listed are removed.
  - With O(buckets) one run sets the rules of several buckets, each in its own region (one
    client per region, one read per unchanged bucket), instead of one task run per bucket.
  - Supports the storage classes C(community.aws.s3_lifecycle) lacks (V(GLACIER_IR)), check mode
    and diff mode. C(community.aws.s3_lifecycle) manages one rule per call with a
    read-modify-write of the whole configuration, cannot remove rules it is not told about, does
    not support check mode and has no V(GLACIER_IR) storage class.
  - A rule that carries settings this module does not manage (tag or object-size filters,
    noncurrent-version transitions, expiration dates, delete-marker expiration) differs from the
    requested rule and is replaced by it.
author:
  - Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - The name of the bucket (in the module's region).
      - Exactly one of O(name) and O(buckets) is required.
    type: str
  buckets:
    description:
      - Several buckets, each with its rules, instead of O(name) and O(rules).
      - O(purge_rules) and O(state) apply to each bucket.
    type: list
    elements: dict
    suboptions:
      name:
        description: The name of the bucket; a bucket may appear once.
        required: true
        type: str
      region:
        description: The region of the bucket; by default the module's region (O(region)).
        type: str
      rules:
        description: The lifecycle rules of the bucket, as O(rules).
        type: list
        elements: dict
        default: []
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
  rules:
    description:
      - The lifecycle rules of O(name). Required with O(state=present) (it may be empty, see
        O(purge_rules)).
      - The same rule options apply to O(buckets[].rules).
    type: list
    elements: dict
    default: []
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
  purge_rules:
    description:
      - Whether rules whose ID is not in O(rules) are removed.
      - When O(rules) is empty and O(purge_rules=true), the lifecycle configuration is deleted.
    default: true
    type: bool
  state:
    description:
      - V(present) to set the rules, V(absent) to delete the bucket's lifecycle configuration.
    default: present
    choices: [present, absent]
    type: str
notes:
  - S3 reads of a lifecycle configuration are eventually consistent; a read right after a write
    may return the previous rules, so a rerun within seconds may report a change once.
  - In check mode a bucket that does not exist yet is treated as having no rules, so the module
    reports the rules it would set.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: Tier objects down and clean up old versions and failed uploads
  plinth.platform.s3_bucket_lifecycle:
    name: plinth-production-raw
    rules:
      - id: tiers
        transitions:
          - {days: 30, storage_class: STANDARD_IA}
          - {days: 90, storage_class: GLACIER_IR}
          - {days: 365, storage_class: DEEP_ARCHIVE}
        noncurrent_version_expiration_days: 30
        abort_incomplete_multipart_upload_days: 7
      - id: tmp
        prefix: tmp/
        expiration_days: 1

- name: Remove every lifecycle rule
  plinth.platform.s3_bucket_lifecycle:
    name: plinth-production-raw
    state: absent

- name: The rules of a bucket and of its DR copy, in one task
  plinth.platform.s3_bucket_lifecycle:
    buckets:
      - name: plinth-production-raw
        rules: &rules
          - id: tiers
            transitions: [{days: 30, storage_class: STANDARD_IA}]
      - name: plinth-production-raw-dr
        region: us-west-2
        rules: *rules
"""

RETURN = r"""
changed:
  description: Whether the lifecycle configuration was set or deleted.
  type: bool
  returned: always
  sample: true
rules:
  description:
    - The bucket's lifecycle rules after the module ran (in check mode, as they would be),
      normalised like O(rules) and sorted by ID.
  type: list
  elements: dict
  returned: with O(name)
  sample:
    - id: tiers
      prefix: ""
      status: enabled
      transitions: [{days: 30, storage_class: STANDARD_IA}]
      expiration_days: null
      noncurrent_version_expiration_days: 30
      abort_incomplete_multipart_upload_days: 7
buckets:
  description: With O(buckets), each bucket in the order given, after the module ran.
  type: list
  elements: dict
  returned: with O(buckets)
  contains:
    name:
      description: The bucket name.
      type: str
      sample: plinth-production-raw
    region:
      description: The region of the bucket.
      type: str
      sample: us-east-1
    rules:
      description: The bucket's rules after the module ran, as RV(rules).
      type: list
      elements: dict
      sample: []
    changed:
      description: Whether the bucket's lifecycle configuration was (or would be) set or deleted.
      type: bool
      sample: false
diff:
  description:
    - With O(name), the rules before and after (C(rules)); with O(buckets), the buckets that
      changed, by name, each with its C(rules).
  type: dict
  returned: when diff mode is on
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.plinth.platform.plugins.module_utils.bulk import (
    by_region,
    item_region,
    refuse_duplicates,
)
from ansible_collections.plinth.platform.plugins.module_utils.s3 import (
    LifecycleManager,
    duplicate_ids,
    lifecycle_rule_spec,
    lifecycle_rule_to_boto3,
    normalise_lifecycle_rule,
    s3_client,
)

# The rule handling lives in module_utils/s3.py (s3_buckets' lifecycle_rules shares it); these
# names stay available from this module.
normalise_rule = normalise_lifecycle_rule
rule_to_boto3 = lifecycle_rule_to_boto3


class S3BucketLifecycleManager(LifecycleManager):
    def refuse_duplicate_rules(self) -> None:
        duplicates = duplicate_ids(self.rules)
        if duplicates:
            self.module.fail_json(msg=f"{self.name}: Duplicate rule IDs: {', '.join(duplicates)}")

    def process(self) -> None:
        self.refuse_duplicate_rules()
        self.apply()

    def converge(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Read and converge to ``state``: (the rules before, the rules after)."""
        current = self.read()
        if self.params["state"] == "present":
            return current, self.ensure_present(current)
        return current, self.remove(current)


def process_buckets(module: AnsibleAWSModule) -> None:
    """The O(buckets) form: every bucket checked before any call, then region by region."""
    buckets = module.params["buckets"]
    refuse_duplicates(module, [bucket["name"] for bucket in buckets], "bucket names")
    for bucket in buckets:
        if not item_region(module, bucket):
            module.fail_json(msg=f"{bucket['name']}: no region (set region)")
        duplicates = duplicate_ids(bucket["rules"])
        if duplicates:
            module.fail_json(msg=f"{bucket['name']}: Duplicate rule IDs: {', '.join(duplicates)}")
    results: list[dict[str, Any]] = [{}] * len(buckets)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for region, indexes in by_region(module, buckets).items():
        client = s3_client(module, region)
        for index in indexes:
            bucket = buckets[index]
            manager = S3BucketLifecycleManager(
                module, bucket["name"], client=client, rules=bucket["rules"]
            )
            current, rules = manager.converge()
            results[index] = {
                "name": manager.name,
                "region": region,
                "rules": rules,
                "changed": manager.changed,
            }
            if manager.changed:
                before[manager.name] = {"rules": current}
                after[manager.name] = {"rules": rules}
    out: dict[str, Any] = {"changed": bool(after), "buckets": results}
    if module._diff:
        out["diff"] = {"before": before, "after": after}
    module.exit_json(**out)


def main() -> None:
    rule = lifecycle_rule_spec()
    bucket = dict(
        name=dict(type="str", required=True),
        region=dict(type="str"),
        rules=dict(type="list", elements="dict", default=[], options=rule),
    )
    argument_spec = dict(
        name=dict(type="str"),
        buckets=dict(type="list", elements="dict", options=bucket),
        rules=dict(type="list", elements="dict", default=[], options=rule),
        purge_rules=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["name", "buckets"]],
        required_one_of=[["name", "buckets"]],
    )
    if module.params["buckets"] is not None:
        process_buckets(module)
    else:
        S3BucketLifecycleManager(module).process()


if __name__ == "__main__":
    main()
