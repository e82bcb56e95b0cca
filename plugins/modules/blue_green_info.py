#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: blue_green_info
version_added: 0.1.0
short_description: Report the blue-green slots of an app
description:
  - Reads the slots (Deployments C(<name>-blue) and C(<name>-green)), the active Service
    C(<name>) and the preview Service C(<name>-preview) that M(plinth.platform.blue_green)
    manages, and reports versions, readiness and the active selector. Changes nothing.
author: Plinth engineering (!UNKNOWN)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
options:
  name:
    description: The app's name.
    type: str
    required: true
  namespace:
    description: The app's namespace.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Which slot serves research-api?
  plinth.platform.blue_green_info:
    name: research-api
    namespace: bioinvest-api
  register: release

- name: Show it
  ansible.builtin.debug:
    msg: "{{ release.active_slot }} runs {{ release.active_version }}"
"""

RETURN = r"""
active_slot:
  description: The slot the active Service selects; null when there is no active Service.
  returned: always
  type: str
  sample: green
active_version:
  description: The version of the active slot.
  returned: always
  type: str
  sample: 1.5.0
previous_slot:
  description: The slot that served before the last switch (Service annotation).
  returned: always
  type: str
selector:
  description: The active Service's selector.
  returned: always
  type: dict
  sample: {app.kubernetes.io/name: research-api, plinth.dev/slot: green}
preview_selector:
  description: The preview Service's selector; empty when there is none.
  returned: always
  type: dict
slots:
  description: Per slot (C(blue), C(green)), whether its Deployment exists, its version, image,
    replicas, ready and updated replicas and whether it is fully Ready.
  returned: always
  type: dict
  sample:
    blue: {exists: true, version: 1.4.2, image: "repo/research-api:1.4.2", replicas: 0,
           ready_replicas: 0, updated_replicas: 0, ready: true, deployment: research-api-blue,
           template_hash: 0f3a9c2d1b7e4a65}
    green: {exists: true, version: 1.5.0, replicas: 3, ready_replicas: 3, ready: true}
"""

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.plinth.platform.plugins.module_utils.blue_green import (
    PREVIOUS_ANNOTATION,
    SLOT_LABEL,
    SLOTS,
    SlotClient,
    slot_summary,
)


def main() -> None:
    argument_spec = dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
    )
    argument_spec.update(AUTH_ARG_SPEC)
    module = AnsibleK8SModule(argument_spec=argument_spec, supports_check_mode=True)
    name = module.params["name"]
    try:
        client = SlotClient(get_api_client(module), module.params["namespace"])
        service = client.service(name) or {}
        preview = client.service(f"{name}-preview") or {}
        slots = {s: slot_summary(client.deployment(f"{name}-{s}")) for s in SLOTS}
    except CoreException as e:
        module.fail_from_exception(e)
    except Exception as e:
        module.fail_json(msg=f"Failed to read the slots of {name}: {e}", exception=repr(e))
    selector = service.get("spec", {}).get("selector") or {}
    active = selector.get(SLOT_LABEL)
    module.exit_json(
        changed=False,
        active_slot=active,
        active_version=slots[active].get("version") if active in slots else None,
        previous_slot=(service.get("metadata", {}).get("annotations") or {}).get(
            PREVIOUS_ANNOTATION
        )
        or None,
        selector=selector,
        preview_selector=preview.get("spec", {}).get("selector") or {},
        slots=slots,
    )


if __name__ == "__main__":
    main()
