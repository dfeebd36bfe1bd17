"""What a cell needs to run its actor in a child process (``isolation="process"``).

:class:`ProcessLink` belongs to a cell from its first process incarnation on. It takes a
second slot of shared counters for the host-side bridge (its PARKED flags: the worker's
own flags are in the cell's slot, used inside the child), points the mailbox and the
actor's address at that flag, and starts one :class:`~.._backend.process.ChildProcess`
per incarnation. Everything else (asks, restarts, statistics, supervision) is the cell's
usual code: the bridge posts EXITED when the child is gone, as an interpreter thread does.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import anyio

from .._backend.process import Booted, ChildProcess, boot, discard
from .._exceptions import SpawnError
from .._wire import slots as S
from .actor_logs import host_log_levels
from .transport import ActorTransport

if TYPE_CHECKING:
    from .messaging import CellMessaging
    from .system import ActorSystem

__all__ = ("ProcessLink", "SpareProcess")

log = logging.getLogger("interactors")

# How long the loop may wait for a killed child's bridge to finish (it takes milliseconds).
_KILL_JOIN = 2.0


class ProcessLink:
    """A cell's child processes: one per incarnation, reached through a bridge thread."""

    def __init__(self, cell: CellMessaging) -> None:
        self.cell = cell
        slots = cell.system._slots
        self.slot_fd, self.slot_index = slots.allocate()
        self.fields = slots.view(self.slot_fd)
        self.base = self.slot_index * S.FIELDS
        cell.mailbox.fields = self.fields
        cell.mailbox.parked = self.base + S.PARKED
        cell.wake_flag = S.flag_code(self.slot_fd, self.base + S.PARKED)
        self.child: ActorTransport | None = None

    @property
    def pid(self) -> int | None:
        return None if self.child is None else self.child.pid

    def launch(self, config: tuple[Any, ...]) -> None:
        """Start a child for a new incarnation (the cell has bumped its token)."""
        cell = self.cell
        child: ActorTransport = ChildProcess(
            name=cell.name,
            actor_id=cell.actor_id,
            token=cell.token,
            pump=(cell.pump.qid, cell.pump.fd),
            mailbox=(cell.mailbox.qid, cell.mailbox.fd),
            ctl_q=cell.ctl_q,
            replies=(cell.reply_q, cell.reply_fd),
            bridge=(self.fields, self.base),
            slot_fd=cell.slot_fd,
            counters=(cell.fields, cell.base),
            window=cell.mailbox.maxsize,
        )
        address = cell.address()
        host_address = (*address[:5], address[6])
        reply_to = (
            cell.reply_q,
            cell.reply_fd,
            S.flag_code(self.slot_fd, self.base + S.REPLY_PARKED),
        )
        spares = SpareProcess.of(cell.system)
        try:
            child.start((*config, host_log_levels()), host_address, reply_to, spares.take())
        except OSError as exc:  # no process could be started: fork, exec or a resource
            from .messaging import W_NONE

            cell.worker = W_NONE
            cell._exited.set()
            raise SpawnError(
                f"cannot start actor {cell.name!r} ({cell.target}): its process could not "
                f"be started: {type(exc).__name__}: {exc}. Check that {sys.executable} "
                "exists and runs, and that more processes can start here (memory, "
                "ulimit -u, open files)."
            ) from exc
        self.child = child
        spares.refill()

    def ended(self) -> None:
        """The child's EXITED notice arrived: its bridge has finished or is finishing."""
        if self.child is not None:
            self.child.join(_KILL_JOIN)
            self.child = None

    def kill(self) -> None:
        """Kill the current child and wait for its bridge (used for hung actors)."""
        child, self.child = self.child, None
        if child is not None:
            child.kill()
            child.join(_KILL_JOIN)

    def close(self) -> None:
        self.kill()
        self.cell.system._slots.release(self.slot_fd, self.slot_index)


class SpareProcess:
    """One child process booted ahead of time (past Python's start and the worker's
    imports), so that a spawn or a restart only sends it a configuration.

    Kept while the system runs and has process actors, unless the system was created
    with ``spare_interpreters=0``; ended with the system.
    """

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted
        self.booted: Booted | None = None
        self.closed = False

    @classmethod
    def of(cls, system: ActorSystem) -> SpareProcess:
        spares: SpareProcess | None = getattr(system, "_spare_process", None)
        if spares is None:
            spares = cls(wanted=system._spares > 0)
            system._spare_process = spares  # type: ignore[attr-defined]

            async def close_with_the_system() -> None:
                try:
                    await anyio.sleep_forever()
                finally:
                    spares.close()

            system._schedule(close_with_the_system)
        return spares

    def take(self) -> Booted | None:
        booted, self.booted = self.booted, None
        if booted is not None and booted[0].poll() is not None:  # it died meanwhile
            discard(booted)
            return None
        return booted

    def refill(self) -> None:
        if self.wanted and not self.closed and self.booted is None:
            try:
                self.booted = boot()
            except OSError as exc:  # the next spawn boots its own child, and says why
                log.warning("could not start a spare process for process actors: %s", exc)

    def close(self) -> None:
        self.closed = True
        booted, self.booted = self.booted, None
        if booted is not None:
            discard(booted)
