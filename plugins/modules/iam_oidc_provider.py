#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iam_oidc_provider
version_added: 0.1.0
short_description: Manage an IAM OpenID Connect identity provider
description:
  - Create, update and delete an IAM OpenID Connect (OIDC) identity provider, typically the
    OIDC issuer of an Amazon EKS cluster, so that IAM roles can trust the cluster's service
    accounts (IAM roles for service accounts).
  - The provider is identified by its issuer URL; IAM names it
    C(arn:aws:iam::<account>:oidc-provider/<url without https://>).
author: Plinth engineering (!UNKNOWN)
options:
  url:
    description:
      - The issuer URL, for example the C(identity.oidc.issuer) of an EKS cluster
        (C(https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE)).
      - The C(https://) scheme may be omitted; a trailing slash is ignored.
    required: true
    type: str
    aliases: [issuer_url]
  client_ids:
    description:
      - The complete list of client IDs (audiences) the provider accepts; client IDs not listed
        are removed.
      - EKS service-account tokens use the audience C(sts.amazonaws.com).
    type: list
    elements: str
    default: [sts.amazonaws.com]
  thumbprints:
    description:
      - The complete list of SHA-1 thumbprints (40 hexadecimal characters) of the issuer's
        certificate chain.
      - AWS no longer needs thumbprints for well-known issuers such as EKS, whose certificates
        it validates against its own trusted root CAs; omit this option in that case.
      - When omitted on creation, the provider is created without thumbprints and IAM fills
        them in itself. When omitted for an existing provider, its thumbprints are left as
        they are.
    type: list
    elements: str
  state:
    description:
      - Whether the provider should exist.
    type: str
    choices: [present, absent]
    default: present
notes:
  - IAM is a global service; O(region) only selects the endpoint.
  - The embedded moto emulator does not implement C(AddClientIDToOpenIDConnectProvider) and
    C(RemoveClientIDFromOpenIDConnectProvider); changing O(client_ids) of an existing provider is
    tested with botocore stubs, everything else against moto.
  - O(purge_tags=true) never removes tags whose key starts with C(aws:).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Look up the cluster's OIDC issuer
  community.aws.eks_cluster:
    name: prod
    state: present
    # ...
  register: cluster

- name: Trust the cluster's service accounts
  plinth.platform.iam_oidc_provider:
    url: "{{ cluster.identity.oidc.issuer }}"
    tags:
      cluster: prod
  register: oidc

- name: Use the provider in a role's trust policy
  ansible.builtin.debug:
    msg: "{{ oidc.oidc_provider.arn }}"

- name: A non-AWS issuer with an explicit thumbprint and audience
  plinth.platform.iam_oidc_provider:
    url: https://token.actions.githubusercontent.com
    client_ids: [sts.amazonaws.com]
    thumbprints: [6938fd4d98bab03faadb97b34396831e3780aea1]

- name: Remove the provider
  plinth.platform.iam_oidc_provider:
    url: "{{ cluster.identity.oidc.issuer }}"
    state: absent
"""

RETURN = r"""
oidc_provider:
  description:
    - The provider. Empty when O(state=absent).
    - In check mode, the provider as it is now (empty when it would be created).
  returned: always
  type: dict
  contains:
    arn:
      description: ARN of the provider.
      type: str
      sample: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE
    url:
      description: The issuer URL, with its C(https://) scheme (IAM stores it without).
      type: str
      sample: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE
    client_ids:
      description: Client IDs (audiences), sorted.
      type: list
      elements: str
      sample: [sts.amazonaws.com]
    thumbprints:
      description: Thumbprints of the issuer's certificate chain, lower-case, sorted.
      type: list
      elements: str
      sample: [9e99a48a9960b14926bb7f3b02e22da2b0ab7280]
    tags:
      description: Tags of the provider.
      type: dict
      sample: {"cluster": "prod"}
    create_date:
      description: Creation time (ISO 8601).
      type: str
      sample: "2026-01-01T00:00:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    compare_aws_tags,
)
from ansible_collections.plinth.platform.plugins.module_utils.eks import (
    describe_oidc_provider,
    find_oidc_provider_arn,
    oidc_provider_path,
)
from ansible_collections.plinth.platform.plugins.module_utils.manager import run_manager


def diff_view(provider: dict) -> dict:
    """The managed settings, in the form shown in diff mode."""
    keys = ("url", "client_ids", "thumbprints", "tags")
    return {key: provider[key] for key in keys} if provider else {}


class OidcProviderManager:
    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
        self.url = "https://" + oidc_provider_path(module.params["url"])
        self.client_ids = sorted(set(module.params["client_ids"]))
        thumbprints = module.params["thumbprints"]
        self.thumbprints = None if thumbprints is None else sorted({t.lower() for t in thumbprints})
        self.changed = False

    def exit(self, before: dict, after: dict, returned: dict | None = None) -> None:
        """Exit with ``returned`` (by default ``after``) and a before/after diff."""
        result = {"changed": self.changed, "oidc_provider": after if returned is None else returned}
        if self.module._diff:
            result["diff"] = {"before": diff_view(before), "after": diff_view(after)}
        self.module.exit_json(**result)

    def current(self) -> dict | None:
        arn = find_oidc_provider_arn(self.client, self.url)
        return describe_oidc_provider(self.client, arn) if arn else None

    def ensure_present(self) -> None:
        provider = self.current()
        if provider is None:
            self.create()
        else:
            self.update(provider)

    def create(self) -> None:
        tags = self.module.params["tags"] or {}
        request = {"Url": self.url, "ClientIDList": self.client_ids}
        if self.thumbprints is not None:
            request["ThumbprintList"] = self.thumbprints
        if tags:
            request["Tags"] = ansible_dict_to_boto3_tag_list(tags)
        self.changed = True
        if self.module.check_mode:
            planned = {
                "url": self.url,
                "client_ids": self.client_ids,
                "thumbprints": self.thumbprints or [],
                "tags": tags,
            }
            self.exit({}, planned, returned={})
        arn = self.client.create_open_id_connect_provider(aws_retry=True, **request)[
            "OpenIDConnectProviderArn"
        ]
        self.exit({}, describe_oidc_provider(self.client, arn))

    def update(self, provider: dict) -> None:
        arn = provider["arn"]
        add_ids = [c for c in self.client_ids if c not in provider["client_ids"]]
        remove_ids = [c for c in provider["client_ids"] if c not in self.client_ids]
        new_thumbprints = None
        if self.thumbprints is not None and self.thumbprints != provider["thumbprints"]:
            new_thumbprints = self.thumbprints
        tags_to_set, tags_to_unset = {}, []
        if self.module.params["tags"] is not None:
            tags_to_set, tags_to_unset = compare_aws_tags(
                provider["tags"], self.module.params["tags"], self.module.params["purge_tags"]
            )

        self.changed = bool(
            add_ids or remove_ids or new_thumbprints is not None or tags_to_set or tags_to_unset
        )
        if not self.changed:
            self.exit(provider, provider)
        if self.module.check_mode:
            planned = dict(provider)
            planned["client_ids"] = self.client_ids
            if new_thumbprints is not None:
                planned["thumbprints"] = new_thumbprints
            planned["tags"] = {
                **{k: v for k, v in provider["tags"].items() if k not in tags_to_unset},
                **tags_to_set,
            }
            self.exit(provider, planned, returned=provider)

        # Add before removing so the provider never passes through an empty audience list.
        for client_id in add_ids:
            self.client.add_client_id_to_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, ClientID=client_id, aws_retry=True
            )
        for client_id in remove_ids:
            self.client.remove_client_id_from_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, ClientID=client_id, aws_retry=True
            )
        if new_thumbprints is not None:
            self.client.update_open_id_connect_provider_thumbprint(
                OpenIDConnectProviderArn=arn, ThumbprintList=new_thumbprints, aws_retry=True
            )
        if tags_to_unset:
            self.client.untag_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, TagKeys=tags_to_unset, aws_retry=True
            )
        if tags_to_set:
            self.client.tag_open_id_connect_provider(
                OpenIDConnectProviderArn=arn,
                Tags=ansible_dict_to_boto3_tag_list(tags_to_set),
                aws_retry=True,
            )
        self.exit(provider, describe_oidc_provider(self.client, arn))

    def ensure_absent(self) -> None:
        provider = self.current()
        if provider is None:
            self.exit({}, {})
        self.changed = True
        if not self.module.check_mode:
            self.client.delete_open_id_connect_provider(
                OpenIDConnectProviderArn=provider["arn"], aws_retry=True
            )
        self.exit(provider, {})


def main() -> None:
    argument_spec = dict(
        url=dict(type="str", required=True, aliases=["issuer_url"]),
        client_ids=dict(type="list", elements="str", default=["sts.amazonaws.com"]),
        thumbprints=dict(type="list", elements="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    run_manager(module, OidcProviderManager(module), f"IAM OIDC provider {module.params['url']}")


if __name__ == "__main__":
    main()
