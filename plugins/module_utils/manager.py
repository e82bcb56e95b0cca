# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The ``main()`` dispatch of every module with a manager class.

A manager (``ensure_present`` / ``ensure_absent``, each ending the module with ``exit_json`` or
``fail_json``) is run by ``state``; an AWS error it does not handle itself fails the module with
what was being managed instead of a traceback.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule


class StateManager(Protocol):
    """What ``run_manager`` needs of a manager class."""

    def ensure_present(self) -> Any: ...

    def ensure_absent(self) -> Any: ...


def run_manager(module: AnsibleAWSModule, manager: StateManager, what: str) -> None:
    """Run ``ensure_present`` or ``ensure_absent`` by ``state``; AWS errors fail the module.

    ``what`` names the resource in the failure message (``Failed to manage <what>``).
    """
    try:
        if module.params["state"] == "present":
            manager.ensure_present()
        else:
            manager.ensure_absent()
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to manage {what}")
