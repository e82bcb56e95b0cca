# Copyright: Plinth engineering
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters comparing desired Kubernetes objects with the cluster's (module_utils/k8s_reconcile)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.plinth.platform.plugins.module_utils import k8s_reconcile


def _require_kubernetes() -> None:
    if k8s_reconcile.parse_quantity is None:
        raise AnsibleFilterError(
            "the kubernetes Python library is required (as for kubernetes.core)"
        )


def k8s_pending(
    desired: Sequence[Mapping[str, Any]],
    live: Mapping[str, Sequence[Mapping[str, Any]]],
    unhashed: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The desired objects to apply: missing from the listings, or differing."""
    _require_kubernetes()
    if not isinstance(live, Mapping):
        raise AnsibleFilterError("k8s_pending: live must map each kind to its listed objects")
    try:
        return k8s_reconcile.pending(desired, live, unhashed)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AnsibleFilterError(f"k8s_pending: not a Kubernetes object: {exc!r}") from exc


def k8s_unready(deployments: Sequence[Mapping[str, Any]]) -> list[str]:
    """``namespace/name`` of the listed Deployments that have not rolled out."""
    _require_kubernetes()
    return [
        f"{d['metadata'].get('namespace', '')}/{d['metadata']['name']}"
        for d in deployments
        if not k8s_reconcile.deployment_ready(d)
    ]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"k8s_pending": k8s_pending, "k8s_unready": k8s_unready}
