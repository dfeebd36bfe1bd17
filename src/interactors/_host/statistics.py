"""Snapshots of actors and systems, read without sending any actor a message."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("ActorStatistics", "SystemStatistics")


@dataclass(frozen=True, slots=True)
class ActorStatistics:
    """A snapshot of one actor, read without sending it a message."""

    name: str
    actor_id: int
    state: str
    isolation: str
    interpreter_id: int | None
    mailbox_depth: int
    mailbox_size: int
    messages_handled: int
    errors: int
    restarts: int
    busy_seconds: float | None
    """How long the message in flight has been running, ``None`` when idle."""
    asks_in_flight: int = 0
    """Asks from the host waiting for this actor's reply."""
    thread_id: int | None = None
    """Native id of the OS thread that runs the actor (``None`` while it has none)."""
    process_id: int | None = None
    """The OS process of an ``isolation="process"`` actor's current incarnation."""


@dataclass(frozen=True, slots=True)
class SystemStatistics:
    """A snapshot of a system: its actors, interpreters and lifecycle event counts."""

    actors: tuple[ActorStatistics, ...]
    backend: str
    interpreters_created: int
    interpreters_destroyed: int
    abandoned: tuple[str, ...]
    """Names of actors whose stuck interpreters were given up (still running)."""
    events: dict[str, int]
    """Lifecycle event counts: ``crashed``, ``restarted``, ``hung``, ``gave_up``, ..."""
