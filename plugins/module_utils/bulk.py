# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared by the modules that manage a set of resources of one kind in one run (``kms_keys``,
``s3_buckets``, ``sns_topics``, ``cloudwatch_log_groups``): names given twice are refused before
any call, and each write fails the module with what it was doing."""

from __future__ import annotations

import contextlib
from typing import Any

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError


def refuse_duplicates(module: Any, names: list[str], what: str) -> None:
    """Fail the module when a name is given more than once."""
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        module.fail_json(msg=f"Duplicate {what}: {', '.join(duplicates)}")


def call(module: Any, client: Any, action: str, what: str, **params: Any) -> Any:
    """``client.<action>(**params)`` with the client's retries; on an error, fail the module
    saying what failed (``what``: "create topic x")."""
    try:
        return getattr(client, action)(aws_retry=True, **params)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to {what}")
    return None
