"""The realistic-latency profile's settings, read from the environment.

Durations are what real AWS typically takes, in seconds; the profile divides them by
``PLINTH_EMULATOR_LATENCY_SCALE`` (default 60, i.e. 1:60: ten minutes become ten seconds) and
never goes below ``PLINTH_EMULATOR_LATENCY_MIN_SECONDS`` (default 0).
``PLINTH_EMULATOR_LATENCY_<KEY>`` (e.g. ``PLINTH_EMULATOR_LATENCY_EKS_CLUSTER_CREATE=3``) sets one
transition's emulator seconds directly, unscaled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

ENV_ENABLED = "PLINTH_EMULATOR_LATENCY"
ENV_SCALE = "PLINTH_EMULATOR_LATENCY_SCALE"
ENV_MIN = "PLINTH_EMULATOR_LATENCY_MIN_SECONDS"
ENV_PREFIX = "PLINTH_EMULATOR_LATENCY_"
DEFAULT_SCALE = 60.0

# Real-AWS seconds per transition (typical figures from the service guides and experience).
REAL_SECONDS: dict[str, float] = {
    "NAT_CREATE": 120,  # pending -> available
    "NAT_DELETE": 60,  # deleting -> deleted
    "RDS_CREATE": 480,  # single-AZ creating -> available
    "RDS_CREATE_MULTI_AZ": 900,  # Multi-AZ creating -> available
    "RDS_REPLICA": 600,  # same-region read replica creating -> available
    "RDS_REPLICA_CROSS_REGION": 1200,  # cross-region read replica creating -> available
    "RDS_MODIFY": 300,  # modifying -> available
    "RDS_PROMOTE": 300,  # promote: modifying -> available
    "RDS_DELETE": 300,  # deleting -> gone
    "EKS_CLUSTER_CREATE": 600,  # CREATING -> ACTIVE
    "EKS_CLUSTER_DELETE": 300,  # DELETING -> gone
    "EKS_NODEGROUP_CREATE": 240,  # CREATING -> ACTIVE
    "EKS_NODEGROUP_UPDATE": 240,  # UPDATING -> ACTIVE
    "EKS_NODEGROUP_DELETE": 240,  # DELETING -> gone
    "ELASTICACHE_CREATE": 600,  # creating -> available
    "ELASTICACHE_MODIFY": 300,  # modifying -> available
    "ELASTICACHE_DELETE": 300,  # deleting -> gone
}


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class LatencyProfile:
    enabled: bool = False
    scale: float = DEFAULT_SCALE
    min_seconds: float = 0.0
    overrides: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LatencyProfile:
        env = os.environ if env is None else env
        scale = float(env.get(ENV_SCALE) or DEFAULT_SCALE)
        if scale <= 0:
            raise ValueError(f"{ENV_SCALE} must be positive, got {scale}")
        overrides = {
            key: float(env[ENV_PREFIX + key]) for key in REAL_SECONDS if env.get(ENV_PREFIX + key)
        }
        return cls(
            enabled=_truthy(env.get(ENV_ENABLED)),
            scale=scale,
            min_seconds=float(env.get(ENV_MIN) or 0.0),
            overrides=overrides,
        )

    def seconds(self, key: str) -> float:
        """Emulator seconds for transition ``key``; 0 when the profile is off."""
        if not self.enabled:
            return 0.0
        if key in self.overrides:
            return self.overrides[key]
        return max(self.min_seconds, REAL_SECONDS[key] / self.scale)

    def describe(self) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "scale": self.scale,
            "min_seconds": self.min_seconds,
            "seconds": {key: round(self.seconds(key), 3) for key in REAL_SECONDS},
        }
