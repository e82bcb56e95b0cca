# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers shared by the bulk VPC modules (``vpc_subnets``, ``vpc_route_tables``,
``vpc_security_groups``).

Those modules read every resource of their kind in a VPC with one describe call, then write only
the differences. Tags come with that describe, so they are compared here instead of through
``ensure_ec2_tags`` (which would describe each resource's tags again).
"""

from __future__ import annotations

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # Handled by AnsibleAWSModule
    import botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import normalize_boto3_result
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import (
    AnsibleEC2Error,
    add_ec2_tags,
    remove_ec2_tags,
)
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)


def merged_tags(common: dict[str, str] | None, own: dict[str, str] | None) -> dict[str, str] | None:
    """The tags asked for one resource: the module's common tags, overridden by its own.

    ``None`` when neither is given, meaning: leave the resource's tags alone.
    """
    if common is None and own is None:
        return None
    return dict(common or {}, **(own or {}))


def desired_tags(
    current: dict[str, str], wanted: dict[str, str] | None, purge: bool
) -> dict[str, str]:
    """The tags a resource ends with, given its current tags (``aws:`` tags are never purged)."""
    if wanted is None:
        return dict(current)
    to_set, to_unset = compare_aws_tags(current, wanted, purge)
    tags = {key: value for key, value in current.items() if key not in to_unset}
    tags.update(to_set)
    return tags


def apply_tags(
    client: Any,
    module: Any,
    resource_id: str,
    current: dict[str, str],
    wanted: dict[str, str] | None,
    purge: bool,
) -> bool:
    """Set and unset tags on an EC2 resource whose current tags are known; check-mode aware."""
    if wanted is None:
        return False
    to_set, to_unset = compare_aws_tags(current, wanted, purge)
    changed = add_ec2_tags(client, module, resource_id, to_set)
    changed |= remove_ec2_tags(client, module, resource_id, to_unset)
    return changed


def to_ansible(resource: dict[str, Any]) -> dict[str, Any]:
    """An EC2 describe entry as snake_case, with its tags as a plain dict."""
    result = camel_dict_to_snake_dict(normalize_boto3_result(resource), ignore_list=["Tags"])
    result["tags"] = boto3_tag_list_to_ansible_dict(resource.get("Tags", []))
    return result


def listed_twice(values: list[Any]) -> list[Any]:
    """The values that occur more than once, sorted."""
    return sorted({value for value in values if values.count(value) > 1})


class VpcBulkManager:
    """What the bulk modules share: an EC2 client, change and diff bookkeeping, and ``process``.

    Subclasses implement ``ensure_present`` and ``ensure_absent``, each returning the module's
    result keys (besides ``changed`` and ``diff``), and record diffs by resource name in
    ``before`` / ``after``.
    """

    # What the module reconciles, for error messages.
    kind = "resources"

    def __init__(self, module: Any) -> None:
        self.module = module
        self.params = module.params
        self.check_mode = module.check_mode
        self.client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
        self.changed = False
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def vpc_filter(self) -> list[dict[str, Any]]:
        """The describe filter for the resources of the module's VPC."""
        return [{"Name": "vpc-id", "Values": [self.params["vpc_id"]]}]

    def ensure_present(self) -> dict[str, Any]:
        raise NotImplementedError

    def ensure_absent(self) -> dict[str, Any]:
        raise NotImplementedError

    def process(self) -> None:
        try:
            if self.params.get("state", "present") == "present":
                outcome = self.ensure_present()
            else:
                outcome = self.ensure_absent()
        except AnsibleEC2Error as e:
            self.module.fail_json_aws_error(e)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            self.module.fail_json_aws(e, msg=f"Failed to reconcile {self.kind}")
        result = dict(changed=self.changed, **outcome)
        if self.module._diff:
            result["diff"] = {"before": self.before, "after": self.after}
        self.module.exit_json(**result)
