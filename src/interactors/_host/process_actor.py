"""What a cell needs to run its actor in a child process (``isolation="process"``).

:class:`ProcessLink` belongs to a cell from its first process incarnation on. It takes a
second slot of shared counters for the host-side bridge (its PARKED flags: the worker's
own flags are in the cell's slot, used inside the child), points the mailbox and the
actor's address at that flag, and starts one :class:`~.._backend.process.ChildProcess`
per incarnation. Everything else (asks, restarts, statistics, supervision) is the cell's
usual code: the bridge posts EXITED when the child is gone, as an interpreter thread does.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio

from .._backend.booting import Booted, boot, discard
from .._backend.process import ChildProcess
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
# A spare is (re)booted this long after a child started at the earliest: two children
# starting at once on a small machine slow each other down. It waits for the new child's
# report of what its actor imported for at most _REPORT_WAIT.
_REFILL_DELAY = 0.2
_REPORT_WAIT = 5.0
_PRELOAD_MAX = 256


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
        # The current child's direct lane (see _backend/lane.py): what the cell's asks and
        # tells use when they may, and how a waiting ask reads its answer.
        self.direct: ChildProcess | None = None
        self.lane_poll: Callable[[], bool] = _nothing
        self.lane_sleeping: Callable[[int], None] = _ignore

    @property
    def pid(self) -> int | None:
        return None if self.child is None else self.child.pid

    def launch(self, config: tuple[Any, ...]) -> None:
        """Start a child for a new incarnation (the cell has bumped its token)."""
        cell = self.cell
        spares = SpareProcess.of(cell.system)
        process = ChildProcess(
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
            loaded=spares.learn,
        )
        child: ActorTransport = process
        address = cell.address()
        host_address = (*address[:5], address[6])
        reply_to = (
            cell.reply_q,
            cell.reply_fd,
            S.flag_code(self.slot_fd, self.base + S.REPLY_PARKED),
        )
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
        if process.lane is not None:
            pump = cell.pump
            self.lane_poll = poll = process.lane_reader(pump.deliver)
            self.lane_sleeping = process.lane.sleeping
            reply_fd = process.lane.reply_fd

            def readable() -> bool:
                with contextlib.suppress(BlockingIOError):
                    os.eventfd_read(reply_fd)
                return poll()

            pump.watch(reply_fd, readable)
            self.direct = process
        if cell.token == 1:
            spares.refill()  # spawns may come in a burst: the next one finds it booting
        # Once this child has imported its actor's class (and said what that took), a
        # spare that lacks it is replaced; after a restart, the spare is only booted then.
        cell.system._schedule(spares.refill_later, child)

    def ended(self) -> None:
        """The child's EXITED notice arrived: its bridge has finished or is finishing."""
        self._close_lane()
        if self.child is not None:
            self.child.join(_KILL_JOIN)
            self.child = None

    def kill(self) -> None:
        """Kill the current child and wait for its bridge (used for hung actors)."""
        self._close_lane()
        child, self.child = self.child, None
        if child is not None:
            child.kill()
            child.join(_KILL_JOIN)

    def _close_lane(self) -> None:
        process, self.direct = self.direct, None
        if process is not None and process.lane is not None:
            self.lane_poll = _nothing
            self.cell.pump.unwatch(process.lane.reply_fd)
            process.close_lane()

    def close(self) -> None:
        self.kill()
        self.cell.system._slots.release(self.slot_fd, self.slot_index)


def _nothing() -> bool:
    return False


def _ignore(_change: int) -> None:
    pass


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
        self.preload: tuple[str, ...] = ()
        """Top-level modules the system's process actors needed (see :meth:`learn`)."""
        self._booted_with: tuple[str, ...] = ()

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

    def learn(self, names: tuple[str, ...]) -> None:
        """A child reports what its actor's class imported, in import order (bridge
        thread): the next spares import it ahead of time, in that order. The list only
        grows, up to a bound."""
        known = set(self.preload)
        merged = self.preload + tuple(name for name in names if name not in known)
        if len(merged) <= _PRELOAD_MAX:
            self.preload = merged

    def refill(self) -> None:
        """Boot a spare unless one is ready with everything learnt so far (event loop
        thread: the child dies with the thread that started it)."""
        if not self.wanted or self.closed:
            return
        if self.booted is not None:
            if set(self.preload) <= set(self._booted_with):
                return
            booted, self.booted = self.booted, None  # it lacks what actors need now
            discard(booted, wait=0.0)
        wanted = self.preload
        try:
            self.booted = boot((tuple(sys.path), wanted) if wanted else None)
        except OSError as exc:  # the next spawn boots its own child, and says why
            log.warning("could not start a spare process for process actors: %s", exc)
            return
        self._booted_with = wanted

    async def refill_later(self, child: ActorTransport) -> None:
        """Refill once ``child`` reported what its actor imported (or gave up on that),
        and had the CPU to itself for its own start."""
        await anyio.sleep(_REFILL_DELAY)
        deadline = anyio.current_time() + _REPORT_WAIT
        while not child.reported and child.is_alive():
            if anyio.current_time() > deadline:
                break
            await anyio.sleep(_REFILL_DELAY / 2)
        self.refill()

    def close(self) -> None:
        self.closed = True
        booted, self.booted = self.booted, None
        if booted is not None:
            discard(booted)
