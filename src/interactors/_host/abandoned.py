"""Interpreters given up on: actors stuck in C that did not stop in time.

A running interpreter cannot be destroyed, so an abandoned one is only recorded: its
thread is guarded so that it cannot hang the process at exit, the cell's queues stay
alive while the stuck worker may still touch them, and if the worker ever comes back,
its interpreter is destroyed then and the deferred queues are freed.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from .exit_guard import destroy_or_keep, guard_process_exit

if TYPE_CHECKING:
    from .messaging import CellMessaging

__all__ = ("AbandonedInterpreters",)

log = logging.getLogger("interactors")


class AbandonedInterpreters:
    """The stuck interpreters of one system, by interpreter id."""

    def __init__(self) -> None:
        self._threads: dict[int, tuple[threading.Thread, str, int]] = {}
        self.names: list[str] = []
        """Names of the actors abandoned so far (one entry per abandonment)."""
        self._deferred: dict[int, CellMessaging] = {}

    def add(self, iid: int, thread: threading.Thread, name: str, actor_id: int) -> None:
        self._threads[iid] = (thread, name, actor_id)
        self.names.append(name)
        guard_process_exit(thread, name)

    def holds(self, actor_id: int) -> bool:
        """True while a stuck interpreter of ``actor_id`` may still use its queues."""
        return any(entry[2] == actor_id for entry in self._threads.values())

    def defer_free(self, cell: CellMessaging) -> None:
        """Free ``cell``'s queues once its last stuck interpreter has come back."""
        self._deferred[cell.actor_id] = cell

    def running(self) -> list[str]:
        """Names of abandoned actors whose interpreters have not come back."""
        return [name for _thread, name, _actor in self._threads.values()]

    def reap(self, grace: float = 0.0) -> None:
        """Destroy the interpreters whose stuck threads have ended by now, or end within
        ``grace`` seconds (for them all): a worker killed a moment ago (``ref.stop(0)``)
        is on its way out, and an idle one leaves as soon as it is woken.

        Their EXITED notices may still be queued behind a reply pump that is closing.
        """
        deadline = time.monotonic() + grace
        for iid, (thread, _name, actor_id) in list(self._threads.items()):
            thread.join(max(0.0, deadline - time.monotonic()))
            if not thread.is_alive():
                self.came_back(iid, actor_id)

    def came_back(self, iid: int, actor_id: int) -> bool:
        """An EXITED notice for ``iid``: if it was abandoned, destroy it now (True)."""
        entry = self._threads.pop(iid, None)
        if entry is None:
            return False
        entry[0].join()
        self.names.remove(entry[1])
        # (on the event loop: no long wait for threads its actor left running)
        destroy_or_keep(iid, f" of actor {entry[1]!r}", threads_timeout=0.1)
        deferred = self._deferred.get(actor_id)
        if deferred is not None and not self.holds(actor_id):
            del self._deferred[actor_id]
            deferred.free_queues()
        return True
