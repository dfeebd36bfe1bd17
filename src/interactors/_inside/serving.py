"""Serving one incarnation inside an actor's interpreter: receive, dispatch, reply.

:class:`Server` holds a worker's state and its hot path: drain every queued envelope per
wake-up, dispatch it to the instance (a plain method in the worker's thread, an
``async def`` one on the actor's own event loop, see :mod:`.serving_async`), reply, and
apply the actor's
``on_error`` policy when a handler raises. It spins briefly before parking on the
mailbox's eventfd, so a busy actor answers fast and an idle one costs no CPU.

Stdlib only (no typing at run time): runs inside actors' interpreters.
"""

from __future__ import annotations

import _thread
import os
import sys
import time

from .. import _backend as backend
from .._exceptions import ActorInterrupted, EncodeError, HandlerTimeout, UnknownMethodError
from .._wire import envelope as P
from .._wire import slots as S
from . import faults as _faults
from .batches import BatchReader
from .loading import error_payload
from .log_shipping import before_park, on_levels
from .peer import PeerContext

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

    from .._wire.codec_protocol import Codec
    from .log_shipping import LogShipper

__all__ = ("Leave", "Server")

# How long an idle worker keeps checking its queue before it parks (seconds).
SPIN_SECONDS: Final = 50e-6

_count = backend.count  # a process actor's child counts through its lane (_backend/lane.py)
_get = backend.get
_put = backend.put
_wake = os.eventfd_write
_now_ns = time.monotonic_ns


class Leave(Exception):
    """Ends the current incarnation's serve loop with an outcome."""

    def __init__(self, outcome: str, reply_to: tuple[Any, ...] | None = None) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.reply_to = reply_to


class Server(BatchReader):
    """A worker's state and its receive/dispatch/reply loop (lifecycle: :class:`Worker`)."""

    def __init__(self, config: tuple[Any, ...]) -> None:
        (
            self.system_id,
            self.actor_id,
            self.name,
            self.target,
            self.main_path,
            _sys_path,
            self.codec_spec,
            self.mbox_q,
            self.mbox_fd,
            self.ctl_q,
            self.reply_q,
            self.reply_fd,
            self.host_q,
            self.host_fd,
            slot_fd,
            slot_index,
            self.max_concurrency,
            self.start_id,
            self.on_error,
            self.handler_timeout,
            self.token,
            self.interrupt_fd,
            self.log_levels,
        ) = config
        self.slot_fd = slot_fd
        self._area, self.fields, self.base = S.slot_fields(slot_fd, slot_index)
        self.methods: tuple[str, ...] = ()
        self.method_set: frozenset[str] = frozenset()
        self.codec: Codec | None = None
        self.cls: Any = None
        self.imported: tuple[str, ...] = ()  # the stdlib modules loading the class took
        self.instance: Any = None
        self.async_methods: frozenset[str] = frozenset()
        self.loop: Any = None
        self.peers = PeerContext(self)
        self.init_payload: tuple[int, Any] = (P.PLAIN, ())
        self.leaving: Leave | None = None
        # Why the incarnation is ending, for the asks its other async handlers still run
        # (they are cancelled and answered ActorCrashed; see AsyncServer.handle_async).
        self.ending = ""
        self.thread_id = _thread.get_ident()
        # Async handlers running now, and the tasks running them (a stop cancels them).
        self.running_handlers = 0
        self.handler_tasks: set[Any] = set()
        # The asks their handlers run, by id(envelope): answered by whoever takes one out
        # (the handler, or the watchdog of an incarnation abandoned while they wait).
        self.asks_running: dict[int, tuple[Any, ...]] = {}
        self.cancel_acked = False
        self.quick_methods: set[str] = set()  # see batches.py (answers held in a batch)
        self.logs: LogShipper | None = None  # set once the actor's code uses logging

    def send(self, qid: int, fd: int, envelope: tuple[Any, ...]) -> None:
        _put(qid, envelope)
        _wake(fd, 1)

    def reply(self, request: tuple[Any, ...], envelope: tuple[Any, ...]) -> None:
        """Put a reply where ``request`` asked for it; wake the asker only if it sleeps.
        What the handler logged goes first to the host, whose asks it answers: the
        host's log then shows the records before the caller's own that follow."""
        logs = self.logs
        if logs is not None and logs.buffer and request[5] == self.host_q:
            logs.flush()
        flag = request[7]
        if flag >= 0:
            self.peers.answering(flag, request[1])  # (its wait ends here: see waiting.py)
        try:
            (backend.put_plain if type(envelope[3]) in P.SCALARS else _put)(request[5], envelope)
        except Exception:
            # The asker's reply queue is gone (an actor that stopped meanwhile): nobody
            # is left to answer, and the actor itself must carry on.
            return
        if flag < 0 or self.peers.flag_set(flag):
            _wake(request[6], 1)

    def reply_ok(self, request: tuple[Any, ...], result: Any) -> None:
        try:
            envelope = self.result_envelope(request, result)
        except BaseException as exc:
            self.reply_error(request, exc)
            return
        self.reply(request, envelope)

    def result_envelope(self, request: tuple[Any, ...], result: Any) -> tuple[Any, ...]:
        """The REPLY_OK envelope for ``result``; :class:`EncodeError` saying why when it
        cannot be sent (interruptions pass through)."""
        msg_id = request[1]
        kind = type(result)
        if kind in P.PLAIN_TYPES and (kind is not int or P.INT_MIN <= result <= P.INT_MAX):
            return (P.REPLY_OK, msg_id, P.PLAIN, result)
        try:
            payload = P.encode_value(self.codec, result)
        except EncodeError as exc:
            raise EncodeError(f"the result of {request[2]!r} cannot be sent back: {exc}") from exc
        return (P.REPLY_OK, msg_id, P.ENCODED, payload)

    def reply_error(self, request: tuple[Any, ...], exc: BaseException, kind: int = 0) -> None:
        self.reply(request, (kind or P.REPLY_ERROR, request[1], P.PLAIN, error_payload(exc)))

    def tell_host(self, kind: int, msg_id: int, payload: Any) -> None:
        if self.logs is not None and self.logs.buffer:
            self.logs.flush()  # what the actor logged comes before what happened to it
        self.send(self.host_q, self.host_fd, (kind, msg_id, P.PLAIN, payload))

    def hook(self, name: str, *args: Any) -> Any:
        fn = getattr(self.instance, name, None)
        return None if fn is None else fn(*args)

    def prepare(
        self, envelope: tuple[Any, ...]
    ) -> tuple[Any, tuple[Any, ...], dict[str, Any] | None]:
        method, fmt, payload = envelope[2], envelope[3], envelope[4]
        if method not in self.method_set:
            if method.startswith(_faults.PREFIX):
                return self.fault(method.removeprefix(_faults.PREFIX)), payload, None
            raise UnknownMethodError.of(f"{self.name!r} ({self.target})", method, self.methods)
        if fmt == P.PLAIN:
            return getattr(self.instance, method), payload, None
        args, kwargs = self.codec.decode(payload)  # type: ignore[union-attr]
        return getattr(self.instance, method), tuple(args), kwargs

    def fault(self, kind: str) -> Any:
        """The function that injects fault ``kind`` (interactors.testing)."""
        if kind == "fail_start":

            def fail_next_starts(times: int) -> None:
                # In the shared slot: the count outlives this worker (a SystemExit ends
                # it, and the next start runs in a new one).
                self.fields[self.base + S.FAILING_STARTS] += times

            return fail_next_starts
        return _faults.FAULTS[kind]

    def begin(self, envelope: tuple[Any, ...]) -> None:
        fields, base = self.fields, self.base
        fields[base + S.BUSY_SINCE] = _now_ns()
        fields[base + S.IN_FLIGHT_ASK] = envelope[1]
        fields[base + S.IN_FLIGHT_PEER] = (
            envelope[5] << S.PEER_SHIFT | envelope[6] if envelope[7] >= 0 else 0
        )
        fields[base + S.CURRENT_SEQ] = fields[base + S.HANDLED] + 1

    def end(self, failed: bool) -> None:
        fields, base = self.fields, self.base
        fields[base + S.CURRENT_SEQ] = 0
        fields[base + S.IN_FLIGHT_ASK] = 0
        fields[base + S.HANDLED] += 1
        if failed:
            fields[base + S.ERRORS] += 1

    def handle(self, envelope: tuple[Any, ...]) -> None:
        """Handle one ASK/TELL synchronously (the method is a plain function).

        The reply is encoded while the message still counts as in flight: a result that
        cannot be sent fails the handler (the asker learns why), and if the thread dies
        meanwhile the host still knows which ask to fail.
        """
        self.begin(envelope)
        reply = None
        fields, current = self.fields, self.base + S.CURRENT_SEQ
        try:
            fn, args, kwargs = self.prepare(envelope)
            result = fn(*args, **kwargs) if kwargs else fn(*args)
            if envelope[0] == P.ASK:
                reply = self.result_envelope(envelope, result)
            # Done: the watchdog injects only while this is set. No call comes between the
            # last one above and this store, so an injection lands in this ``try``.
            fields[current] = 0
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.handler_failed(envelope, exc)
            return
        self.end(False)
        if reply is not None:
            self.reply(envelope, reply)

    def handler_failed(self, envelope: tuple[Any, ...], exc: BaseException) -> None:
        """The handler of ``envelope`` raised ``exc`` (not SystemExit or KeyboardInterrupt,
        which end the worker): the message is done, then its asker and ``on_error`` learn."""
        self.end(True)
        if isinstance(exc, ActorInterrupted):
            self.interrupted(envelope, exc)
        else:
            self.failed(envelope, exc)

    def interrupted(self, envelope: tuple[Any, ...] | None, exc: BaseException) -> None:
        """The host broke a running handler to stop the actor (``ref.stop``, shutdown, a
        supervisor's terminate): answer its asker, then leave this incarnation.

        With no interrupt requested (a late injection from an earlier one), nothing is
        left: the message, if any, fails like any handler error.
        """
        self.check_owner()  # abandoned meanwhile: leave at once, on_stop is not for it
        why = self.fields[self.base + S.INTERRUPT]
        if not why:
            if envelope is not None:
                self.failed(envelope, exc)
            return
        if envelope is not None and envelope[0] == P.ASK:
            doing = "stopping" if why == S.INTERRUPT_STOP else "being restarted by its supervisor"
            message = (
                f"handler {envelope[2]!r} was interrupted: the actor is {doing} and the "
                "handler did not return in time"
            )
            text = _format(exc)
            payload = ("ActorStopped", message, text, None)
            self.reply(envelope, (P.REPLY_CRASHED, envelope[1], P.PLAIN, payload))
        self.cancel_handlers()
        if why == S.INTERRUPT_TERMINATE:
            while _count(self.ctl_q):  # the TERMINATE that asked for this is waiting there
                self.control(_get(self.ctl_q))  # type: ignore[arg-type]
            raise Leave("terminated")
        raise Leave("stopped")

    def cancel_handlers(self) -> None:
        """Cancel the running async handlers (on the actor's loop)."""
        self.cancel_acked = True
        for task in list(self.handler_tasks):
            task.cancel()

    def failed(self, envelope: tuple[Any, ...], exc: BaseException) -> None:
        """A handler raised: answer the asker, then apply the actor's ``on_error`` policy."""
        if isinstance(exc, HandlerTimeout):
            exc = HandlerTimeout(
                f"handler {envelope[2]!r} ran longer than handler_timeout={self.handler_timeout} s"
            )
        crash = self.on_error != "resume" or isinstance(exc, HandlerTimeout)
        if isinstance(exc, UnknownMethodError):
            crash = False  # a caller's mistake, not the actor's
        if envelope[0] == P.ASK:
            kind = P.REPLY_CRASHED if crash else P.REPLY_ERROR
            self.reply_error(envelope, exc, kind)
        elif not crash:
            # Nobody waits for a tell: the host logs it (with the actor's name and the
            # traceback) instead of it being dropped silently.
            self.tell_host(P.TELL_FAILED, self.actor_id, (envelope[2], *error_payload(exc)[:3]))
        if not crash:
            return
        try:
            self.hook("on_failure", exc)
        except Exception as hook_error:
            print(
                f"interactors: actor {self.name!r}: on_failure raised {hook_error!r}",
                file=sys.stderr,
            )
        policy = "stop" if self.on_error == "stop" else "restart"
        type_name, message, text = error_payload(exc)[:3]
        self.ending = P.cause(type_name, message)
        self.tell_host(P.CRASHED, self.actor_id, (policy, self.token, type_name, message, text))
        self.instance = None
        raise Leave("crashed" if policy == "restart" else "stopped_after_error")

    def control(self, envelope: tuple[Any, ...]) -> None:
        """A STOP from the mailbox or a control message while serving: leave the loop
        (new logging levels are applied, and serving goes on)."""
        kind = envelope[0]
        if kind == P.LOG_LEVELS:
            on_levels(self, envelope[4])
            return
        if kind == P.STOP:
            raise Leave("stopped", envelope)
        if kind == P.TERMINATE:
            raise Leave("terminated", envelope)
        if kind == P.EXIT:
            raise Leave("exit")

    def check_owner(self) -> None:
        if self.fields[self.base + S.OWNER] != self.token:
            raise Leave("abandoned")

    def serve_sync(self) -> None:
        """Serve until the incarnation ends (raises :class:`Leave`).

        An interruption that lands between handlers (the handler returned just before it
        was injected) still ends the incarnation as the host asked.
        """
        while True:
            try:
                self.serve_sync_loop()
            except ActorInterrupted as exc:
                self.interrupted(None, exc)

    def serve_sync_loop(self) -> None:
        mbox_q, ctl_q, fd = self.mbox_q, self.ctl_q, self.mbox_fd
        fields, parked = self.fields, self.base + S.PARKED
        owner, token, batch = self.base + S.OWNER, self.token, self.base + S.BATCH_ITEM
        handle, control = self.handle, self.control
        perf = time.perf_counter
        yield_cpu = os.sched_yield
        counted = 0  # what the spin saw arrive: the next turn need not count it again
        while True:
            # An abandoned worker (its handler outlived the host's patience) leaves as soon
            # as it is back here, before it touches queues its replacement now serves.
            if fields[owner] != token:
                raise Leave("abandoned")
            if fields[batch] and not self.serve_batch():  # its last incarnation left one
                raise Leave("abandoned")
            # Counted first: a control message put before any of these (new logging
            # levels, say) is then seen before them.
            pending, counted = counted or _count(mbox_q), 0
            while _count(ctl_q):
                control(_get(ctl_q))  # type: ignore[arg-type]
            if pending:
                for _ in range(pending):
                    envelope: Any = _get(mbox_q)
                    if envelope is backend.UNBOUND:
                        continue
                    kind = envelope[0]
                    if kind == P.BATCH:
                        self.take_batch(envelope[1])
                        if not self.serve_batch():
                            raise Leave("abandoned")
                        continue
                    if kind == P.STOP:
                        control(envelope)
                    handle(envelope)
                envelope = None  # not kept alive while parked (a large argument, say)
                continue
            deadline = perf() + SPIN_SECONDS
            while not (counted := _count(mbox_q)) and perf() < deadline:
                yield_cpu()
            if counted or _count(ctl_q):
                continue
            before_park(self)
            fields[parked] = 1
            if not _count(mbox_q) and not _count(ctl_q):
                os.eventfd_read(fd)
            fields[parked] = 0


def _format(exc: BaseException) -> str:
    """The traceback of ``exc`` (where a handler was interrupted), never raising."""
    try:
        import traceback

        return "".join(traceback.format_exception(exc))
    except Exception:
        return ""
