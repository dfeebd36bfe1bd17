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

from .._host.options import (
    RESTARTS,
    SPAWN_OPTIONS,
    STRATEGIES,
    check_actor,
    check_choice,
    check_count,
    check_fraction,
    check_name,
    check_seconds,
    check_shutdown,
    check_spawn_options,
)

__all__ = ("AutoShutdown", "Backoff", "ChildSpec", "Restart", "Strategy", "Supervisor")

Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
Restart = Literal["permanent", "transient", "temporary"]
AutoShutdown = Literal["never", "any_significant", "all_significant"]
AUTO_SHUTDOWNS: Final = ("never", "any_significant", "all_significant")
# 2.0 ** 1024 raises OverflowError; a float product past the range is just inf.
_MAX_DOUBLINGS: Final = 1023


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
        check_seconds("Backoff min", self.min, zero_ok=True)
        check_seconds("Backoff max", self.max, zero_ok=True)
        if self.max < self.min:
            raise ValueError(f"Backoff max must be at least min ({self.min}), got {self.max}")
        check_fraction("Backoff jitter", self.jitter)
        if self.reset_after is not None:
            check_seconds("Backoff reset_after", self.reset_after)

    def delay(self, attempt: int) -> float:
        if attempt <= 0 or self.max == 0:
            return 0.0
        # The exponent is capped: 2.0 ** 1024 overflows, and a child restarted that often
        # must keep being restarted (at ``max``), not kill its supervisor's task.
        base = min(self.max, self.min * 2.0 ** min(attempt - 1, _MAX_DOUBLINGS))
        spread = base * self.jitter
        return float(max(0.0, base + random.uniform(-spread, spread)))

    def quiet_period(self) -> float:
        return self.reset_after if self.reset_after is not None else max(1.0, self.max * 4)


def check_significant(name: str | None, restart: str, significant: object, what: str) -> None:
    """``what`` names the child when it has no name (its actor, or "a supervisor")."""
    if not isinstance(significant, bool):
        raise TypeError(f"significant must be a bool, got {significant!r}")
    if significant and restart == "permanent":
        child = f"child {name!r}" if name is not None else what
        raise ValueError(
            f"{child} is significant and permanent: a significant child must be "
            'restart="transient" or "temporary" (a permanent one would never end by itself)'
        )


class ChildSpec:
    """How to start (and restart) one supervised actor.

    ``ChildSpec(Parser, 4, name="parser", restart="transient", shutdown=2.0)``: positional
    arguments and unknown keywords go to the actor's constructor; ``name``, ``restart``,
    ``shutdown`` and the spawn options (``isolation``, ``codec``, ``mailbox_size``,
    ``max_concurrency``, ``on_error``, ``handler_timeout``, ``fresh_interpreter``) configure it.
    ``fresh_interpreter=True`` restarts it in a new interpreter instead of in place.
    ``significant=True`` (only for a ``transient`` or ``temporary`` child, as in OTP) lets
    its own exit end its supervisor, per the supervisor's ``auto_shutdown``.
    """

    def __init__(
        self,
        actor: type | str,
        *args: Any,
        name: str | None = None,
        restart: Restart = "permanent",
        shutdown: float | None = None,
        significant: bool = False,
        **kwargs: Any,
    ) -> None:
        check_actor(actor)
        check_name("name", name)
        check_choice("restart", restart, RESTARTS)
        check_shutdown("shutdown", shutdown)
        check_significant(name, restart, significant, f"the child of {actor!r}")
        self.actor = actor
        self.args = args
        self.name = name
        self.restart: str = restart
        self.shutdown = shutdown
        self.significant = significant
        self.options: dict[str, Any] = {k: kwargs.pop(k) for k in SPAWN_OPTIONS if k in kwargs}
        check_spawn_options(self.options)
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"ChildSpec({self.actor!r}, name={self.name!r}, restart={self.restart!r})"


@dataclass(frozen=True)
class Supervisor:
    """A supervisor spec: a strategy, a restart intensity and children (specs or supervisors).

    ``max_restarts`` restarts within ``within`` seconds are tolerated; one more and the
    supervisor gives up (Erlang/OTP's default is 1 in 5 s; ours is 3 in 5 s). ``shutdown``
    is the default shutdown timeout of its child actors that do not set their own.
    ``auto_shutdown`` (OTP 24): ``"any_significant"`` ends the supervisor normally once a
    significant child exits by itself, ``"all_significant"`` once all of them have;
    ``"never"`` (the default) ignores significance.
    """

    strategy: Strategy = "one_for_one"
    max_restarts: int = 3
    within: float = 5.0
    backoff: Backoff = field(default_factory=Backoff)
    children: Sequence[ChildSpec | Supervisor] = ()
    name: str | None = None
    restart: Restart = "permanent"
    shutdown: float | None = None
    auto_shutdown: AutoShutdown = "never"
    significant: bool = False

    def __post_init__(self) -> None:
        check_choice("auto_shutdown", self.auto_shutdown, AUTO_SHUTDOWNS)
        check_significant(
            self.name, self.restart, self.significant, f"a {type(self).__name__} child"
        )
        check_choice("strategy", self.strategy, STRATEGIES)
        check_count("max_restarts", self.max_restarts, 0)
        check_seconds("within", self.within)
        check_choice("restart", self.restart, RESTARTS)
        check_name("name", self.name)
        check_shutdown("shutdown", self.shutdown)
        if not isinstance(self.backoff, Backoff):
            raise TypeError(f"backoff must be a Backoff, got {self.backoff!r}")
        children: object = self.children  # checked: callers are not always type-checked
        if isinstance(children, str | bytes) or not isinstance(children, Sequence):
            raise TypeError(
                f"children must be a list of ChildSpec and Supervisor, got {self.children!r}"
            )
        for child in self.children:
            if not isinstance(child, ChildSpec | Supervisor):
                raise TypeError(
                    f"children of supervisor {self.name!r} must be ChildSpec or Supervisor, "
                    f"got {child!r}: wrap an actor class as ChildSpec(cls, name=...)"
                )
        names = [c.name for c in self.children if c.name is not None]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate child names in supervisor {self.name!r}: {names}")
