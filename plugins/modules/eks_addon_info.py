#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: eks_addon_info
version_added: 0.1.0
short_description: List and describe the add-ons of an Amazon EKS cluster
description:
  - Describe one add-on, or every add-on, installed on an Amazon EKS cluster.
author: Plinth engineering (!UNKNOWN)
options:
  name:
    description:
      - Name of a single add-on to describe. When omitted, every add-on of the cluster is
        described.
    type: str
    aliases: [addon_name]
notes:
  - The embedded moto emulator does not implement the EKS add-on API (C(ListAddons) and
    C(DescribeAddon) fail with C(404 Not yet implemented)); the module is tested with botocore
    stubs.
  - A cluster that does not exist has no add-ons; the module then returns an empty list.
extends_documentation_fragment:
  - plinth.platform.eks
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Describe every add-on of the cluster
  plinth.platform.eks_addon_info:
    cluster_name: prod
  register: addons

- name: Describe the VPC CNI
  plinth.platform.eks_addon_info:
    cluster_name: prod
    name: vpc-cni
  register: vpc_cni
"""

RETURN = r"""
addons:
  description:
    - The add-ons, as EKS describes them, snake-cased (tag keys are left as they are), sorted by
      name. See M(plinth.platform.eks_addon) for the fields.
    - Empty when the add-on or the cluster does not exist.
  returned: always
  type: list
  elements: dict
  sample:
    - addon_name: vpc-cni
      addon_version: v1.18.3-eksbuild.1
      cluster_name: prod
      status: ACTIVE
      tags: {}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.plinth.platform.plugins.module_utils.eks import (
    describe_addon,
    list_addon_names,
    normalize_addon,
)


def describe_addons(client, cluster_name: str, name) -> list:
    if name:
        names = [name]
    else:
        try:
            names = list_addon_names(client, cluster_name)
        except is_boto3_error_code("ResourceNotFoundException"):
            return []
    addons = (describe_addon(client, cluster_name, n) for n in sorted(names))
    # An add-on deleted between the listing and its description is simply gone.
    return [normalize_addon(addon) for addon in addons if addon]


def main() -> None:
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", aliases=["addon_name"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.client("eks", retry_decorator=AWSRetry.jittered_backoff())
    try:
        addons = describe_addons(client, module.params["cluster_name"], module.params["name"])
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Failed to describe EKS add-ons")
    module.exit_json(changed=False, addons=addons)


if __name__ == "__main__":
    main()
