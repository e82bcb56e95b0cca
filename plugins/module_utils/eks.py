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
        return tag_changes(current, self.params["tags"], self.params["purge_tags"])

    def apply_tags(self, arn: str, to_set: dict[str, str], to_unset: list[str]) -> None:
        if to_unset:
            self.client.untag_resource(resourceArn=arn, tagKeys=to_unset, aws_retry=True)
        if to_set:
            self.client.tag_resource(resourceArn=arn, tags=to_set, aws_retry=True)


# --- Managed node groups: shared by eks_nodegroup (one group) and eks_nodegroups (a set) --------
# ``params`` below is one node group's options as both modules take them (name, node_role,
# subnets, scaling_config, instance_types, capacity_type, ami_type, disk_size, labels, taints,
# launch_template, update_config, version, release_version, tags).

# EKS's update configuration when none is given (UpdateConfig in the EKS API Reference); moto's
# DescribeNodegroup omits updateConfig, AWS returns it.
DEFAULT_UPDATE_CONFIG = {"maxUnavailable": 1}
SCALING_KEYS = {"min_size": "minSize", "max_size": "maxSize", "desired_size": "desiredSize"}


def nodegroup_argument_spec() -> dict[str, Any]:
    """The options describing one node group (without cluster_name, state, tags and waits)."""
    return dict(
        node_role=dict(type="str"),
        subnets=dict(type="list", elements="str"),
        scaling_config=dict(
            type="dict",
            options=dict(
                min_size=dict(type="int"),
                max_size=dict(type="int"),
                desired_size=dict(type="int"),
            ),
        ),
        instance_types=dict(type="list", elements="str"),
        capacity_type=dict(type="str", choices=["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]),
        ami_type=dict(type="str"),
        disk_size=dict(type="int"),
        labels=dict(type="dict"),
        taints=dict(
            type="list",
            elements="dict",
            options=dict(
                key=dict(type="str", required=True, no_log=False),
                value=dict(type="str", default=""),
                effect=dict(
                    type="str",
                    required=True,
                    choices=["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"],
                ),
            ),
        ),
        launch_template=dict(
            type="dict",
            options=dict(
                id=dict(type="str"),
                name=dict(type="str"),
                version=dict(type="str"),
            ),
            mutually_exclusive=[["id", "name"]],
            required_one_of=[["id", "name"]],
        ),
        update_config=dict(
            type="dict",
            options=dict(
                max_unavailable=dict(type="int"),
                max_unavailable_percentage=dict(type="int"),
            ),
            mutually_exclusive=[["max_unavailable", "max_unavailable_percentage"]],
            required_one_of=[["max_unavailable", "max_unavailable_percentage"]],
        ),
        version=dict(type="str"),
        release_version=dict(type="str"),
    )


def _taint_key(taint: dict) -> tuple[str, str]:
    return taint["key"], taint["effect"]


def sort_taints(taints: list[dict]) -> list[dict]:
    return sorted(
        ({"key": t["key"], "value": t.get("value") or "", "effect": t["effect"]} for t in taints),
        key=_taint_key,
    )


def diff_taints(current: list[dict], wanted: list[dict]) -> dict:
    """The UpdateNodegroupConfig taints request turning ``current`` into ``wanted``.

    A taint is identified by key and effect (as in Kubernetes); a changed value is an update.
    """
    have = {_taint_key(t): t for t in sort_taints(current)}
    want = {_taint_key(t): t for t in sort_taints(wanted)}
    request = {}
    add = [t for k, t in want.items() if have.get(k) != t]
    remove = [t for k, t in have.items() if k not in want]
    if add:
        request["addOrUpdateTaints"] = add
    if remove:
        request["removeTaints"] = remove
    return request


def diff_labels(current: dict, wanted: dict) -> dict:
    request: dict[str, Any] = {}
    add = {k: v for k, v in wanted.items() if current.get(k) != v}
    remove = sorted(k for k in current if k not in wanted)
    if add:
        request["addOrUpdateLabels"] = add
    if remove:
        request["removeLabels"] = remove
    return request


def wanted_update_config(option: dict | None) -> dict | None:
    if not option:
        return None
    if option.get("max_unavailable") is not None:
        return {"maxUnavailable": option["max_unavailable"]}
    return {"maxUnavailablePercentage": option["max_unavailable_percentage"]}


def nodegroup_launch_template_request(option: dict | None) -> dict | None:
    if not option:
        return None
    request = {"id": option["id"]} if option.get("id") else {"name": option["name"]}
    if option.get("version"):
        request["version"] = option["version"]
    return request


def nodegroup_view(nodegroup: dict[str, Any]) -> dict[str, Any]:
    """The comparable settings of a DescribeNodegroup answer (the modules' diff)."""
    scaling = nodegroup.get("scalingConfig") or {}
    template = nodegroup.get("launchTemplate") or {}
    return {
        "node_role": nodegroup.get("nodeRole"),
        "subnets": sorted(nodegroup.get("subnets") or []),
        "scaling_config": {key: scaling.get(api) for key, api in SCALING_KEYS.items()},
        "instance_types": sorted(nodegroup.get("instanceTypes") or []),
        "capacity_type": nodegroup.get("capacityType"),
        "ami_type": nodegroup.get("amiType"),
        "disk_size": nodegroup.get("diskSize"),
        "labels": nodegroup.get("labels") or {},
        "taints": sort_taints(nodegroup.get("taints") or []),
        "launch_template": {k: template[k] for k in ("id", "name", "version") if k in template},
        "update_config": nodegroup.get("updateConfig") or DEFAULT_UPDATE_CONFIG,
        "version": nodegroup.get("version"),
        "release_version": nodegroup.get("releaseVersion"),
        "tags": nodegroup.get("tags") or {},
    }


def nodegroup_missing_for_create(params: dict[str, Any]) -> list[str]:
    """The options CreateNodegroup needs that ``params`` lacks."""
    return [key for key in ("node_role", "subnets") if not params[key]]


def nodegroup_create_request(cluster_name: str, name: str, params: dict[str, Any]) -> dict:
    """The CreateNodegroup request for ``params`` (options left out let EKS choose)."""
    request: dict[str, Any] = {
        "clusterName": cluster_name,
        "nodegroupName": name,
        "nodeRole": params["node_role"],
        "subnets": params["subnets"],
    }
    scaling = {
        api: params["scaling_config"][key]
        for key, api in SCALING_KEYS.items()
        if params["scaling_config"] and params["scaling_config"].get(key) is not None
    }
    optional = {
        "scalingConfig": scaling,
        "instanceTypes": params["instance_types"],
        "capacityType": params["capacity_type"],
        "amiType": params["ami_type"],
        "diskSize": params["disk_size"],
        "labels": params["labels"],
        "taints": sort_taints(params["taints"]) if params["taints"] else None,
        "launchTemplate": nodegroup_launch_template_request(params["launch_template"]),
        "updateConfig": wanted_update_config(params["update_config"]),
        "version": params["version"],
        "releaseVersion": params["release_version"],
        "tags": params["tags"],
    }
    request.update({key: value for key, value in optional.items() if value})
    return request


def nodegroup_create_diff(request: dict[str, Any]) -> dict[str, Any]:
    """The diff's ``after`` of a node group about to be created with ``request``."""
    return camel_dict_to_snake_dict(
        {k: v for k, v in request.items() if k not in ("clusterName", "nodegroupName")},
        ignore_list=["tags", "labels"],
    )


def nodegroup_immutable_problems(params: dict[str, Any], before: dict[str, Any]) -> list[str]:
    """The settings EKS cannot change that ``params`` would change, with old and new value."""
    problems: list[str] = []

    def compare(option: str, wanted, current) -> None:
        if wanted is not None and current is not None and wanted != current:
            problems.append(f"{option} ({current} -> {wanted})")

    compare("node_role", params["node_role"], before["node_role"])
    compare("subnets", sorted(params["subnets"] or []) or None, before["subnets"])
    compare(
        "instance_types",
        sorted(params["instance_types"] or []) or None,
        before["instance_types"] or None,
    )
    compare("capacity_type", params["capacity_type"], before["capacity_type"])
    compare("ami_type", params["ami_type"], before["ami_type"])
    if not params["launch_template"]:
        compare("disk_size", params["disk_size"], before["disk_size"])
    template = params["launch_template"] or {}
    current_template = before["launch_template"]
    if template and not current_template:
        problems.append("launch_template (none -> a launch template)")
    for key in ("id", "name"):
        compare(f"launch_template.{key}", template.get(key), current_template.get(key))
    return problems


def nodegroup_update_plan(
    params: dict[str, Any], before: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The UpdateNodegroupConfig and UpdateNodegroupVersion requests (without the node group's
    identifiers; empty when nothing differs) and the resulting view, tags left as they are."""
    after = {**before, "scaling_config": dict(before["scaling_config"])}

    config_request: dict[str, Any] = {}
    wanted_scaling = {
        key: value for key, value in (params["scaling_config"] or {}).items() if value is not None
    }
    if any(before["scaling_config"][key] != value for key, value in wanted_scaling.items()):
        after["scaling_config"].update(wanted_scaling)
        config_request["scalingConfig"] = {
            SCALING_KEYS[key]: value
            for key, value in after["scaling_config"].items()
            if value is not None
        }
    if params["labels"] is not None:
        labels = diff_labels(before["labels"], params["labels"])
        if labels:
            config_request["labels"] = labels
            after["labels"] = params["labels"]
    if params["taints"] is not None:
        taints = diff_taints(before["taints"], params["taints"])
        if taints:
            config_request["taints"] = taints
            after["taints"] = sort_taints(params["taints"])
    update_config = wanted_update_config(params["update_config"])
    if update_config and update_config != before["update_config"]:
        config_request["updateConfig"] = after["update_config"] = update_config

    version_request: dict[str, Any] = {}
    if params["version"] and params["version"] != before["version"]:
        version_request["version"] = after["version"] = params["version"]
    if params["release_version"] and params["release_version"] != before["release_version"]:
        version_request["releaseVersion"] = params["release_version"]
        after["release_version"] = params["release_version"]
    template = nodegroup_launch_template_request(params["launch_template"])
    if (
        template
        and template.get("version")
        and template["version"] != str(before["launch_template"].get("version"))
    ):
        version_request["launchTemplate"] = template
        after["launch_template"] = {**before["launch_template"], **template}
    return config_request, version_request, after


def tag_changes(
    current: dict[str, str], wanted: dict[str, str] | None, purge: bool
) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """Tags to set, keys to unset and the resulting tags; nothing when ``wanted`` is None."""
    if wanted is None:
        return {}, [], current
    to_set, to_unset = compare_aws_tags(current, wanted, purge)
    after = {**{k: v for k, v in current.items() if k not in to_unset}, **to_set}
    return to_set, to_unset, after
