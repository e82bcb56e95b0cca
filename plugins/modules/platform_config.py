#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: platform_config
short_description: Validate and normalise the Plinth environment config
version_added: "0.1.0"
description:
  - Validates the C(platform) variable of an environment against the schema in C(docs/config.md)
    and returns it normalised, with every default filled in and the subnets planned.
  - "Reports every problem at once, each naming the full key path, the offending value and what is
    expected, for example C(platform.network.cidr: '10.0.0.0/33' is not a valid CIDR)."
  - Unknown keys are errors, so a typo is never silently ignored.
  - Makes no AWS calls and changes nothing, so it is safe in check mode and always reports
    C(changed=false).
  - An action plugin of the same name runs the same validation on the controller, so no module is
    shipped to a host; this module is the fallback and the documentation.
  - Some keys may hold a secret (C(monitoring.topics.<severity>.https) endpoints often embed an
    integration key; the URLs of C(apps[].blue_green.pre_analysis) and C(post_analysis) may carry
    credentials). Error messages name their key path but never quote their value.
  - The action plugin returns a valid config whole but hidden from the output at every verbosity,
    as C(no_log) would (the registered result keeps every value); failures stay visible. This
    module cannot hide its result, so it masks those values in its result and invocation instead.
author:
  - Plinth engineering (!UNKNOWN)
options:
  config:
    description:
      - The whole C(platform) value of the environment.
      - Keys, types, defaults and the subnet planning rules are described in C(docs/config.md).
    type: raw
    required: true
attributes:
  check_mode:
    support: full
    description: The module is read-only; check mode returns the same result.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
notes:
  - Subnets are planned per tier (private, public, database) and availability zone, in that order,
    each taking the lowest free aligned block of the tier's prefix inside C(network.cidr), unless
    the tier gives explicit C(cidrs).
"""

EXAMPLES = r"""
- name: Validate the environment config
  plinth.platform.platform_config:
    config: "{{ platform }}"
  register: config_result

- name: Show the planned private subnets
  ansible.builtin.debug:
    msg: "{{ config_result.subnets.private | map(attribute='cidr') | list }}"

- name: Validate an inline config
  plinth.platform.platform_config:
    config:
      name: bioinvest
      environment: staging
      region: us-east-1
      availability_zones: [us-east-1a, us-east-1b]
      network:
        cidr: 10.20.0.0/16
        nat: single
"""

RETURN = r"""
config:
  description:
    - The normalised config, every default filled in.
    - C(network.subnets) holds the subnet plan instead of the per-tier overrides.
    - Sections reserved for later layers (C(databases), C(caches), C(buckets), C(monitoring),
      C(apps)) are returned as given.
    - From this module (not the action plugin), the strings at keys that may hold a secret are
      masked as Ansible masks C(no_log) values (C(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER)).
  returned: success
  type: dict
  sample:
    name: bioinvest
    environment: production
    region: us-east-1
    dr_region: null
    availability_zones: [us-east-1a, us-east-1b, us-east-1c]
    tags: {}
    network:
      cidr: 10.0.0.0/16
      subnets:
        private:
          - {az: us-east-1a, cidr: 10.0.0.0/20}
        public:
          - {az: us-east-1a, cidr: 10.0.48.0/24}
        database:
          - {az: us-east-1a, cidr: 10.0.51.0/24}
      nat: per_az
      alb_ingress_cidrs: [0.0.0.0/0]
      flow_logs: {enabled: true, traffic_type: ALL, retention_days: 30}
      s3_endpoint: true
    eks: null
    databases: {}
    caches: {}
    buckets: []
    monitoring: {}
    apps: []
subnets:
  description: The subnet plan, a shortcut for C(config.network.subnets).
  returned: success
  type: dict
  contains:
    private:
      description: One private subnet per availability zone, in the order of the zones.
      type: list
      elements: dict
      sample: [{az: us-east-1a, cidr: 10.0.0.0/20}]
    public:
      description: One public subnet per availability zone, in the order of the zones.
      type: list
      elements: dict
      sample: [{az: us-east-1a, cidr: 10.0.48.0/24}]
    database:
      description: One database subnet per availability zone, in the order of the zones.
      type: list
      elements: dict
      sample: [{az: us-east-1a, cidr: 10.0.51.0/24}]
errors:
  description: Every validation error, one message per problem, each starting with its key path.
  returned: failure
  type: list
  elements: str
  sample: ["platform.network.cidr: '10.0.0.0/33' is not a valid CIDR"]
"""

# Imports follow the documentation blocks, as ansible-test expects of modules.
from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.plinth.platform.plugins.module_utils.config import (  # noqa: E402
    ARGUMENT_SPEC,
    result_for,
    secret_values,
)


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    # A module cannot hide its result as the action plugin does: mask the secrets instead, in the
    # result and in its invocation, as Ansible masks no_log options.
    module.no_log_values.update(secret_values(module.params["config"]))
    result = result_for(module.params["config"])
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
