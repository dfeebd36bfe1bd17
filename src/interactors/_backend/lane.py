"""The direct lane of a process actor: the host's own messages, without the bridge.

Through the bridge (:mod:`.process`) an ask from the host's event loop wakes four threads
before its answer is back: the bridge, the child's reader, the child's worker, the bridge
again. The lane goes from the sending host thread straight to the child's worker, through
two rings in shared memory (:mod:`.ring`, one each way), with no syscall while both sides
are awake:

* the host writes an envelope into the outgoing ring, and writes the child's mailbox
  eventfd only when the worker is parked (its PARKED flag, in the actor's slot), as for an
  interpreter actor;
* the worker reads the ring whenever it looks at its mailbox (:class:`ChildLane` is
  installed as the worker's mailbox ``count`` and ``get``), so a worker that is busy or
  spinning needs no wake-up;
* the worker answers an ask that came this way in the other ring (``reply_flag`` is
  :data:`LANE`); the host's caller looks for the answer briefly, then says it sleeps (the
  ring's ``waiting`` word: the child then writes an eventfd the event loop watches) and
  waits. The answer says how many frames the child had sent the bridge by then; until the
  bridge has executed them (a tell to another actor, say), the bridge delivers the answer
  instead, after them.

Each "announce, then look again" (a parked worker, a sleeping caller) has a full fence
between the store and the load on both sides (:func:`.ring.fence`).

Order is kept this way: the host uses the lane only while the bridge has nothing handed
to the child that the child has not handled yet, and nothing waits in the host mailbox or
control queue; the child's worker takes what came on the lane before the mail the bridge
forwarded (which, by the first rule, was sent after it). The bridge forwards mail while
messages sent on the lane are still being handled: an actor with ``max_concurrency`` > 1
takes other actors' messages (and its own asks to itself) meanwhile. Envelopes
whose payload is larger than :data:`LANE_MAX` (large buffers among them), messages that
find the ring full, and messages from other actors take the bridge. Without rings (a
platform other than x86-64, see :mod:`.ring`) there is no lane: everything takes the
bridge.

Stdlib only: the child side is imported in the actor's process.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
import mmap
import os
import threading
from collections import deque

from .._wire import envelope as P
from .._wire import slots as S
from . import count
from .ring import SIZE, Ring, fence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

__all__ = ("LANE", "LANE_MAX", "ChildLane", "HostLane", "LaneHandover", "dump")

LANE: Final = -2  # the reply_flag of an ask sent on the lane: answer it there
LANE_MAX: Final = 64 * 1024  # larger envelopes go through the bridge

_dumps = marshal.dumps
_loads = marshal.loads


def _too_large(value: Any, depth: int = 2) -> bool:
    """Is ``value`` (or an item of it, two tuples deep) a buffer too large for the lane?
    Looked at before dumping: a 64 MiB array is not copied just to learn that."""
    kind = type(value)
    if kind is tuple:
        if depth:
            for item in value:
                if _too_large(item, depth - 1):
                    return True
        return False
    if kind is memoryview:
        return bool(value.nbytes > LANE_MAX)
    return (kind is bytes or kind is str or kind is bytearray) and len(value) > LANE_MAX


def dump(message: tuple[Any, ...], payload: Any) -> bytes | None:
    """The lane message for ``message`` (carrying ``payload``), or None when it must take
    the bridge."""
    if _too_large(payload):
        return None
    try:
        data = _dumps(message)
    except ValueError:  # not marshal-able here: the bridge's frame says why
        return None
    return data if len(data) <= LANE_MAX else None


class LaneHandover:
    """The part of a child process's host side (``ChildProcess``) that decides, under
    one lock with the bridge, which way each message is handed to the child."""

    name: str
    mbox_q: int
    ctl_q: int
    pump_q: int
    pump_fd: int
    counters: memoryview
    handled_at: int
    handled_before: int
    handed: int
    window: int
    gated: bool
    detached: bool
    outstanding: dict[tuple[int, int], tuple[int, int, int]]

    def _put_once(self, qid: int, fd: int, flag: int, envelope: tuple[Any, ...]) -> int:
        raise NotImplementedError

    def init_lane(self, worker_parked: int) -> None:
        self.lane: HostLane | None = None  # made by the child's start
        self.lane_mode = False  # the last message handed over went on the lane
        self.worker_parked = worker_parked  # the child worker's PARKED flag in counters
        self.lock = threading.Lock()  # handing messages over: the bridge or a host thread
        self.executed = 0  # frames from the child executed by the bridge
        self.deferred: list[tuple[int, tuple[Any, ...]]] = []  # lane answers waiting for those
        self.order_lock = threading.Lock()  # (executed, deferred)

    def lane_send(self, envelope: tuple[Any, ...]) -> bool:
        """Any host thread: hand ``envelope`` (to the mailbox) straight to the child's
        worker, when order allows it (see lane.py); False: put it on the mailbox."""
        lane = self.lane
        if lane is None or self.detached or not self.lock.acquire(blocking=False):
            return False
        try:
            in_flight = self._in_flight()
            if (
                (in_flight and not self.lane_mode)
                or in_flight >= self.window
                or count(self.mbox_q)
                or count(self.ctl_q)
            ):
                return False
            asking = envelope[0] == P.ASK
            data = dump((*envelope[:7], LANE) if asking else envelope, envelope[4])
            if data is None:
                return False
            if asking:  # failed by the bridge if the child dies before answering
                self.outstanding[(envelope[5], envelope[1])] = envelope[5:8]
            if not lane.send(data):
                if asking:
                    del self.outstanding[(envelope[5], envelope[1])]
                return False
            self.lane_mode = True
            self.handed += 1
        finally:
            self.lock.release()
        fence()  # the message is visible before the worker's PARKED flag is read
        if self.counters[self.worker_parked]:
            os.eventfd_write(lane.wake_fd, 1)
        return True

    def lane_reader(self, deliver: Callable[[tuple[Any, ...]], None]) -> Callable[[], bool]:
        """What the event loop's thread calls to read the answers that came back on the
        lane (each goes to ``deliver``); it returns False once the child is gone."""
        lane = self.lane
        assert lane is not None
        outstanding, pump_q = self.outstanding, self.pump_q

        def answered(item: tuple[int, tuple[Any, ...]]) -> None:
            sent, envelope = item
            if sent > self.executed:
                with self.order_lock:
                    if sent > self.executed:  # the bridge delivers it after those frames
                        self.deferred.append(item)
                        return
            outstanding.pop((pump_q, envelope[1]), None)
            deliver(envelope)

        return functools.partial(lane.drain, answered)

    def close_lane(self) -> None:
        """The event loop's thread, once it no longer watches the lane."""
        if self.lane is not None:
            self.lane.close()

    def _executed(self, frames: int) -> None:
        """Count executed frames; deliver the lane answers that waited for them."""
        with self.order_lock:
            self.executed += frames
            ready = [item for item in self.deferred if item[0] <= self.executed]
            if ready:
                self.deferred = [item for item in self.deferred if item[0] > self.executed]
        for _sent, envelope in ready:
            self.outstanding.pop((self.pump_q, envelope[1]), None)
            self._put_once(self.pump_q, self.pump_fd, -1, envelope)

    def _window_full(self) -> bool:
        """No more mail now: the window is full. (Mail may follow messages sent on the lane
        that the child has not handled yet: it takes those first, see ChildLane.)"""
        self.gated = self._in_flight() >= self.window
        return self.gated

    def _in_flight(self) -> int:
        """Messages handed to the child, either way, that it has not handled yet."""
        return self.handed - (self.counters[self.handled_at] - self.handled_before)

    def _tells_unhandled(self, unanswered: int) -> int:
        """Once the child is gone: the tells it took with it. Those in flight, less its
        ``unanswered`` asks, less a tell whose handler was running (it ran, as it would
        have in an interpreter actor whose worker ended under it)."""
        base = self.handled_at - S.HANDLED
        fields = self.counters
        running = fields[base + S.CURRENT_SEQ] and not fields[base + S.IN_FLIGHT_ASK]
        return max(0, self._in_flight() - unanswered - (1 if running else 0))


class HostLane:
    """The host's end of one child's lane: the two rings in a shared ``memfd``, the
    eventfd that wakes the child's worker and the one the child writes for a sleeping
    host waiter.

    Sends happen under the child's bridge lock (any host thread); answers are read by the
    event loop's thread only: :meth:`drain` while an ask waits, and the loop's reader.
    """

    __slots__ = ("area", "closed", "inbox", "memfd", "outbox", "reply_fd", "wake_fd")

    def __init__(self) -> None:
        fds: list[int] = []
        try:
            fds.append(os.memfd_create("interactors-lane", os.MFD_CLOEXEC))
            os.ftruncate(fds[0], 2 * SIZE)
            fds.append(os.eventfd(0, os.EFD_CLOEXEC))
            fds.append(os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK))
            self.area = mmap.mmap(fds[0], 2 * SIZE)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        self.memfd, self.wake_fd, self.reply_fd = fds
        self.outbox = Ring(self.area, 0)  # host -> child
        self.inbox = Ring(self.area, SIZE)  # child -> host
        self.closed = False

    def handover(self) -> list[int]:
        """The fds the child gets with its configuration: the rings' memfd, the eventfd
        that wakes its worker, the one that wakes the host."""
        fds = [self.memfd, os.dup(self.wake_fd), os.dup(self.reply_fd)]
        self.memfd = -1  # (sent and closed with the configuration: the mapping stays)
        return fds

    def send(self, data: bytes) -> bool:
        """Add a message for the child; False when the ring is full."""
        return self.outbox.write(data)

    def drain(self, deliver: Callable[[Any], None]) -> bool:
        """Deliver the answers that arrived; False once the lane is closed."""
        if self.closed:
            return False
        self.inbox.read(deliver)
        return True

    def sleeping(self, change: int) -> None:
        """A waiter of the event loop goes to sleep (+1) or is back (-1): while one
        sleeps, the child writes ``reply_fd`` after each answer."""
        if not self.closed:
            self.inbox.waiting += change

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.outbox.release()
            self.inbox.release()
            self.area.close()
            for fd in (self.memfd, self.wake_fd, self.reply_fd):
                if fd >= 0:
                    os.close(fd)


class ChildLane:
    """The child's end, read by the worker's thread whenever it looks at its mailbox.

    Installed as the worker's mailbox ``count`` and ``get``: what arrived on the lane is
    kept here, in order, and handed out before anything in the local mailbox queue. Mail
    there was sent after it: the host uses the lane only while no mail is in flight, and
    every ``count`` reads the ring, so a message on the lane is here before the worker
    takes mail that the bridge forwarded after it."""

    __slots__ = ("area", "count", "get", "inbox", "mbox_q", "outbox", "pending", "reply_fd")

    def __init__(self, memfd: int, reply_fd: int, mbox_q: int, count: Any, get: Any) -> None:
        try:
            self.area = mmap.mmap(memfd, 2 * SIZE)
        finally:
            os.close(memfd)
        self.inbox = Ring(self.area, 0)
        self.outbox = Ring(self.area, SIZE)
        self.reply_fd = reply_fd
        self.mbox_q = mbox_q
        self.count = count
        self.get = get
        self.pending: deque[tuple[Any, ...]] = deque()

    def counting(self, qid: int) -> int:
        """The worker's ``count``: for the mailbox, what the lane brought too.

        The fence makes a worker that has just set its PARKED flag see a message the host
        wrote before it read that flag (the host fences between the two as well)."""
        queued: int = self.count(qid)
        if qid == self.mbox_q:
            fence()
            self.inbox.read(self.pending.append)
            queued += len(self.pending)
        return queued

    def getting(self, qid: int) -> Any:
        """The worker's ``get``: what came on the lane first (see the class)."""
        if qid == self.mbox_q and self.pending:
            return self.pending.popleft()
        return self.get(qid)

    def reply(self, envelope: tuple[Any, ...], sent: int) -> bool:
        """Answer an ask that came on the lane; False if the answer must take the bridge.

        ``sent`` counts the frames this process sent the bridge so far: the host delivers
        the answer only once the bridge has executed them (a tell sent before answering
        reaches its actor before the answer reaches the asker, as between interpreters)."""
        data = dump((sent, envelope), envelope[3])
        if data is None or not self.outbox.write(data):
            return False
        fence()
        if self.outbox.waiting:
            with contextlib.suppress(OSError):  # the host is gone: this process ends too
                os.eventfd_write(self.reply_fd, 1)
        return True
