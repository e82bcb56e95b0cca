"""Time-based status primitives for the emulator's patch layer (runs inside the server process).

moto sets a resource's status once (``self.status = "available"``) and never changes it. To show the
transitional states AWS shows, the status attribute of a model class is replaced by a data
descriptor: the value moto stores stays in the instance ``__dict__`` under the same name (so code
that copies ``__dict__`` sees what upstream would), and a transition registered for the instance
makes the descriptor report the transitional status until its deadline. Nothing runs in the
background: the status is computed from the clock when it is read.

Deletions that AWS performs asynchronously are "ghosts": the object stays in its backend (listed,
described, blocking dependants) until its deadline, then the next request removes it (``reap``).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_lock = threading.RLock()


@dataclass
class _Transition:
    ref: weakref.ref[Any]
    status: str
    until: float


@dataclass
class _Ghost:
    ref: weakref.ref[Any]
    until: float
    remove: Callable[[], None]


# Keyed by (id(obj), attribute): the weak reference guards against id reuse after a reset.
_transitions: dict[tuple[int, str], _Transition] = {}
_ghosts: dict[int, _Ghost] = {}


def _live(ref: weakref.ref[Any], obj: Any) -> bool:
    return ref() is obj


class TimedStatus:
    """Data descriptor for a status attribute that may be in a timed transition."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        with _lock:
            key = (id(obj), self.name)
            transition = _transitions.get(key)
            if transition is not None:
                if _live(transition.ref, obj) and time.monotonic() < transition.until:
                    return transition.status
                del _transitions[key]
        return obj.__dict__.get(self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        # moto setting the status itself (stop, start, delete...) ends any transition in progress.
        with _lock:
            _transitions.pop((id(obj), self.name), None)
        obj.__dict__[self.name] = value


def install(cls: type, name: str) -> None:
    """Make ``cls.<name>`` a TimedStatus (idempotent)."""
    if not isinstance(cls.__dict__.get(name), TimedStatus):
        setattr(cls, name, TimedStatus(name))


def begin(obj: Any, name: str, transitional: str, seconds: float) -> None:
    """Report ``transitional`` for ``seconds``, then the value moto stored."""
    if seconds <= 0:
        return
    with _lock:
        _transitions[(id(obj), name)] = _Transition(
            weakref.ref(obj), transitional, time.monotonic() + seconds
        )


def ghost(obj: Any, seconds: float, remove: Callable[[], None]) -> None:
    """Keep ``obj`` (already back in its backend) until ``seconds`` pass, then call ``remove``."""
    with _lock:
        _ghosts[id(obj)] = _Ghost(weakref.ref(obj), time.monotonic() + max(0.0, seconds), remove)


def is_ghost(obj: Any) -> bool:
    with _lock:
        entry = _ghosts.get(id(obj))
        return entry is not None and _live(entry.ref, obj)


def reap() -> None:
    """Remove every ghost whose deadline has passed; called before each request is handled."""
    now = time.monotonic()
    with _lock:
        due = [(key, g) for key, g in _ghosts.items() if g.until <= now or g.ref() is None]
        for key, entry in due:
            del _ghosts[key]
            if entry.ref() is not None:
                entry.remove()


def clear() -> None:
    """Forget every transition and ghost (moto's reset replaces all backends)."""
    with _lock:
        _transitions.clear()
        _ghosts.clear()
