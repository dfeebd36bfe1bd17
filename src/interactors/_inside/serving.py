"""Serving one incarnation inside an actor's interpreter: receive, dispatch, reply.

:class:`Server` holds a worker's state and its hot path: drain every queued envelope per
wake-up, dispatch it to the instance (a plain method in the worker's thread, an
``async def`` one on the actor's own event loop), reply, and apply the actor's
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
from .._exceptions import EncodeError, HandlerTimeout, UnknownMethodError
from .._wire import envelope as P
from .._wire import slots as S
from . import faults as _faults
from .loading import error_payload
from .peer import PeerContext

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

    from .._wire.codec_protocol import Codec

__all__ = ("Leave", "Server")

# How long an idle worker keeps checking its queue before it parks (seconds).
SPIN_SECONDS: Final = 50e-6

_count = backend.count
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


class Server:
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
        ) = config
        self.slot_fd = slot_fd
        self._area, self.fields, self.base = S.slot_fields(slot_fd, slot_index)
        self.methods: tuple[str, ...] = ()
        self.method_set: frozenset[str] = frozenset()
        self.codec: Codec | None = None
        self.cls: Any = None
        self.instance: Any = None
        self.async_methods: frozenset[str] = frozenset()
        self.loop: Any = None
        self.peers = PeerContext(self)
        self.init_payload: tuple[int, Any] = (P.PLAIN, ())
        self.leaving: Leave | None = None
        self.failing_starts = 0
        self.thread_id = _thread.get_ident()

    def send(self, qid: int, fd: int, envelope: tuple[Any, ...]) -> None:
        _put(qid, envelope)
        _wake(fd, 1)

    def reply(self, request: tuple[Any, ...], envelope: tuple[Any, ...]) -> None:
        """Put a reply where ``request`` asked for it; wake the asker only if it sleeps."""
        _put(request[5], envelope)
        flag = request[7]
        if flag < 0 or self.peers.flag_set(flag):
            _wake(request[6], 1)

    def reply_ok(self, request: tuple[Any, ...], result: Any) -> None:
        msg_id = request[1]
        if type(result) in P.PLAIN_TYPES:
            self.reply(request, (P.REPLY_OK, msg_id, P.PLAIN, result))
            return
        try:
            payload = self.codec.encode(result)  # type: ignore[union-attr]
        except EncodeError as exc:
            self.reply_error(request, exc)
            return
        self.reply(request, (P.REPLY_OK, msg_id, P.ENCODED, payload))

    def reply_error(self, request: tuple[Any, ...], exc: BaseException, kind: int = 0) -> None:
        self.reply(request, (kind or P.REPLY_ERROR, request[1], P.PLAIN, error_payload(exc)))

    def tell_host(self, kind: int, msg_id: int, payload: Any) -> None:
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
                self.failing_starts += times

            return fail_next_starts
        return _faults.FAULTS[kind]

    def begin(self, envelope: tuple[Any, ...]) -> None:
        fields, base = self.fields, self.base
        fields[base + S.BUSY_SINCE] = _now_ns()
        fields[base + S.IN_FLIGHT_ASK] = envelope[1]
        fields[base + S.CURRENT_SEQ] = fields[base + S.HANDLED] + 1

    def end(self, failed: bool) -> None:
        fields, base = self.fields, self.base
        fields[base + S.CURRENT_SEQ] = 0
        fields[base + S.IN_FLIGHT_ASK] = 0
        fields[base + S.HANDLED] += 1
        if failed:
            fields[base + S.ERRORS] += 1

    def handle(self, envelope: tuple[Any, ...]) -> None:
        """Handle one ASK/TELL synchronously (the method is a plain function)."""
        self.begin(envelope)
        try:
            fn, args, kwargs = self.prepare(envelope)
            result = fn(*args, **kwargs) if kwargs else fn(*args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.end(True)
            self.failed(envelope, exc)
            return
        self.succeeded(envelope, result)

    def succeeded(self, envelope: tuple[Any, ...], result: Any) -> None:
        self.end(False)
        if envelope[0] == P.ASK:
            self.reply_ok(envelope, result)

    async def handle_async(self, envelope: tuple[Any, ...]) -> None:
        """Handle one ASK/TELL whose method is ``async def``, on the actor's loop.

        With a ``handler_timeout``, the handler is cancelled at its deadline (an
        ``asyncio.timeout``), which counts as a hang like the watchdog's interruption.
        """
        import asyncio

        self.begin(envelope)
        deadline = asyncio.timeout(self.handler_timeout or None)
        try:
            fn, args, kwargs = self.prepare(envelope)
            async with deadline:
                result = await (fn(*args, **kwargs) if kwargs else fn(*args))
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                exc = HandlerTimeout()
            self.end(True)
            self.failed(envelope, exc)
            return
        self.succeeded(envelope, result)

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
        elif not isinstance(exc, UnknownMethodError) and not crash:
            # Nobody waits for a tell: say what happened instead of dropping it silently.
            import traceback

            print(
                f"interactors: actor {self.name!r}: tell {envelope[2]!r} raised:\n"
                + "".join(traceback.format_exception(exc)),
                file=sys.stderr,
                end="",
            )
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
        self.tell_host(P.CRASHED, self.actor_id, (policy, self.token, *error_payload(exc)[:3]))
        self.instance = None
        raise Leave("crashed" if policy == "restart" else "stopped_after_error")

    def control(self, envelope: tuple[Any, ...]) -> None:
        """A STOP from the mailbox or a control message while serving: leave the loop."""
        kind = envelope[0]
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
        mbox_q, ctl_q, fd = self.mbox_q, self.ctl_q, self.mbox_fd
        fields, parked = self.fields, self.base + S.PARKED
        handle, control = self.handle, self.control
        perf = time.perf_counter
        yield_cpu = os.sched_yield
        while True:
            if _count(ctl_q):
                control(_get(ctl_q))  # type: ignore[arg-type]
            pending = _count(mbox_q)
            if pending:
                self.check_owner()
                for _ in range(pending):
                    envelope: Any = _get(mbox_q)
                    if envelope is backend.UNBOUND:
                        continue
                    if envelope[0] == P.STOP:
                        control(envelope)
                    handle(envelope)
                continue
            deadline = perf() + SPIN_SECONDS
            while not _count(mbox_q) and perf() < deadline:
                yield_cpu()
            if _count(mbox_q) or _count(ctl_q):
                continue
            fields[parked] = 1
            if not _count(mbox_q) and not _count(ctl_q):
                os.eventfd_read(fd)
            fields[parked] = 0

    async def serve_async(self) -> None:
        import asyncio

        loop = self.loop
        wake = asyncio.Event()

        def on_mail() -> None:
            os.eventfd_read(self.mbox_fd)
            wake.set()

        loop.add_reader(self.mbox_fd, on_mail)
        limit = asyncio.Semaphore(max(1, self.max_concurrency))
        tasks: set[Any] = set()

        async def run_limited(envelope: tuple[Any, ...]) -> None:
            try:
                await self.handle_async(envelope)
            except Leave as leave:
                self.leaving = leave
                wake.set()
            finally:
                limit.release()

        try:
            while True:
                if self.leaving is not None:
                    raise self.leaving
                if _count(self.ctl_q):
                    self.control(_get(self.ctl_q))  # type: ignore[arg-type]
                if not _count(self.mbox_q):
                    wake.clear()
                    self.fields[self.base + S.PARKED] = 1
                    if not _count(self.mbox_q) and not _count(self.ctl_q):
                        await wake.wait()
                    self.fields[self.base + S.PARKED] = 0
                    continue
                self.check_owner()
                envelope: Any = _get(self.mbox_q)
                if envelope is backend.UNBOUND:
                    continue
                if envelope[0] == P.STOP:
                    if tasks:
                        await asyncio.gather(*tasks, return_exceptions=True)
                    self.control(envelope)
                if envelope[2] not in self.async_methods:
                    self.handle(envelope)
                elif self.max_concurrency <= 1:
                    await self.handle_async(envelope)
                else:
                    await limit.acquire()
                    task = loop.create_task(run_limited(envelope))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            loop.remove_reader(self.mbox_fd)
            for task in tasks:
                task.cancel()
            self.leaving = None
