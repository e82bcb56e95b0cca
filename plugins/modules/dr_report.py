#!/usr/bin/python
# ruff: noqa: E402  (Ansible requires DOCUMENTATION/EXAMPLES/RETURN before any import)

# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: dr_report
version_added: "0.3.0"
short_description: Write a DR run's report, as JSON and as a readable summary, in one step
description:
  - Writes O(report) to C(<path>.json) and O(summary) to C(<path>.md), creating the directory
    (mode C(0750)) when it is missing. Each file is written to a temporary file next to it and
    moved into place, so a reader never sees half a report.
  - Used by the C(plinth.platform.dr) role at the end of every failover, failback and drill; one
    module run instead of a directory, a copy and a template task.
  - A report is an artifact of the run, not state the run manages - writing one is not reported
    as a change, so a rerun that changes nothing else still reports C(changed=false). In check
    mode nothing is written.
author: Plinth engineering (!UNKNOWN)
options:
  path:
    description:
      - The files' path without extension, for example C(/srv/reports/dr-failover-x-20260101T0000Z).
    required: true
    type: path
  report:
    description:
      - The report, written as indented JSON with sorted keys.
    required: true
    type: dict
  summary:
    description:
      - The readable summary (Markdown), written as it is.
    required: true
    type: str
  mode:
    description:
      - Permissions of the two files.
    type: raw
    default: "0640"
"""

EXAMPLES = r"""
- name: Write the report
  plinth.platform.dr_report:
    path: "{{ playbook_dir }}/../reports/dr-failover-{{ plinth_prefix }}"
    report: "{{ dr_report }}"
    summary: "{{ lookup('ansible.builtin.template', 'summary.md.j2') }}"
"""

RETURN = r"""
files:
  description: The report files (also in check mode, where they are not written).
  returned: always
  type: list
  elements: str
  sample: [/srv/reports/dr-failover-x.json, /srv/reports/dr-failover-x.md]
written:
  description: Whether the files were written (false in check mode).
  returned: always
  type: bool
"""

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule


def write(module: AnsibleModule, dest: str, content: str) -> None:
    """Write ``content`` to ``dest`` through a temporary file in the same directory."""
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(dest), prefix=".dr-report-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(content)
    module.atomic_move(temp, dest)
    module.set_mode_if_different(dest, module.params["mode"], False)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            report=dict(type="dict", required=True),
            summary=dict(type="str", required=True),
            mode=dict(type="raw", default="0640"),
        ),
        supports_check_mode=True,
    )
    base = module.params["path"]
    files = [f"{base}.json", f"{base}.md"]
    if module.check_mode:
        module.exit_json(changed=False, files=files, written=False)
    directory = os.path.dirname(base) or "."
    try:
        os.makedirs(directory, mode=0o750, exist_ok=True)
        report = json.dumps(module.params["report"], indent=4, sort_keys=True)
        write(module, files[0], report + "\n")
        write(module, files[1], module.params["summary"])
    except OSError as e:
        module.fail_json(msg=f"Failed to write the report {base}: {e}", files=files)
    module.exit_json(changed=False, files=files, written=True)


if __name__ == "__main__":
    main()
