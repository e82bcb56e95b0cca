#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: iam_oidc_provider_info
version_added: 0.1.0
short_description: Describe IAM OpenID Connect identity providers
description:
  - Describe the IAM OpenID Connect (OIDC) identity provider of one issuer URL, or every OIDC
    provider of the account.
author: Plinth engineering (!UNKNOWN)
options:
  url:
    description:
      - Issuer URL of the provider to describe; the C(https://) scheme may be omitted.
      - When omitted, every OIDC provider of the account is described.
    type: str
    aliases: [issuer_url]
notes:
  - IAM is a global service; O(region) only selects the endpoint.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find the provider of a cluster's issuer
  plinth.platform.iam_oidc_provider_info:
    url: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
  register: oidc

- name: List every OIDC provider
  plinth.platform.iam_oidc_provider_info:
  register: all_oidc
"""

RETURN = r"""
oidc_providers:
  description:
    - The providers, sorted by URL. Empty when no provider matches.
    - See M(plinth.platform.iam_oidc_provider) for the fields.
  returned: always
  type: list
  elements: dict
  sample:
    - arn: arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE
      url: https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE
      client_ids: [sts.amazonaws.com]
      thumbprints: []
      tags: {}
      create_date: "2026-01-01T00:00:00+00:00"
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.eks import (
    describe_oidc_provider,
    find_oidc_provider_arn,
    list_oidc_provider_arns,
)


def describe_providers(client, url) -> list:
    if url:
        arn = find_oidc_provider_arn(client, url)
        arns = [arn] if arn else []
    else:
        arns = list_oidc_provider_arns(client)
    providers = (describe_oidc_provider(client, arn) for arn in arns)
    # A provider deleted between the listing and its description is simply gone.
    return sorted((p for p in providers if p), key=lambda p: p["url"])


def main() -> None:
    argument_spec = dict(url=dict(type="str", aliases=["issuer_url"]))
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    try:
        providers = describe_providers(client, module.params["url"])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to describe IAM OIDC providers")
    module.exit_json(changed=False, oidc_providers=providers)


if __name__ == "__main__":
    main()
