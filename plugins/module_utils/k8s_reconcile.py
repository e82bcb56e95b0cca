# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which desired Kubernetes objects differ from what the cluster holds.

A server-side apply of an unchanged object costs a GET and a PATCH per object. Comparing the
desired objects with one listing per kind leaves only the missing or differing ones to apply.
Two checks, both required for an object to count as unchanged:

- a content hash of the desired object, stored in the annotation ``plinth.dev/applied-hash`` of
  what was applied: a key removed from the config (a label, an env entry) changes the hash, and
  the apply then removes the field the field manager no longer sets;
- every field of the desired object equals the live one (the live object may hold more: server
  defaults, status, other managers' fields): a field Plinth sets that was edited in the cluster is
  applied again. Resource quantities compare by value, as the API server rewrites them
  (``0.5`` reads back as ``500m``); an empty map or list reads back as absent.

Used by the ``k8s_pending`` and ``k8s_unready`` filters; the writes stay with kubernetes.core.k8s.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ansible_collections.kubernetes.core.plugins.module_utils.k8s.waiter import (
    deployment_ready as _k8s_deployment_ready,
)

try:
    from kubernetes.dynamic.resource import ResourceInstance
    from kubernetes.utils import parse_quantity
except ImportError:  # the filters report it (kubernetes.core needs the same library)
    ResourceInstance = None
    parse_quantity = None

HASH_ANNOTATION = "plinth.dev/applied-hash"
# Keys whose values are resource quantities: a container's resources.{requests,limits}, a
# ResourceQuota's spec.hard, a LimitRange's spec.limits[].{default,...}, an emptyDir's sizeLimit.
_QUANTITY_MAPS = frozenset({"requests", "limits"})
_LIMIT_RANGE_MAPS = frozenset({"default", "defaultRequest", "max", "min", "maxLimitRequestRatio"})

# A field's keys and list indices from the object's root.
KeyPath = tuple[Any, ...]
Key = tuple[str, str, str]


def object_key(obj: Mapping[str, Any], kind: str | None = None) -> Key:
    """(kind, namespace, name): a listing's items carry no kind, the caller names it."""
    metadata = obj.get("metadata") or {}
    return (kind or obj["kind"], metadata.get("namespace") or "", metadata["name"])


def content_hash(obj: Mapping[str, Any], unhashed: Iterable[str] = ()) -> str:
    """SHA-256 of the object's canonical JSON, without its own hash annotation nor the fields
    at the dotted paths ``unhashed`` (fields whose value is taken from the cluster)."""
    plain = _plain(obj)
    metadata = plain.get("metadata") or {}
    annotations = metadata.pop("annotations", None) or {}
    annotations.pop(HASH_ANNOTATION, None)
    if annotations:  # none, or only the hash: the same content
        metadata["annotations"] = annotations
    for dotted in unhashed:
        *parents, leaf = dotted.split(".")
        node: Any = plain
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def with_hash(obj: Mapping[str, Any], unhashed: Iterable[str] = ()) -> dict[str, Any]:
    """A copy of the object carrying its content hash annotation."""
    digest = content_hash(obj, unhashed)
    out = _plain(obj)
    metadata = out.setdefault("metadata", {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), HASH_ANNOTATION: digest}
    return out


def _is_quantity(path: KeyPath) -> bool:
    if not path:
        return False
    if path[-1] == "sizeLimit":
        return True
    if len(path) >= 3 and path[-3] == "resources" and path[-2] in _QUANTITY_MAPS:
        return True
    if len(path) == 3 and path[:2] == ("spec", "hard"):
        return True
    return len(path) == 5 and path[:2] == ("spec", "limits") and path[3] in _LIMIT_RANGE_MAPS


def _quantity(value: Any) -> Decimal | None:
    try:
        return parse_quantity(value)
    except (ValueError, TypeError, ArithmeticError):
        return None


def _empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def subset_matches(want: Any, have: Any, path: KeyPath = ()) -> bool:
    """Whether every field of ``want`` has the same value in ``have``."""
    if isinstance(want, Mapping):
        if _empty(want):
            return _empty(have) or isinstance(have, Mapping)
        if not isinstance(have, Mapping):
            return False
        return all(
            subset_matches(value, have.get(key), (*path, key)) for key, value in want.items()
        )
    if isinstance(want, list):
        if _empty(want):
            return _empty(have)
        # Same length: an element the config dropped must go (the hash also catches it).
        if not isinstance(have, list) or len(have) != len(want):
            return False
        return all(
            subset_matches(w, h, (*path, i))
            for i, (w, h) in enumerate(zip(want, have, strict=True))
        )
    if want is None:
        return _empty(have)
    if isinstance(want, bool) or isinstance(have, bool):
        return want is have
    if want == have:
        return True
    if _is_quantity(path):
        wanted, held = _quantity(want), _quantity(have)
        return wanted is not None and wanted == held
    return False


def pending(
    desired: Sequence[Mapping[str, Any]],
    live: Mapping[str, Sequence[Mapping[str, Any]]],
    unhashed: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The desired objects (each with its hash annotation) that are missing from ``live`` (the
    listings by kind) or differ from the live object, in their given order."""
    unhashed = tuple(unhashed)
    found = {object_key(obj, kind): obj for kind, items in live.items() for obj in items or ()}
    out = []
    for obj in desired:
        want = with_hash(obj, unhashed)
        have = found.get(object_key(want))
        if have is not None:
            # A listing's items may lack their kind and apiVersion: those of the listing.
            have = {"apiVersion": want.get("apiVersion"), "kind": want["kind"], **have}
        if have is None or not subset_matches(want, have):
            out.append(want)
    return out


def deployment_ready(obj: Mapping[str, Any]) -> bool:
    """kubernetes.core's own test of a rolled-out Deployment (what ``k8s_info`` waits for)."""
    return _k8s_deployment_ready(ResourceInstance(None, {**_plain(obj), "kind": "Deployment"}))


def _plain(value: Any) -> Any:
    """Plain dicts, lists and strings (templating may hand over subclasses)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value
