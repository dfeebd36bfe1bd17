"""The loop that runs inside an actor's interpreter.

The host starts a thread that runs :func:`main` in the actor's interpreter. The worker
imports the actor's module, then obeys its control queue: START/RESTART build a fresh
instance (an *incarnation*) and serve the mailbox until the incarnation ends — stopped,
terminated by its supervisor, or crashed — and EXIT leaves. Restarting in place (same
interpreter, new instance) is what makes restarts cost well under a millisecond.

Serving: drain every queued envelope per wake-up, dispatch it to the instance, reply.
Spin briefly before parking on the mailbox's eventfd, so a busy actor answers fast and an
idle one costs no CPU.

May import only the stdlib and interactors' stdlib-only modules (never anyio or msgspec at
import time): it must load in an own-GIL interpreter. A test imports it in one.
"""

from __future__ import annotations

import _thread
import os
import sys
import time

from . import _backend as backend
from . import _faults
from . import _protocol as P
from . import _slots as S
from ._actor import public_methods
from ._codec import codec_from_spec
from ._exceptions import EncodeError, UnknownMethodError
from ._loading import error_payload, is_async, isolation_extension, resolve_class
from ._peer import PeerContext

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

    from ._codec_protocol import Codec

# How long an idle worker keeps checking its queue before it parks (seconds).
SPIN_SECONDS: Final = 50e-6

_count = backend.count
_get = backend.get
_put = backend.put
_wake = os.eventfd_write
_now_ns = time.monotonic_ns


class HandlerTimeout(BaseException):
    """Injected into a handler that ran longer than the actor's ``handler_timeout``.

    A BaseException, so that handlers catching ``Exception`` do not swallow it.
    """


class _Leave(Exception):
    """Ends the current incarnation's serve loop with an outcome."""

    def __init__(self, outcome: str, reply_to: tuple[Any, ...] | None = None) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.reply_to = reply_to


class Worker:
    """One actor's control loop and receive/dispatch/reply loop."""

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
        self.leaving: _Leave | None = None
        self.failing_starts = 0
        self.thread_id = _thread.get_ident()

    # -- sending -------------------------------------------------------------------------

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

    # -- loading and building --------------------------------------------------------------

    def load(self) -> bool:
        """Import the actor's class and codec; report a failure to the host."""
        why = P.FAIL_CODEC
        try:
            self.codec = codec_from_spec(self.codec_spec)
            why = P.FAIL_IMPORT
            self.cls = resolve_class(self.target, self.main_path)
        except BaseException as exc:
            self.start_failed(exc, why, exiting=True)
            return False
        self.methods = public_methods(self.cls)
        self.method_set = frozenset(self.methods)
        self.async_methods = frozenset(
            name for name in self.methods if is_async(getattr(self.cls, name, None))
        )
        return True

    def construct(self) -> None:
        """Build a fresh instance from the constructor's arguments (raises on failure)."""
        if self.failing_starts:
            self.failing_starts -= 1
            raise _faults.InjectedFault("injected start failure")
        fmt, payload = self.init_payload
        if fmt == P.PLAIN:
            args, kwargs = payload, None
        else:
            args, kwargs = self.codec.decode(payload)  # type: ignore[union-attr]
        instance = self.cls.__new__(self.cls)
        instance.ref = self.peers.self_ref()
        instance.name = self.name
        instance.__init__(*args, **(kwargs or {}))
        self.instance = instance

    def hook(self, name: str, *args: Any) -> Any:
        fn = getattr(self.instance, name, None)
        return None if fn is None else fn(*args)

    def started(self) -> None:
        self.fields[self.base + S.INCARNATION] += 1
        self.tell_host(P.STARTED, self.start_id, (self.methods, tuple(sorted(self.async_methods))))

    def start_failed(
        self, exc: BaseException, why: str = P.FAIL_INIT, exiting: bool = False
    ) -> None:
        """Report a failed start; ``exiting`` tells the host whether this worker now leaves."""
        self.instance = None
        extension = isolation_extension(exc)
        if extension:
            why = P.FAIL_ISOLATION
        payload = (why, extension or "", exiting, *error_payload(exc))
        self.tell_host(P.START_FAILED, self.start_id, payload)

    # -- dispatch --------------------------------------------------------------------------

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
        raise _Leave("crashed" if policy == "restart" else "stopped_after_error")

    def control(self, envelope: tuple[Any, ...]) -> None:
        """A STOP from the mailbox or a control message while serving: leave the loop."""
        kind = envelope[0]
        if kind == P.STOP:
            raise _Leave("stopped", envelope)
        if kind == P.TERMINATE:
            raise _Leave("terminated", envelope)
        if kind == P.EXIT:
            raise _Leave("exit")

    def check_owner(self) -> None:
        if self.fields[self.base + S.OWNER] != self.token:
            raise _Leave("abandoned")

    # -- serving ---------------------------------------------------------------------------

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
            except _Leave as leave:
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

    # -- incarnations ----------------------------------------------------------------------

    def needs_loop(self) -> bool:
        hooks = (getattr(self.cls, name, None) for name in ("on_start", "on_stop"))
        return bool(self.async_methods) or any(is_async(fn) for fn in hooks)

    def incarnation(self) -> str:
        """Build an instance, serve until the incarnation ends; return how it ended."""
        if self.needs_loop():
            import asyncio

            return asyncio.run(self.incarnation_async())
        try:
            self.construct()
            self.hook("on_start")
        except BaseException as exc:
            self.start_failed(exc)
            return "start_failed"
        self.started()
        try:
            self.serve_sync()
        except _Leave as leave:
            return self.ended(leave, self.stop_hook_sync)
        raise AssertionError("unreachable")  # pragma: no cover

    async def incarnation_async(self) -> str:
        import asyncio

        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.reply_fd, self.peers.on_reply_readable)
        # A loop cannot spin for replies: repliers must always wake it.
        self.fields[self.base + S.REPLY_PARKED] = 1
        try:
            try:
                self.construct()
                result = self.hook("on_start")
                if hasattr(result, "__await__"):
                    await result
            except BaseException as exc:
                self.start_failed(exc)
                return "start_failed"
            self.started()
            heartbeat = None
            if self.handler_timeout:
                heartbeat = asyncio.get_running_loop().create_task(self.heartbeat())
            try:
                await self.serve_async()
            except _Leave as leave:
                if heartbeat is not None:
                    heartbeat.cancel()
                    self.fields[self.base + S.HEARTBEAT] = 0
                error = await self.stop_hook_async() if leave.outcome in _RUNS_ON_STOP else None
                return self.ended(leave, lambda: error)
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            self.loop.remove_reader(self.reply_fd)
            self.loop = None

    async def heartbeat(self) -> None:
        """Tick while the loop runs: a stale heartbeat means something blocks the loop."""
        import asyncio

        fields, index = self.fields, self.base + S.HEARTBEAT
        period = min(max(self.handler_timeout / 4, 0.01), 0.5)
        while True:
            fields[index] = _now_ns()
            await asyncio.sleep(period)

    def stop_hook_sync(self) -> BaseException | None:
        try:
            self.hook("on_stop")
        except BaseException as exc:
            return exc
        return None

    async def stop_hook_async(self) -> BaseException | None:
        try:
            result = self.hook("on_stop")
            if hasattr(result, "__await__"):
                await result
        except BaseException as exc:
            return exc
        return None

    def ended(self, leave: _Leave, run_on_stop: Any) -> str:
        """Finish an incarnation: run ``on_stop`` when it applies, answer who asked."""
        error = run_on_stop() if leave.outcome in _RUNS_ON_STOP else None
        self.instance = None
        if leave.reply_to is not None:
            if error is None:
                self.reply_ok(leave.reply_to, None)
            else:
                self.reply_error(leave.reply_to, error)
        return leave.outcome

    def next_control(self) -> Any:
        """Block until the host sends a control message (None: this worker was abandoned)."""
        fields, parked = self.fields, self.base + S.PARKED
        while not _count(self.ctl_q):
            if fields[self.base + S.OWNER] != self.token:
                return None
            fields[parked] = 1
            if not _count(self.ctl_q):
                os.eventfd_read(self.mbox_fd)
            fields[parked] = 0
        return _get(self.ctl_q)

    def run(self) -> None:
        P._inner_ref_factory = self.peers.ref_from_address
        watchdog = None
        try:
            if not self.load():
                return
            if self.handler_timeout:
                watchdog = Watchdog(self)
            while True:
                envelope = self.next_control()
                if envelope is None or envelope[0] == P.EXIT:
                    return
                kind = envelope[0]
                if kind == P.TERMINATE:  # no instance: nothing to stop
                    self.reply_ok(envelope, None)
                    continue
                if kind == P.START:
                    self.init_payload = (envelope[3], envelope[4])
                self.start_id = envelope[1]
                try:
                    outcome = self.incarnation()
                except HandlerTimeout as exc:
                    # Injected just outside a handler: still this incarnation's deadline.
                    self.instance = None
                    self.tell_host(
                        P.CRASHED, self.actor_id, ("restart", self.token, *error_payload(exc)[:3])
                    )
                    outcome = "crashed"
                if outcome in ("stopped", "stopped_after_error", "abandoned", "exit"):
                    return
                if self.fields[self.base + S.OWNER] != self.token:
                    return  # abandoned while it was stuck: a replacement took over
        finally:
            if watchdog is not None:
                watchdog.close()
            self.peers.close()
            self.fields.release()
            self._area.close()


_RUNS_ON_STOP: Final = frozenset({"stopped", "terminated", "exit"})


class Watchdog:
    """A thread in the actor's interpreter that breaks handlers running past their deadline.

    It injects :class:`HandlerTimeout` into the worker thread. That cannot interrupt a call
    blocked in C (``time.sleep``, a lock, a socket): the exception lands when the call
    returns; an actor that still does not come back is abandoned by the host.
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        import threading

        self.stopping = threading.Event()
        self.poll = min(max(worker.handler_timeout / 4, 0.01), 0.5)
        self.thread = threading.Thread(target=self.watch, name=f"watchdog-{worker.name}")
        self.thread.start()

    def watch(self) -> None:
        import ctypes

        worker = self.worker
        fields, base = worker.fields, worker.base
        limit_ns = int(worker.handler_timeout * 1e9)
        target = ctypes.c_ulong(worker.thread_id)
        fired_for = 0
        while not self.stopping.wait(self.poll):
            beat = fields[base + S.HEARTBEAT]
            if beat:
                # An async actor: its loop must keep ticking (async handlers have their
                # own deadline); a stale heartbeat means a call is blocking the loop.
                stuck, since = beat, beat
            else:
                stuck, since = fields[base + S.CURRENT_SEQ], fields[base + S.BUSY_SINCE]
            if not stuck or stuck == fired_for:
                continue
            if _now_ns() - since > limit_ns:
                fired_for = stuck
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(HandlerTimeout))

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()


def main(config: tuple[Any, ...]) -> None:
    """Entry point, run by the host in the actor's interpreter thread."""
    Worker(config).run()
