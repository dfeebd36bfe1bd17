"""The host's logging levels, kept in step inside running actors.

A worker takes the host's levels when it starts (:func:`.actor_logs.host_log_levels`:
the root logger's effective level and every level set on a named logger). Once a system
has actors, a task of its own compares those levels with the ones last sent, every
:data:`CHECK_SECONDS`, and on a change puts a LOG_LEVELS control message on the control
queue of every actor with a worker, waking it: the worker applies the new levels between
two messages, or at once when it is idle (see :mod:`interactors._inside.log_levels`).
:func:`refresh_log_levels` does the same check at once, for every running system.

Nothing in ``logging`` is patched or wrapped: the check reads the levels the way
``logging`` exposes them, which costs microseconds per second for a few hundred loggers.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Final

import anyio

from .. import _backend as backend
from .._wire import envelope as P
from .actor_logs import host_log_levels
from .messaging import W_SERVING, W_WAITING
from .ref import systems

if TYPE_CHECKING:
    from .system import ActorSystem

__all__ = ("CHECK_SECONDS", "LevelWatch", "refresh_log_levels")

CHECK_SECONDS: Final = 1.0


class LevelWatch:
    """One system's view of the levels its actors have, and the task that keeps it."""

    def __init__(self, system: ActorSystem) -> None:
        self.system = system
        self.sent = host_log_levels()

    @classmethod
    def of(cls, system: ActorSystem) -> LevelWatch:
        """The system's watch, started with its first actor."""
        watch: LevelWatch | None = getattr(system, "_level_watch", None)
        if watch is None:
            watch = cls(system)
            system._level_watch = watch  # type: ignore[attr-defined]
            system._schedule(watch.run)
        return watch

    async def run(self) -> None:
        while True:
            await anyio.sleep(CHECK_SECONDS)
            self.check()

    def check(self) -> bool:
        """Send the host's levels to the actors if they changed; True if they did."""
        levels = host_log_levels()
        if levels == self.sent:
            return False
        self.sent = levels
        envelope = (P.LOG_LEVELS, 0, "", P.PLAIN, levels, 0, 0, -1)
        for cell in list(self.system._cells.values()):
            if cell.worker not in (W_SERVING, W_WAITING):
                continue  # none running: the next worker starts with the new levels
            # The cell may close meanwhile (this may run in another thread): then its
            # queue is gone, and so is the actor that would have needed the levels.
            with contextlib.suppress(Exception):
                backend.put(cell.ctl_q, envelope)
                cell.mailbox.wake()
        return True


def refresh_log_levels() -> None:
    """Send the host's current logging levels to every running actor now.

    Actors follow the host's levels on their own within about a second (each system
    checks them once per second); call this right after changing a level when the
    change must apply inside actors before the next message you send them. Any thread.
    """
    system: Any
    for system in list(systems.values()):
        watch: LevelWatch | None = getattr(system, "_level_watch", None)
        if watch is not None:
            watch.check()
