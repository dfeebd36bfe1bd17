"""The host's record of one actor, without its lifecycle: identity, queues, asks and tells.

:class:`CellMessaging` holds everything a cell owns for the actor's whole life (the
mailbox, the control queue, the actor's reply queue, its slot of shared counters), sends
messages to it and reads its statistics. :class:`~.cell.ActorCell` adds the lifecycle.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Final, Protocol

import anyio

from .. import _backend as backend
from .._exceptions import ActorStopped, MailboxFull, UnknownMethodError
from .._wire import envelope as P
from .._wire import slots as S
from .._wire.codec_protocol import Codec
from .mailbox import SMALL, Mailbox, MailboxClosed
from .statistics import ActorStatistics

if TYPE_CHECKING:
    from .cell import ActorCell
    from .process_actor import ProcessLink
    from .system import ActorSystem


log = logging.getLogger("interactors")

# Actor states, as shown in statistics.
STARTING: Final = "starting"
RUNNING: Final = "running"
RESTARTING: Final = "restarting"
STOPPING: Final = "stopping"
STOPPED: Final = "stopped"
CRASHED: Final = "crashed"
_SENDING: Final = frozenset({RUNNING, RESTARTING})  # the states that take messages

# The share of a stop's timeout after which a running handler is interrupted.
INTERRUPT_AFTER: Final = 0.25

# Worker situations (host's view of the current incarnation).
W_NONE: Final = "none"  # no thread (never started, or it returned)
W_SERVING: Final = "serving"
W_WAITING: Final = "waiting"  # alive, no instance, waiting for a control message
W_EXITING: Final = "exiting"  # told to leave, or leaving on its own


_encode_call = P.encode_call
_ASK: Final = P.ASK
_TELL: Final = P.TELL
_REPLY_OK: Final = P.REPLY_OK
_PLAIN: Final = P.PLAIN
_PLAIN_TYPES: Final = P.PLAIN_TYPES
_INT_MIN: Final = P.INT_MIN
_INT_MAX: Final = P.INT_MAX


def _plain_and_small(args: tuple[Any, ...]) -> bool:
    """Are these arguments sent as they are (see ``encode_call``) and in a batch (no long
    str or bytes)? One pass over them, for the host's most frequent message."""
    plain = _PLAIN_TYPES
    for arg in args:
        kind = type(arg)
        if kind is int:
            if not _INT_MIN <= arg <= _INT_MAX:
                return False
        elif kind not in plain or ((kind is str or kind is bytes) and len(arg) > SMALL):
            return False
    return True


class CellOwner(Protocol):
    def incarnation_ended(self, cell: ActorCell, reason: str, abnormal: bool) -> None: ...

    def cell_finished(self, cell: ActorCell) -> None: ...


class CellMessaging:
    """Host-side state of one actor that outlives its incarnations (see the module docstring)."""

    def __init__(
        self,
        system: ActorSystem,
        actor_id: int,
        name: str,
        target: str,
        main_path: str,
        *,
        isolation: str,
        codec: Codec,
        mailbox_size: int,
        max_concurrency: int,
        on_error: str,
        handler_timeout: float | None,
        shutdown: float,
    ) -> None:
        self.system = system
        self.pump = system._pump
        self.actor_id = actor_id
        self.name = name
        self.target = target
        self.main_path = main_path
        self.isolation = isolation
        self.codec = codec
        self.max_concurrency = max_concurrency
        self.on_error = on_error
        self.handler_timeout = handler_timeout
        self.shutdown_timeout = shutdown
        self.owner: CellOwner | None = None
        # The fds first: out of them, the spawn fails here with nothing to undo but these.
        # interrupt_fd is written by the host to make the watchdog break a running handler.
        fds: list[int] = []
        try:
            # Both non-blocking: each may be read by more than one look (see waiting.py).
            fds.append(os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK))
            fds.append(os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK))
            self.slot_fd, self.slot_index = system._slots.allocate()
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
        self.reply_fd, self.interrupt_fd = fds
        self.fields = system._slots.view(self.slot_fd)
        self.base = self.slot_index * S.FIELDS
        self.mailbox = Mailbox(mailbox_size, name, self.fields, self.base, self.pump.tells)
        # The host's small tells go in batches (a process actor's bridge takes one envelope
        # per item, and the lane takes them as they come).
        self.batching = isolation != "process" and backend.BATCHES
        self.ctl_q = backend.create_queue(0)
        self.reply_q = backend.create_queue(0)
        # The flag senders look at before waking the mailbox (a process actor's bridge's).
        self.wake_flag = S.flag_code(self.slot_fd, self.base + S.PARKED)
        self.process: ProcessLink | None = None  # isolation="process" only
        self.state = STARTING
        self.worker = W_NONE
        self.methods: tuple[str, ...] = ()
        self._method_set: frozenset[str] = frozenset()
        self.iid: int | None = None
        self.thread: threading.Thread | None = None
        self.token = 0
        self.pending: set[int] = set()
        self.exit_reason = ""
        self.stopped_event = anyio.Event()
        self._exited = anyio.Event()
        self._init: tuple[int, Any] = (P.PLAIN, ())
        self._start_id = 0
        self._stop_id = 0
        self._term_id = 0
        self._endings = 0  # incarnations that ended (crash and exit notices handled)
        self._stop_crashed = False
        self._closed = False
        if system._ask_timer is not None:  # metrics on; off, the ask path is untouched
            self.ask = system._ask_timer.timed(self)  # type: ignore[method-assign, assignment]

    def address(self) -> P.Address:
        return (
            self.system.system_id,
            self.actor_id,
            self.name,
            self.mailbox.qid,
            self.mailbox.fd,
            self.methods,
            self.wake_flag,
        )

    def is_alive(self) -> bool:
        return self.state in (STARTING, RUNNING, RESTARTING)

    def check_method(self, method: str) -> None:
        if method not in self._method_set:
            raise UnknownMethodError.of(f"{self.name!r} ({self.target})", method, self.methods)

    def encode_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, Any]:
        return P.encode_call(self.codec, args, kwargs)

    def set_init(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Encode the constructor's arguments once (raises EncodeError at the caller)."""
        self._init = self.encode_call(args, kwargs)

    def _refuse(self) -> ActorStopped:
        return ActorStopped(f"actor {self.name!r} is {self.state}; it takes no more messages")

    async def ask(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.state not in _SENDING:
            raise self._refuse()
        plain = not kwargs and _plain_and_small(args)  # (then the queue need not look
        if plain:  # for buffers in it)
            fmt, payload = _PLAIN, args
        else:
            fmt, payload = _encode_call(self.codec, args, kwargs)
        pump = self.pump
        msg_id = self.system._next_id()
        envelope = (_ASK, msg_id, method, fmt, payload, pump.qid, pump.fd, -1)
        waiter = pump.waiter(msg_id)
        pending = self.pending
        pending.add(msg_id)
        try:
            if self.process is not None and self._lane_send(envelope):
                link = self.process
                assert link is not None
                reply = await pump.wait_direct(msg_id, waiter, link.lane_poll, link.lane_sleeping)
            else:
                # While other tasks await answers, the loop turns before this one's can
                # come: the ask goes with this turn's batch, one queue item for the asks
                # (and tells) of every caller resumed in the turn.
                batched = plain and self.batching and pump.asking > 0
                try:
                    if batched:
                        self.mailbox.add(envelope)
                    else:
                        self.mailbox.put_nowait(envelope, plain)
                except MailboxFull:
                    batched = False
                    try:
                        await self.mailbox.put(envelope)
                    except MailboxClosed:
                        raise self._refuse() from None
                reply = await pump.wait(msg_id, waiter, batched)
        finally:
            pending.discard(msg_id)
            pump.waiters.pop(msg_id, None)
            backend.forget_lent(pump.qid, msg_id)
        if reply[0] == _REPLY_OK and reply[2] == _PLAIN:  # (raise_reply's first case)
            return reply[3]
        return P.raise_reply(reply, self.name, self.codec.decode)

    def fail_in_flight(self, reason: str) -> None:
        """Answer the ask the worker was handling when it died or was abandoned: its
        asker gets ActorCrashed, whether it is the host or another actor."""
        fields, base = self.fields, self.base
        msg_id, peer = fields[base + S.IN_FLIGHT_ASK], fields[base + S.IN_FLIGHT_PEER]
        fields[base + S.IN_FLIGHT_ASK] = fields[base + S.IN_FLIGHT_PEER] = 0
        fields[base + S.CURRENT_SEQ] = 0
        if not msg_id:
            return
        envelope = P.died_handling(self.name, msg_id, reason)
        if not peer:
            if msg_id in self.pending:
                self.pump.fail(msg_id, envelope)
        elif self.process is None:  # (a process actor's transport answers those itself)
            answer_peer(peer >> S.PEER_SHIFT, peer & (1 << S.PEER_SHIFT) - 1, envelope)

    def fail_pending(self, error: tuple[str, str, str, bytes | None]) -> None:
        """Fail every ask waiting for this actor with ``error`` (type, message, text, blob)."""
        for msg_id in list(self.pending):
            self.pump.fail(msg_id, (P.REPLY_CRASHED, msg_id, P.PLAIN, error))
        self.pending.clear()

    async def tell(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.state not in (RUNNING, RESTARTING):
            raise self._refuse()
        fmt, payload = _encode_call(self.codec, args, kwargs)
        envelope = (_TELL, 0, method, fmt, payload, 0, 0, -1)
        if not self._lane_send(envelope):  # (awaited: in the mailbox when it returns)
            try:
                await self.mailbox.put(envelope)
            except MailboxClosed:
                raise self._refuse() from None

    def tell_nowait(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.state not in _SENDING:
            raise self._refuse()
        if self.batching and not kwargs and _plain_and_small(args):  # the common case, first
            self.mailbox.add((_TELL, 0, method, _PLAIN, args, 0, 0, -1))
            return
        fmt, payload = _encode_call(self.codec, args, kwargs)
        envelope = (_TELL, 0, method, fmt, payload, 0, 0, -1)
        # An encoded payload joins the batch when it is short bytes. One with buffers is a
        # tuple (they travel out of band, as they are: never marshalled into a batch).
        if self.batching and type(payload) is bytes and len(payload) <= SMALL:
            self.mailbox.add(envelope)
        elif self.process is None or not self._lane_send(envelope):
            self.mailbox.put_nowait(envelope)

    def _lane_send(self, envelope: tuple[Any, ...]) -> bool:
        """Send through a process actor's lane (after every batch begun); False if not."""
        direct = self.process.direct if self.process is not None else None
        if direct is None:
            return False
        self.pump.tells.flush()
        return direct.lane_send(envelope)

    def interrupt(self, why: int) -> None:
        """Break the handler that keeps the actor from stopping, once a stop has waited
        ``INTERRUPT_AFTER`` of its timeout: the actor's watchdog injects an exception into
        it (see ``_inside/watchdog.py``), so the actor still runs ``on_stop`` and leaves,
        well within the timeout (actors are stopped one after the other at shutdown). Only
        code blocked in C ignores this; the actor is abandoned at the timeout then."""
        if self.worker != W_SERVING or self._closed:
            return
        busy = self.fields[self.base + S.CURRENT_SEQ] or self.fields[self.base + S.HEARTBEAT]
        log.log(
            logging.WARNING if busy else logging.INFO,
            "actor %r has not stopped yet: interrupting its running handlers",
            self.name,
        )
        self.fields[self.base + S.INTERRUPT] = why
        os.eventfd_write(self.interrupt_fd, 1)

    def _log_stop_error(self, reply: tuple[Any, ...]) -> None:
        if reply[0] == P.REPLY_ERROR:
            log.warning("actor %r: on_stop raised %s: %s", self.name, reply[3][0], reply[3][1])

    def on_tell_failed(self, payload: tuple[Any, ...]) -> None:
        """A tell's handler raised and the actor resumed (TELL_FAILED notice): nobody
        waits for a tell, so the error is logged here, with the actor's traceback."""
        method, type_name, message, text = payload
        log.error(
            "actor %r: tell %r raised %s: %s\nRemote traceback:\n%s",
            self.name,
            method,
            type_name,
            message,
            text.rstrip(),
        )

    def load(self) -> int:
        """Messages queued or running plus asks awaiting a reply, read from the shared
        counters: what a ``least_busy`` pool compares (``statistics()`` costs far more)."""
        if self._closed:
            return 1 << 30  # gone: never the least busy
        running = self.fields[self.base + S.CURRENT_SEQ] != 0
        return self.mailbox.depth() + running + len(self.pending)

    async def wait_stopped(self) -> str:
        await self.stopped_event.wait()
        return self.exit_reason

    def statistics(self) -> ActorStatistics:
        if self._closed:  # its counters are freed: the last snapshot, taken at close
            return self._last_statistics
        fields, base = self.fields, self.base
        busy_since = fields[base + S.BUSY_SINCE] if fields[base + S.CURRENT_SEQ] else 0
        return ActorStatistics(
            name=self.name,
            actor_id=self.actor_id,
            state=self.state,
            isolation=self.isolation,
            interpreter_id=self.iid,
            mailbox_depth=0 if self._closed else self.mailbox.depth(),
            mailbox_size=self.mailbox.maxsize,
            messages_handled=fields[base + S.HANDLED],
            errors=fields[base + S.ERRORS],
            restarts=max(0, fields[base + S.INCARNATION] - 1),
            busy_seconds=(time.monotonic_ns() - busy_since) / 1e9 if busy_since else None,
            asks_in_flight=len(self.pending),
            thread_id=None if self.thread is None else self.thread.native_id,
            process_id=None if self.process is None else self.process.pid,
        )

    def close(self) -> None:
        """Free the interpreter, queues and fds (the actor's thread has ended)."""
        if self._closed:
            return
        self._last_statistics = self.statistics()
        self._closed = True
        if self.process is not None:
            self.process.close()
        self.release_interpreter()
        if self.system._abandoned.holds(self.actor_id):
            self.system._abandoned.defer_free(self)  # its stuck interpreter may still use them
        else:
            self.free_queues()

    def release_interpreter(self) -> None:
        """Hand the interpreter back to the pool, which destroys it (none: nothing to do)."""
        if self.iid is not None:
            self.system._interpreters.release(self.iid, self.name)
            self.iid = None

    def free_queues(self) -> None:
        self.mailbox.close()
        backend.destroy_queue(self.ctl_q)
        backend.destroy_queue(self.reply_q)
        os.close(self.reply_fd)
        os.close(self.interrupt_fd)
        self.system._slots.release(self.slot_fd, self.slot_index)


def answer_peer(qid: int, fd: int, envelope: tuple[Any, ...]) -> None:
    """Put an answer on an asker's reply queue and wake it (nothing if the asker is gone:
    its queue is destroyed before its fd is closed, by this thread)."""
    try:
        backend.put(qid, envelope)
        os.eventfd_write(fd, 1)
    except Exception:
        log.debug("could not answer an ask (its sender is gone)")
