# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers shared by the EKS modules and the IAM OIDC provider modules.

``EksResourceManager`` is the describe / wait / exit / tags / immutable-settings scaffolding of
``eks_cluster`` and ``eks_nodegroup``. The OIDC provider helpers live here because Plinth manages
IAM OIDC providers only as the trust anchor for EKS service-account roles (IRSA).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import WaiterError

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)

# Statuses in which EKS rejects UpdateAddon with ResourceInUseException.
ADDON_BUSY_STATUSES = ("CREATING", "UPDATING")


def describe_addon(client, cluster_name: str, addon_name: str) -> dict[str, Any] | None:
    """Return the raw add-on description, or None when the add-on (or its cluster) is missing."""
    try:
        return client.describe_addon(
            clusterName=cluster_name, addonName=addon_name, aws_retry=True
        )["addon"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None


@AWSRetry.jittered_backoff()
def list_addon_names(client, cluster_name: str) -> list[str]:
    """Names of every add-on installed on the cluster (paginated)."""
    paginator = client.get_paginator("list_addons")
    return paginator.paginate(clusterName=cluster_name).build_full_result()["addons"]


def normalize_addon(addon: dict[str, Any]) -> dict[str, Any]:
    """Snake-case an add-on description, leaving tag keys as the user wrote them."""
    return camel_dict_to_snake_dict(addon, ignore_list=["tags"])


def describe_addon_pod_identities(client, cluster_name: str, addon: dict[str, Any]) -> list[dict]:
    """The add-on's pod identity associations as service_account/role_arn pairs, sorted.

    DescribeAddon only returns association ARNs; the service account and role live on the
    association itself, whose ID is the last segment of its ARN.
    """
    pairs = []
    for arn in addon.get("podIdentityAssociations") or []:
        association = client.describe_pod_identity_association(
            clusterName=cluster_name, associationId=arn.rsplit("/", 1)[-1], aws_retry=True
        )["association"]
        pairs.append(
            {"service_account": association["serviceAccount"], "role_arn": association["roleArn"]}
        )
    return sort_pod_identities(pairs)


def sort_pod_identities(pairs: list[dict]) -> list[dict]:
    return sorted(
        ({"service_account": p["service_account"], "role_arn": p["role_arn"]} for p in pairs),
        key=lambda p: (p["service_account"], p["role_arn"]),
    )


def parse_configuration(value: Any) -> Any:
    """Parse add-on configuration values for a semantic comparison.

    A dict is used as is; a string is parsed as JSON. EKS also accepts YAML, which is kept as text
    and compared verbatim. An empty or missing configuration is the empty mapping.
    """
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def serialize_configuration(value: Any) -> str:
    """The configurationValues string EKS expects: dicts become JSON, strings pass through."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def oidc_provider_path(url: str) -> str:
    """IAM names an OIDC provider by its issuer URL without the scheme or a trailing slash."""
    path = url.strip()
    if path.lower().startswith("https://"):
        path = path[len("https://") :]
    return path.rstrip("/")


def find_oidc_provider_arn(client, url: str) -> str | None:
    """ARN of the IAM OIDC provider for this issuer URL, or None."""
    path = oidc_provider_path(url)
    providers = client.list_open_id_connect_providers(aws_retry=True)["OpenIDConnectProviderList"]
    for provider in providers:
        if provider["Arn"].split(":oidc-provider/", 1)[-1] == path:
            return provider["Arn"]
    return None


def list_oidc_provider_arns(client) -> list[str]:
    providers = client.list_open_id_connect_providers(aws_retry=True)["OpenIDConnectProviderList"]
    return [provider["Arn"] for provider in providers]


def describe_oidc_provider(client, arn: str) -> dict[str, Any] | None:
    """The provider as the modules return it, or None when it does not exist."""
    try:
        provider = client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn, aws_retry=True)
    except is_boto3_error_code("NoSuchEntity"):
        return None
    create_date = provider.get("CreateDate")
    return {
        "arn": arn,
        "url": "https://" + provider["Url"],
        "client_ids": sorted(provider.get("ClientIDList") or []),
        "thumbprints": sorted(t.lower() for t in provider.get("ThumbprintList") or []),
        "tags": boto3_tag_list_to_ansible_dict(provider.get("Tags") or []),
        "create_date": create_date.isoformat() if create_date else None,
    }


class EksResourceManager:
    """What ``eks_cluster`` and ``eks_nodegroup`` share.

    A subclass names its resource (``kind`` for messages, ``result_key`` for the result,
    ``waiter_prefix`` for the botocore ``<prefix>_active`` / ``<prefix>_deleted`` waiters,
    ``keep_keys`` for the dicts whose keys are returned as given) and implements ``identifiers``
    (the API's parameters naming it), ``describe_call``, ``delete_call``, ``view`` (the
    comparable settings), ``create`` and ``update``.
    """

    kind = ""
    result_key = ""
    waiter_prefix = ""
    keep_keys: tuple[str, ...] = ("tags",)
    # Declared, not stubbed: subclasses name the resource argument after what it is.
    view: Callable[[dict[str, Any]], dict[str, Any]]
    update: Callable[[dict[str, Any]], None]

    def __init__(self, module: Any) -> None:
        self.module = module
        self.params = module.params
        self.client = module.client("eks", retry_decorator=AWSRetry.jittered_backoff())
        self.name: str = module.params["name"]
        self.changed = False
        self.diff: dict[str, dict[str, Any]] = {"before": {}, "after": {}}

    def identifiers(self) -> dict[str, str]:
        raise NotImplementedError

    def describe_call(self) -> dict[str, Any]:
        raise NotImplementedError

    def delete_call(self) -> None:
        raise NotImplementedError

    def create(self) -> None:
        raise NotImplementedError

    def describe(self) -> dict[str, Any] | None:
        try:
            return self.describe_call()
        except is_boto3_error_code("ResourceNotFoundException"):
            return None

    def exit(self, resource: dict[str, Any] | None) -> None:
        result = {
            "changed": self.changed,
            self.result_key: (
                camel_dict_to_snake_dict(resource, ignore_list=list(self.keep_keys))
                if resource
                else {}
            ),
        }
        if self.module._diff:
            result["diff"] = self.diff
        self.module.exit_json(**result)

    def wait(self, state: str) -> None:
        """Wait with the ``<waiter_prefix>_<state>`` waiter for up to ``wait_timeout``."""
        waiter_name = f"{self.waiter_prefix}_{state}"
        waiter = self.client.get_waiter(waiter_name)
        delay = waiter.config.delay
        attempts = max(1, self.params["wait_timeout"] // delay)
        try:
            waiter.wait(
                **self.identifiers(), WaiterConfig={"Delay": delay, "MaxAttempts": attempts}
            )
        except WaiterError as e:
            self.module.fail_json_aws(
                e, msg=f"Timed out or failed waiting for {self.kind} {self.name} ({waiter_name})"
            )

    def ensure_present(self) -> None:
        resource = self.describe()
        if resource and resource["status"] == "DELETING":
            # A deletion cannot be cancelled: let it finish, then create afresh.
            if not self.module.check_mode:
                self.wait("deleted")
            resource = None
        if resource is None:
            self.create()
        else:
            self.update(resource)

    def ensure_absent(self) -> None:
        resource = self.describe()
        if resource is None:
            self.exit(None)
        self.diff["before"] = self.view(resource)
        if resource["status"] != "DELETING":
            self.changed = True
            if self.module.check_mode:
                self.exit(None)
            self.delete_call()
        if self.params["wait"]:
            self.wait("deleted")
        self.exit(None)

    def require_for_create(self, *options: str) -> None:
        missing = [key for key in options if not self.params[key]]
        if missing:
            self.module.fail_json(
                msg=f"Creating {self.kind} {self.name} needs {', '.join(missing)}"
            )

    def refuse_immutable(self, problems: list[str]) -> None:
        """Fail naming every setting EKS cannot change, with its old and new value."""
        if problems:
            self.module.fail_json(
                msg=f"Cannot change these settings of existing {self.kind} {self.name}: "
                + "; ".join(problems)
            )

    def tag_changes(
        self, current: dict[str, str]
    ) -> tuple[dict[str, str], list[str], dict[str, str]]:
        """Tags to set, keys to unset and the resulting tags; nothing when ``tags`` is omitted."""
        if self.params["tags"] is None:
            return {}, [], current
        to_set, to_unset = compare_aws_tags(current, self.params["tags"], self.params["purge_tags"])
        after = {**{k: v for k, v in current.items() if k not in to_unset}, **to_set}
        return to_set, to_unset, after

    def apply_tags(self, arn: str, to_set: dict[str, str], to_unset: list[str]) -> None:
        if to_unset:
            self.client.untag_resource(resourceArn=arn, tagKeys=to_unset, aws_retry=True)
        if to_set:
            self.client.tag_resource(resourceArn=arn, tags=to_set, aws_retry=True)
