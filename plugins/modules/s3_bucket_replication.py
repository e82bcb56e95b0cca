#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_bucket_replication
version_added: 0.1.0
short_description: Manage the replication configuration of an S3 bucket
description:
  - Sets (or deletes) the replication configuration of an S3 bucket, for example cross-region
    replication to a disaster-recovery bucket; amazon.aws and community.aws have no module for it.
  - The configuration is compared as a whole (the role and every rule, by rule ID regardless of
    order) and written in one call when it differs.
  - Both buckets must have versioning enabled, and the role must allow S3 to read the source and
    replicate to the destination (and use the KMS keys of KMS-encrypted objects).
  - This module supports check mode and diff mode.
author:
  - Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - The name of the source bucket.
    required: true
    type: str
  role:
    description:
      - The ARN of the IAM role S3 assumes to replicate objects.
      - Required with O(state=present).
    type: str
  rules:
    description:
      - The replication rules. Required with O(state=present), at least one.
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
        description: The storage class of the replicas; the source object's class when not set.
        type: str
      replica_kms_key_id:
        description:
          - The ARN of the KMS key, in the destination's region, that encrypts the replicas.
          - Requires O(rules[].replicate_kms_encrypted=true).
        type: str
      replicate_kms_encrypted:
        description: Whether objects encrypted with SSE-KMS are replicated.
        default: false
        type: bool
      delete_marker_replication:
        description: Whether delete markers are replicated.
        default: false
        type: bool
  state:
    description:
      - V(present) to set the replication configuration, V(absent) to delete it.
    default: present
    choices: [present, absent]
    type: str
notes:
  - Replication time control, metrics, access-control translation, existing-object replication
    and tag filters are not managed; a configuration that uses them differs from the requested
    one and is replaced.
  - The moto emulator (5.2.5) stores the rules but its C(GetBucketReplication) drops
    C(SourceSelectionCriteria) and reports C(DeleteMarkerReplication) as C(Disabled) and the filter
    as an empty prefix whatever was put, so against moto a rule with
    O(rules[].replicate_kms_encrypted=true), O(rules[].delete_marker_replication=true) or a
    O(rules[].prefix) is reported as changed on every run. AWS returns what was put.
  - In check mode a bucket that does not exist yet is treated as having no replication
    configuration, so the module reports the configuration it would set.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: These examples do not set authentication details, see the AWS Guide for details.

- name: Replicate every object, KMS-encrypted, to the DR region's bucket
  plinth.platform.s3_bucket_replication:
    name: plinth-production-raw
    role: arn:aws:iam::123456789012:role/plinth-production-s3-replication
    rules:
      - id: dr
        destination_bucket: arn:aws:s3:::plinth-production-raw-dr
        replicate_kms_encrypted: true
        replica_kms_key_id: arn:aws:kms:us-west-2:123456789012:key/0f0e0d0c-0b0a-0908-0706
        delete_marker_replication: true

- name: Stop replicating
  plinth.platform.s3_bucket_replication:
    name: plinth-production-raw
    state: absent
"""

RETURN = r"""
changed:
  description: Whether the replication configuration was set or deleted.
  type: bool
  returned: always
  sample: true
replication:
  description:
    - The replication configuration after the module ran (in check mode, as it would be),
      normalised like the options, rules sorted by ID; empty when there is none.
  type: dict
  returned: always
  contains:
    role:
      description: The ARN of the replication role.
      type: str
      returned: when a configuration exists
      sample: arn:aws:iam::123456789012:role/plinth-production-s3-replication
    rules:
      description: The rules, with the keys of O(rules).
      type: list
      elements: dict
      returned: when a configuration exists
      sample:
        - id: dr
          priority: 0
          prefix: ""
          status: enabled
          destination_bucket: arn:aws:s3:::plinth-production-raw-dr
          storage_class: null
          replica_kms_key_id: arn:aws:kms:us-west-2:123456789012:key/0f0e0d0c
          replicate_kms_encrypted: true
          delete_marker_replication: true
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.plinth.platform.plugins.module_utils.s3 import (
    ReplicationManager,
    normalise_replication_rule,
    replication_rule_errors,
    replication_rule_spec,
    replication_rule_to_boto3,
)

# The rule handling lives in module_utils/s3.py (s3_buckets' replication shares it); these names
# stay available from this module.
normalise_rule = normalise_replication_rule
rule_to_boto3 = replication_rule_to_boto3


class S3BucketReplicationManager(ReplicationManager):
    def process(self) -> None:
        errors = replication_rule_errors(self.rules)
        if errors:
            self.module.fail_json(msg=errors[0])
        self.apply()


def main() -> None:
    rule = replication_rule_spec()
    argument_spec = dict(
        name=dict(type="str", required=True),
        role=dict(type="str"),
        rules=dict(type="list", elements="dict", default=[], options=rule),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ("role", "rules"))],
    )
    if module.params["state"] == "present" and not module.params["rules"]:
        module.fail_json(msg="state=present needs at least one rule")
    S3BucketReplicationManager(module).process()


if __name__ == "__main__":
    main()
