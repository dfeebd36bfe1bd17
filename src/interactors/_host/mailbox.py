"""The host side of a mailbox: a bounded cross-interpreter queue plus its wake-up eventfd.

The mailbox belongs to the actor, not to its interpreter: it outlives restarts, so
messages queued while an actor restarts are delivered to the next incarnation.

Senders put an envelope, then write to the eventfd; the actor drains everything queued
per wake-up. The only wait here is for room in a full mailbox, which backs off from 10 µs
to 5 ms between tries (the queues have no "not full" notification).

The host's own tells (``tell_nowait``) to an actor in an interpreter are coalesced: those
it makes one after the other to the same actor within one turn of the event loop go as one
queue item (up to ``BATCH_MAX``), with the asks of concurrent callers (see
``CellMessaging.ask``). The batch is put when the loop turns, or before the host
sends anything else to any actor, so what one message caused never overtakes it. The bound
counts messages, not items: a batch counts as many as it holds, in ``depth`` and for
``MailboxFull``.
"""

from __future__ import annotations

import logging
import os
import queue
from collections.abc import Callable, Iterable
from typing import Any, Final

import anyio

from .. import _backend as backend
from .._exceptions import MailboxFull
from .._wire import envelope as P
from .._wire import slots as S

DEFAULT_MAILBOX_SIZE: Final = 1000
_BACKOFF_MAX: Final = 0.005
BATCH_MAX: Final = 64  # tells in one queue item
SMALL: Final = 1024  # a tell with a longer str or bytes argument goes alone
_RETRY: Final = 0.001  # a batch that found its queue full tries again after this

log = logging.getLogger("interactors")


class Coalescer:
    """The host's mailboxes holding a batch, flushed when the loop turns.

    ``soon(fn)`` runs ``fn`` on the loop's next turn, ``later(delay, fn)`` after
    ``delay`` seconds; both None while no loop runs (batches are put at once then).

    No thread puts batches for a loop that does not turn (a ``time.sleep`` in a
    coroutine): one was tried, and CPython 3.13.0 crashed in ``cProfile.Profile.disable``
    while it ran (a segfault, in the benchmarks' profiling run). ``await ref.tell`` puts
    its message before it returns, for code that must not depend on the loop turning.
    """

    def __init__(self) -> None:
        self.waiting: list[Mailbox] = []
        self.soon: Callable[[Callable[[], None]], None] | None = None
        self.later: Callable[[float, Callable[[], None]], None] | None = None
        self._scheduled = False

    def join(self, mailbox: Mailbox) -> None:
        """``mailbox`` opened a batch."""
        self.waiting.append(mailbox)
        if self.soon is None:  # no loop turning: at once
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            self.soon(self._on_turn)

    def _on_turn(self) -> None:
        self._scheduled = False
        try:
            self.flush()
        except Exception:  # (a callback of the loop: never let it end the loop)
            log.exception("interactors: could not send the host's tells")

    def flush(self) -> None:
        """Put every batch; one that finds its queue full stays, and is tried again
        shortly (its tells are not lost). There is one, but for such a batch: only one
        batch is open at a time (see :meth:`Mailbox.add`)."""
        waiting = self.waiting
        if not waiting:
            return
        self.waiting = stuck = [mailbox for mailbox in waiting if not mailbox.flush()]
        if stuck and not self._scheduled and self.later is not None:
            self._scheduled = True
            self.later(_RETRY, self._on_turn)

    def close(self) -> None:
        """Put what waits (the loop is ending: from now on, tells are put at once)."""
        self.flush()
        self.soon = self.later = None


class MailboxClosed(Exception):
    """Raised by :meth:`Mailbox.put` when the mailbox is closed (its actor gone for good)
    while the put waited for room: the caller says so in its own terms."""


class Mailbox:
    """A bounded queue of envelopes for one actor."""

    __slots__ = (
        "base",
        "batch",
        "batched",
        "closed",
        "coalescer",
        "fd",
        "fields",
        "maxsize",
        "owner",
        "parked",
        "qid",
        "room",
    )

    def __init__(
        self, maxsize: int, owner: str, fields: memoryview, base: int, coalescer: Coalescer
    ) -> None:
        if maxsize < 1:
            raise ValueError(f"mailbox_size must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self.owner = owner
        self.qid = backend.create_queue(maxsize)
        # Blocking on purpose: the actor parks in read() on it.
        self.fd = os.eventfd(0, os.EFD_CLOEXEC)
        # The actor's PARKED flag: a busy (or spinning) actor needs no wake-up syscall.
        # It sets the flag, then looks at the queue again before it sleeps; we put, then
        # look at the flag. Both queue operations are full barriers, so one of the two
        # sides always sees the other.
        self.fields = fields
        self.base = base
        self.parked = base + S.PARKED
        self.coalescer = coalescer
        self.batch: list[tuple[Any, ...]] = []  # the host's tells of this turn
        self.room = 0  # how many the batch may hold (0: look again)
        self.closed = False
        self.batched = 0  # messages put in batches, less the batches: what depth adds

    def _full(self) -> MailboxFull:
        return MailboxFull(
            f"the mailbox of actor {self.owner!r} is full ({self.maxsize} messages); "
            "await ref.tell... to wait for room, or spawn with a larger mailbox_size"
        )

    # -- the host's tells, coalesced -----------------------------------------------------

    def add(self, envelope: tuple[Any, ...]) -> None:
        """Send one of the host's small tells (or a concurrent caller's ask) with this
        turn's batch (MailboxFull when the mailbox holds ``maxsize`` messages)."""
        batch = self.batch
        n = len(batch)
        if n >= self.room:  # the first of a batch, or the room seen is used
            # Only one batch is open at a time: a batch that held messages sent both
            # before and after another's could not be put without what one of them
            # caused overtaking the other. Another mailbox's batch goes first, then.
            self.coalescer.flush()
            if batch:  # it found the queue full
                raise self._full()
            n = 0
            room = min(BATCH_MAX, self.maxsize - self.depth())
            if room <= 0:
                raise self._full()
            self.room = room
        batch.append(envelope)
        if not n:
            self.coalescer.join(self)

    def flush(self) -> bool:
        """Put this turn's batch; False if the queue is full (the batch stays)."""
        self.room = 0  # (only the open batch has room: see add)
        batch = self.batch
        if not batch:
            return True
        try:
            if len(batch) > 1 and backend.put_batch(self.qid, tuple(batch)):
                self.batched += len(batch) - 1
            else:  # one tell, or too large for one item: one by one
                while batch:
                    backend.put(self.qid, batch[0])
                    del batch[0]
        except queue.Full:
            return False
        batch.clear()
        if self.fields[self.parked]:
            os.eventfd_write(self.fd, 1)
        return True

    def _send_first(self) -> bool:
        """Before the host puts anything else: every batch begun (this one's first);
        False if this one's is still waiting, or the mailbox holds ``maxsize`` messages
        (the queue counts a batch as one)."""
        if self.coalescer.waiting:
            self.coalescer.flush()
            if self.batch:
                return False
        extra = self._extra()
        return not extra or backend.count(self.qid) + extra < self.maxsize

    def _extra(self) -> int:
        """What the queued batches hold beyond their one item each."""
        if not self.batched:
            return 0
        fields, base = self.fields, self.base
        return self.batched - fields[base + S.BATCH_TAKEN] + fields[base + S.BATCH_ITEMS]

    # -- everything else the host sends --------------------------------------------------

    def put_nowait(self, envelope: tuple[Any, ...], plain: bool = False) -> None:
        """Put now, or raise MailboxFull; ``plain``: the envelope holds no buffers."""
        if not self._send_first():
            raise self._full()
        try:
            (backend.put_plain if plain else backend.put)(self.qid, envelope)
        except queue.Full:
            raise self._full() from None
        if self.fields[self.parked]:
            os.eventfd_write(self.fd, 1)

    async def put(self, envelope: tuple[Any, ...]) -> None:
        """Put, waiting while the mailbox is full (cancellable: then nothing is sent)."""
        try:
            if not self._send_first():
                raise queue.Full
            backend.put(self.qid, envelope)
        except queue.Full:
            await self._put_when_room(envelope)
        if self.fields[self.parked]:
            os.eventfd_write(self.fd, 1)

    async def _put_when_room(self, envelope: tuple[Any, ...]) -> None:
        delay = 1e-5
        while True:
            await anyio.sleep(delay)
            if self.closed:  # the actor stopped for good meanwhile: its queue is freed
                raise MailboxClosed
            try:
                if not self._send_first():
                    raise queue.Full
                backend.put(self.qid, envelope)
            except queue.Full:
                delay = min(_BACKOFF_MAX, delay * 2)
            else:
                return

    def wake(self) -> None:
        os.eventfd_write(self.fd, 1)

    def depth(self) -> int:
        """Messages queued: a batch counts as many as it holds, until each is taken."""
        return backend.count(self.qid) + self._extra() + len(self.batch)

    def take_all(self) -> tuple[list[Any], int]:
        """Empty the mailbox of an actor gone for good: return what is left but its tells,
        and the number of tells, which nobody can handle any more. They are counted
        wherever they wait: alone in the queue, in batches queued, in the host's batch
        not put yet, and in the rest of the batch its last incarnation began. (The
        batches' asks fail with the host's pending asks.)"""
        left = []
        tells = _tells(self.batch)
        self.batch.clear()
        fields, base = self.fields, self.base
        if unfinished := fields[base + S.BATCH_ITEM]:
            done = fields[base + S.BATCH_TAKEN] - fields[base + S.BATCH_BASE]
            tells += _tells((backend.batch_envelopes(unfinished) or ())[done:])
        fields[S.closed_code(self.parked)] = 1  # later puts fail (see slots)
        while backend.count(self.qid):
            item: Any = backend.get(self.qid)
            if type(item) is tuple and item[0] == backend.BATCHED:
                tells += _tells(backend.batch_envelopes(item[1]) or ())
                backend.free_batch(item[1])
            elif item is not backend.UNBOUND and item[0] == P.TELL:
                tells += 1
            else:
                left.append(item)
        return left, tells

    def close(self) -> None:
        self.batch.clear()
        item = self.fields[self.base + S.BATCH_ITEM]
        if item:  # the actor's last incarnation left a batch unfinished
            self.fields[self.base + S.BATCH_ITEM] = 0
            backend.free_batch(item)
        self.closed = True
        backend.destroy_queue(self.qid)
        os.close(self.fd)


def _tells(envelopes: Iterable[tuple[Any, ...]]) -> int:
    """How many of ``envelopes`` are tells."""
    return sum(envelope[0] == P.TELL for envelope in envelopes)
