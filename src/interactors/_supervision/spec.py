"""Supervision specs with Erlang/OTP semantics, plus Akka-style restart backoff.

Plain, immutable descriptions, turned into running nodes by :mod:`.tree`::

    Supervisor(strategy, max_restarts, within, backoff, children, name)   -> SupervisorNode
    ChildSpec(actor, *args, name, restart, shutdown, **options/kwargs)   -> ChildNode

A child's restart type says whether it is restarted when its incarnation ends
(``permanent``: always; ``transient``: only after an abnormal exit; ``temporary``: never);
the supervisor's strategy says which children restart with it:

- ``one_for_one``: restart only that child;
- ``one_for_all``: terminate the other children in reverse start order, restart all in order;
- ``rest_for_one``: terminate the children started after it (reverse order), restart it and them.

More than ``max_restarts`` restarts within ``within`` seconds and the supervisor gives up.
Between successive restarts of the same child, the supervisor waits per its
:class:`Backoff` (reset once the child has run quietly for ``backoff.reset_after``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = ("Backoff", "ChildSpec", "Restart", "Strategy", "Supervisor")

Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
Restart = Literal["permanent", "transient", "temporary"]
STRATEGIES: Final = ("one_for_one", "one_for_all", "rest_for_one")
RESTARTS: Final = ("permanent", "transient", "temporary")
_SPAWN_OPTIONS: Final = (
    "isolation",
    "codec",
    "mailbox_size",
    "max_concurrency",
    "on_error",
    "handler_timeout",
    "fresh_interpreter",
)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay between successive restarts of one child: ``min * 2**n`` capped at ``max``,
    spread by ``±jitter`` (a fraction). ``n`` resets after ``reset_after`` quiet seconds
    (default: four times ``max``, at least one second)."""

    min: float = 0.0
    max: float = 1.0
    jitter: float = 0.1
    reset_after: float | None = None

    def __post_init__(self) -> None:
        if self.min < 0 or self.max < self.min or not 0 <= self.jitter <= 1:
            raise ValueError("Backoff needs 0 <= min <= max and 0 <= jitter <= 1")

    def delay(self, attempt: int) -> float:
        if attempt <= 0 or self.max == 0:
            return 0.0
        base = min(self.max, self.min * 2 ** (attempt - 1))
        spread = base * self.jitter
        return float(max(0.0, base + random.uniform(-spread, spread)))

    def quiet_period(self) -> float:
        return self.reset_after if self.reset_after is not None else max(1.0, self.max * 4)


class ChildSpec:
    """How to start (and restart) one supervised actor.

    ``ChildSpec(Parser, 4, name="parser", restart="transient", shutdown=2.0)``: positional
    arguments and unknown keywords go to the actor's constructor; ``name``, ``restart``,
    ``shutdown`` and the spawn options (``isolation``, ``codec``, ``mailbox_size``,
    ``max_concurrency``, ``on_error``, ``handler_timeout``, ``fresh_interpreter``) configure it.
    ``fresh_interpreter=True`` restarts it in a new interpreter instead of in place.
    """

    def __init__(
        self,
        actor: type | str,
        *args: Any,
        name: str | None = None,
        restart: Restart = "permanent",
        shutdown: float | None = None,
        **kwargs: Any,
    ) -> None:
        if restart not in RESTARTS:
            raise ValueError(f"restart must be one of {RESTARTS}, got {restart!r}")
        self.actor = actor
        self.args = args
        self.name = name
        self.restart: str = restart
        self.shutdown = shutdown
        self.options = {k: kwargs.pop(k) for k in _SPAWN_OPTIONS if k in kwargs}
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"ChildSpec({self.actor!r}, name={self.name!r}, restart={self.restart!r})"


@dataclass(frozen=True)
class Supervisor:
    """A supervisor spec: a strategy, a restart intensity and children (specs or supervisors).

    ``max_restarts`` restarts within ``within`` seconds are tolerated; one more and the
    supervisor gives up (Erlang/OTP's default is 1 in 5 s; ours is 3 in 5 s). ``shutdown``
    is the default shutdown timeout of its child actors that do not set their own.
    """

    strategy: Strategy = "one_for_one"
    max_restarts: int = 3
    within: float = 5.0
    backoff: Backoff = field(default_factory=Backoff)
    children: Sequence[ChildSpec | Supervisor] = ()
    name: str | None = None
    restart: Restart = "permanent"
    shutdown: float | None = None

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.max_restarts < 0 or self.within <= 0:
            raise ValueError("max_restarts must be >= 0 and within > 0")
        if self.restart not in RESTARTS:
            raise ValueError(f"restart must be one of {RESTARTS}, got {self.restart!r}")
        names = [c.name for c in self.children if c.name is not None]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate child names in supervisor {self.name!r}: {names}")
