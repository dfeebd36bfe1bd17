"""The child side of a process actor: the usual worker, in its own OS process.

The host starts ``python -c ...; main(fd, ppid)`` with one end of a socket pair (``fd``),
often ahead of time (a warm spare); the configuration arrives as the first frame, with the
slot memfd. The child creates *local* queues and eventfds for the actor's
mailbox, control and reply queues and runs the same :class:`~.worker.Worker` on them, in
its main thread (so that a signal can interrupt a handler blocked in C). A reader thread
moves frames from the socket onto the local queues, waking the worker only if it parks,
exactly as a sender on the host would. Whatever the worker sends elsewhere (replies,
notices, asks and tells to other actors) goes back over the socket as a PUT frame naming
a host queue; the host's bridge executes it. Refs that arrive here address host queues,
so they work unchanged.

The child dies with the host: ``PR_SET_PDEATHSIG`` (Linux) and, as a fallback, the end of
file on the socket.

Stdlib only; nothing of the host side (anyio, msgspec) is imported unless the actor does.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import signal
import socket
import sys
import threading
import time

from .. import _backend as backend
from .._backend import channel as C
from .._backend.buffers import IDLE, BufferPool, Returns
from .._backend.lane import LANE, ChildLane
from .._wire import slots as S
from . import serving, serving_async
from .peer import PeerContext, PeerRef, undeliverable
from .watchdog import Watchdog
from .worker import Worker

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ("main",)

_PR_SET_PDEATHSIG = 1
_SPIN_SECONDS = 200e-6
# How long the watchdog waits for its SIGINT to be taken before it injects the exception
# the way it does in an interpreter (the actor ignores SIGINT or replaced its handler).
_SIGNAL_GRACE = 0.05


class Channel:
    """The child's sending end: frames for the host's bridge, one writer at a time.

    It also sends back the host's large buffers this process let go of (``returns``),
    from whichever thread freed them, or else right after the frame being sent then."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.seqs = itertools.count(1)
        self.waiting: dict[int, list[Any]] = {}  # seq -> [lock held until answered, status]
        self.gone: set[int] = set()  # host queues freed (their actors stopped for good)
        self.pool = BufferPool()  # the large buffers this process sends
        self.sent = 0  # frames sent so far (an answer on the lane waits behind them)
        self.returns = Returns(self.send_released)  # the host's, mapped here

    def send_released(self) -> None:
        """Send the ids of the host's buffers let go of, unless another thread is sending
        a frame now (it sends them once it is done: see :meth:`_send`)."""
        if not self.lock.acquire(blocking=False):
            return
        try:
            ids = self.returns.take()
            if ids:
                self.sent += 1
                with contextlib.suppress(OSError):
                    self.sock.sendall(C.frame((C.RELEASED, ids)))
        finally:
            self.lock.release()

    def _send(self, data: bytes, fds: list[int]) -> None:
        with self.lock:
            self.sent += 1
            C.send(self.sock, data, fds)
        if self.returns.pending():
            self.send_released()

    def put(self, qid: int, fd: int, flag: int, envelope: tuple[Any, ...]) -> None:
        self._send(*C.pack((C.PUT, qid, fd, flag), envelope, self.pool))

    def put_nowait(self, qid: int, fd: int, flag: int, envelope: tuple[Any, ...]) -> int:
        """Put once, without waiting for room: the bridge's PUT_RESULT status.

        A round trip, as the host queue is only reachable there: a full mailbox must
        raise in the sender, as it does in an interpreter actor.
        """
        seq = next(self.seqs)
        answered = threading.Lock()
        answered.acquire()
        entry = self.waiting[seq] = [answered, C.PUT_GONE]
        try:
            self._send(*C.pack((C.PUT_NOWAIT, seq, qid, fd, flag), envelope, self.pool))
            answered.acquire()
        finally:
            del self.waiting[seq]
        status: int = entry[1]
        return status

    def answer(self, seq: int, status: int) -> None:
        """Reader thread: the bridge's PUT_RESULT for ``seq`` arrived."""
        entry = self.waiting.get(seq)
        if entry is not None:  # (its sender may have been interrupted meanwhile)
            entry[1] = status
            entry[0].release()

    def send(self, item: tuple[Any, ...]) -> None:
        self._send(C.frame(item), [])


class ProcessPeers(PeerContext):
    """Actor-to-actor messaging from a child process: everything goes through the host."""

    def __init__(self, worker: ProcessWorker, address: tuple[Any, ...], reply_to: Any) -> None:
        super().__init__(worker)
        self.channel = worker.channel
        self.host_address = address
        self.reply_to = tuple(reply_to)
        self.own_code = 0  # (other actors' slots are the host's: no cycle checks here)

    def self_ref(self) -> PeerRef:
        system_id, actor_id, name, qid, fd, flag = self.host_address
        return PeerRef(self, (system_id, actor_id, name, qid, fd, self.worker.methods, flag))

    def queued(self, address: Any) -> int:
        return 1 << 30 if address[3] in self.channel.gone else 0  # (the queues are the host's)

    def deliver(self, address: Any, envelope: tuple[Any, ...], block: bool) -> None:
        if address[3] in self.channel.gone:  # (queue ids are never reused)
            raise undeliverable(address, full=False)
        if block:  # the bridge waits for room (this actor's later frames wait behind it)
            self.channel.put(address[3], address[4], address[6], envelope)
            return
        status = self.channel.put_nowait(address[3], address[4], address[6], envelope)
        if status != C.PUT_OK:
            raise undeliverable(address, full=status == C.PUT_FULL)


class SignalWatchdog(Watchdog):
    """A process actor's watchdog: it delivers HandlerTimeout and ActorInterrupted with a
    SIGINT to the worker's thread (the process's main thread), whose handler raises them.

    Unlike the injection used in interpreters, a signal also breaks a call blocked in C:
    ``time.sleep``, a lock, a socket read return early and the exception is raised there.
    If the handler does not take it within ``_SIGNAL_GRACE`` (the actor ignores SIGINT or
    installed its own handler), the exception is injected as in an interpreter; a handler
    still stuck past ``handler_timeout`` + ``shutdown`` is killed by the host.
    """

    worker: ProcessWorker

    def inject(self, exception: type[BaseException], guard: tuple[int, int]) -> None:
        pending = self.worker.pending
        pending.append((exception, guard))
        signal.pthread_kill(self.worker.thread_id, signal.SIGINT)
        deadline = time.monotonic() + _SIGNAL_GRACE
        while pending and time.monotonic() < deadline:
            time.sleep(0.002)
        try:
            pending.pop()  # atomic: either the signal handler took it, or we do
        except IndexError:
            return
        field, value = guard
        if self.worker.fields[field] == value:  # still the handler it was meant for
            super().inject(exception, guard)


class ProcessWorker(Worker):
    """The worker, sending through the channel instead of to queues it cannot see."""

    watchdog_type = SignalWatchdog

    def __init__(
        self,
        config: tuple[Any, ...],
        channel: Channel,
        address: Any,
        reply_to: Any,
        baseline: frozenset[str],
    ) -> None:
        super().__init__(config)
        self.channel = channel
        self.peers = ProcessPeers(self, address, reply_to)
        self.pending: list[tuple[type[BaseException], tuple[int, int]]] = []
        self.baseline = baseline  # the modules of a bare booted child
        self.lane: ChildLane | None = None

    def load(self) -> bool:
        """Import the actor's class, then tell the host which libraries that took: the
        top-level modules new since the boot, in the order they were first imported, but
        for the actor's own package and private modules (a C accelerator such as
        ``_asyncio`` imported ahead of its package breaks the package)."""
        if not super().load():
            return False
        skip = {self.target.partition(":")[0].partition(".")[0], "interactors"}
        names: dict[str, None] = {}
        for name in list(sys.modules):
            top = name.partition(".")[0]
            if name not in self.baseline and top not in skip and not top.startswith("_"):
                names[top] = None
        with contextlib.suppress(OSError):
            self.channel.send((C.LOADED, tuple(names)))
        return True

    def on_sigint(self, _signum: int, _frame: Any) -> None:
        """SIGINT handler (main thread): raise what the watchdog asked for, if still wanted.

        A SIGINT from anywhere else is ignored: the host stops its actors through their
        refs (the child is in its own session, so a terminal's Ctrl-C never reaches it).
        """
        try:
            exception, (field, value) = self.pending.pop()
        except IndexError:
            return
        if self.fields[field] == value:
            raise exception

    def send(self, qid: int, fd: int, envelope: tuple[Any, ...]) -> None:
        self.channel.put(qid, fd, -1, envelope)

    def reply(self, request: tuple[Any, ...], envelope: tuple[Any, ...]) -> None:
        lane = self.lane
        if request[7] != LANE or lane is None or not lane.reply(envelope, self.channel.sent):
            self.channel.put(request[5], request[6], request[7], envelope)
        # The reader thread put the ask on our local mailbox as a host does, keeping its
        # memoryviews for an answer through the queues; ours goes over the channel.
        backend.forget_lent(request[5], request[1])


def _die_with_parent(ppid: int) -> None:
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the socket's end of file still works
        pass
    if os.getppid() != ppid:  # the host died before prctl took effect
        os._exit(1)


def _receive(sock: socket.socket, reader: C.FrameReader) -> list[tuple[Any, ...]]:
    """The first frames: the configuration, and whatever came in with it."""
    while True:
        frames = reader.receive(sock)
        if frames is None:
            os._exit(1)  # the host is gone
        if frames:
            return frames


def _serve_channel(
    sock: socket.socket,
    reader: C.FrameReader,
    early: list[tuple[Any, ...]],
    local: tuple[int, ...],
    slot: tuple[int, int],
    channel: Channel,
) -> None:
    """Reader thread: frames from the host onto the local queues, waking the worker."""
    mbox_q, mbox_fd, ctl_q, reply_q, reply_fd = local
    _area, fields, base = S.slot_fields(*slot)  # its own mapping: the worker unmaps its one
    parked, reply_parked = base + S.PARKED, base + S.REPLY_PARKED
    put, wake = backend.put, os.eventfd_write
    frames: Any = early
    pool, readable = channel.pool, select.poll()
    readable.register(sock.fileno(), select.POLLIN)
    while True:
        for item in frames:
            kind, envelope = item[0], item[1]
            if kind == C.PUT_RESULT:
                channel.answer(item[1], item[2])
            elif kind == C.GONE:
                channel.gone.add(item[1])
            elif kind == C.RELEASED:
                pool.released(envelope)
            elif kind == C.TO_MAILBOX:
                put(mbox_q, envelope)
                if fields[parked]:
                    wake(mbox_fd, 1)
            elif kind == C.TO_REPLIES:
                put(reply_q, envelope)
                if fields[reply_parked]:
                    wake(reply_fd, 1)
            else:
                put(ctl_q, envelope)
                wake(mbox_fd, 1)
        frames = item = envelope = None  # kept by no local while blocked (large buffers)
        # Memfds kept for reuse are given back once idle (see _backend/buffers.py).
        while pool.holds_free() and not readable.poll(IDLE * 1000):
            pool.trim()
        try:
            received = reader.receive(sock)
        except OSError:
            received = None
        if received is None:
            os._exit(1)  # the host is gone (or closed the channel): no orphans
        frames = received


def _read_mail_through(lane: ChildLane) -> None:
    """The worker counts and takes its mail through the lane (see _backend/lane.py)."""
    for module in (serving, serving_async):
        module._count = lane.counting  # type: ignore[attr-defined]
        module._get = lane.getting  # type: ignore[attr-defined]
    # The host's next message takes longer to come than an interpreter actor's (it crosses
    # two processes): spin for it a little longer before parking.
    serving.SPIN_SECONDS = _SPIN_SECONDS  # type: ignore[misc]


def _preload(preload: tuple[tuple[str, ...], tuple[str, ...]] | None) -> None:
    """A spare's head start: import what the system's process actors needed so far.

    Failures are the actor's own to report when it imports them for real; here they are
    ignored (the module is simply imported again at start).
    """
    if not preload:
        return
    import importlib

    path, names = preload
    sys.path[:] = list(path)
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:  # see the docstring
            continue


def main(
    fd: int, ppid: int, preload: tuple[tuple[str, ...], tuple[str, ...]] | None = None
) -> None:
    """Entry point of the actor's process (see the module docstring)."""
    _die_with_parent(ppid)
    baseline = frozenset(sys.modules)
    _preload(preload)
    sock = socket.socket(fileno=fd)
    channel = Channel(sock)
    reader = C.FrameReader(channel.returns)
    first, *early = _receive(sock, reader)
    _kind, config, address, reply_to, with_lane = first
    sys.path[:] = list(config[5])
    mbox_q, ctl_q, reply_q = (backend.create_queue(0) for _ in range(3))
    local = list(config)
    local[14] = reader.take_fd()  # our number for the slot memfd
    local[21] = reader.take_fd()  # the cell's interrupt eventfd: the host's stops wake us
    lane = None
    if with_lane:  # (see _backend/lane.py): the rings, the worker's and the host's eventfds
        memfd, mbox_fd, host_fd = (reader.take_fd() for _ in range(3))
        lane = ChildLane(memfd, host_fd, mbox_q, backend.count, backend.get)
    else:
        mbox_fd = os.eventfd(0, os.EFD_CLOEXEC)
    reply_fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)  # (see waiting.py)
    local[7:12] = [mbox_q, mbox_fd, ctl_q, reply_q, reply_fd]
    worker = ProcessWorker(tuple(local), channel, address, reply_to, baseline)
    if lane is not None:
        worker.lane = lane
        _read_mail_through(lane)
    signal.signal(signal.SIGINT, worker.on_sigint)
    threading.Thread(
        target=_serve_channel,
        args=(
            sock,
            reader,
            early,
            (mbox_q, mbox_fd, ctl_q, reply_q, reply_fd),
            (local[14], local[15]),
            channel,
        ),
        name="interactors-channel",
        daemon=True,
    ).start()
    info: Any = None
    try:
        worker.run()
    except BaseException as exc:
        import traceback

        info = (type(exc).__qualname__, str(exc), "".join(traceback.format_exception(exc)))
    with contextlib.suppress(OSError):
        channel.send((C.EXIT_INFO, info))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)
