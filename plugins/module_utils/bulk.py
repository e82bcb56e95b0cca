# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared by the modules that manage a set of resources of one kind in one run (``kms_keys``,
``s3_buckets``, ``sns_topics``, ``cloudwatch_log_groups``): names given twice are refused before
any call, and each write fails the module with what it was doing. An item may name its own
``region`` (default: the module's), so one run covers the primary and the DR region; names must
then be unique per region only, and the module works region by region with one client each."""

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


def item_region(module: Any, item: dict[str, Any]) -> str:
    """The region of an item: its own ``region`` when given, else the module's."""
    return item.get("region") or module.region


def refuse_duplicates_by_region(
    module: Any, items: list[dict[str, Any]], names: list[str], what: str
) -> None:
    """Fail the module when a name is given more than once in one region (``names[i]`` is the
    name of ``items[i]``); the same name in two regions is two resources."""
    keys = [(item_region(module, item), name) for item, name in zip(items, names, strict=True)]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        listed = ", ".join(f"{name} ({region})" for region, name in duplicates)
        module.fail_json(msg=f"Duplicate {what}: {listed}")


def by_region(module: Any, items: list[dict[str, Any]]) -> dict[str, list[int]]:
    """Region -> the indexes of its items, regions in the order they first appear."""
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(item_region(module, item), []).append(index)
    return groups


def diff_key(module: Any, region: str, name: str) -> str:
    """The diff entry of a resource: its name in the module's region (as before regions per
    item), ``region:name`` in another region."""
    return name if region == module.region else f"{region}:{name}"


def call(module: Any, client: Any, action: str, what: str, **params: Any) -> Any:
    """``client.<action>(**params)`` with the client's retries; on an error, fail the module
    saying what failed (``what``: "create topic x")."""
    try:
        return getattr(client, action)(aws_retry=True, **params)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg=f"Failed to {what}")
    return None
