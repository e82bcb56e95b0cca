# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side ``plinth.platform.platform_config``: validate without shipping a module.

The validation is pure Python and needs nothing from the managed host, so running it here saves
the module round trip (about a second per play); the module of the same name holds the docs and
is the fallback. Both build their result with ``module_utils.config.result_for``.

A valid config is returned whole (the roles need every value) but hidden from the output, as
``no_log`` would: it holds secrets such as HTTPS alert endpoints with an integration key, and any
``-v`` would print them. A failure stays visible: its messages name key paths and never quote a
value that may be a secret.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase
from ansible_collections.plinth.platform.plugins.module_utils.config import (
    ARGUMENT_SPEC,
    result_for,
)


class ActionModule(ActionBase):
    # Read-only: check mode gets the same result as a normal run.
    _supports_check_mode = True
    _supports_async = False
    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp  # no remote temp dir is ever used
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result.update(result_for(args["config"]))
        if not result.get("failed"):
            result["_ansible_no_log"] = True
        return result
