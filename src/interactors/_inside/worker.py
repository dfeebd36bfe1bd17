"""The loop that runs inside an actor's interpreter.

The host starts a thread that runs :func:`main` in the actor's interpreter. The worker
imports the actor's module, then obeys its control queue: START/RESTART build a fresh
instance (an *incarnation*) and serve the mailbox until the incarnation ends — stopped,
terminated by its supervisor, or crashed — and EXIT leaves. Restarting in place (same
interpreter, new instance) is what makes restarts cost well under a millisecond.

This module is the lifecycle; serving an incarnation (receive, dispatch, reply) is
:mod:`.serving` (:mod:`.serving_async` for ``async def`` handlers), and breaking running
handlers (past their deadline, or when the actor is stopped) is :mod:`.watchdog`.

May import only the stdlib and interactors' stdlib-only modules (never anyio or msgspec at
import time): it must load in an own-GIL interpreter. A test imports it in one.
"""

from __future__ import annotations

import os

from .._actor import public_methods
from .._exceptions import ActorInterrupted, HandlerTimeout
from .._wire import codec as _codec
from .._wire import envelope as P
from .._wire import slots as S
from .._wire.codec import codec_from_spec
from . import faults as _faults
from .loading import (
    error_payload,
    is_async,
    isolation_extension,
    main_loader,
    resolve_recording,
)
from .log_shipping import before_park, on_levels
from .log_shipping import install as install_log_shipping
from .serving import Leave, _count, _get, _now_ns
from .serving_async import AsyncServer
from .watchdog import Watchdog

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = ("Worker", "main")


class Worker(AsyncServer):
    """One actor's control loop: load its class, run incarnations until told to leave."""

    watchdog_type = Watchdog

    def load(self) -> bool:
        """Import the actor's class and codec; report a failure to the host.

        Also notes which standard library modules the class needed (:attr:`imported`):
        the host's spare interpreters may import them ahead of the next actors."""
        why = P.FAIL_CODEC
        _codec.load_main = main_loader(self.main_path)
        try:
            self.codec = codec_from_spec(self.codec_spec)
            why = P.FAIL_IMPORT
            self.cls, self.imported = resolve_recording(self.target, self.main_path)
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
        failing = self.base + S.FAILING_STARTS
        if self.fields[failing]:
            self.fields[failing] -= 1
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

    def started(self) -> None:
        self.fields[self.base + S.INCARNATION] += 1
        methods = (self.methods, tuple(sorted(self.async_methods)), self.imported)
        self.tell_host(P.STARTED, self.start_id, methods)

    def start_failed(
        self, exc: BaseException, why: str = P.FAIL_INIT, exiting: bool = False
    ) -> None:
        """Report a failed start; ``exiting`` tells the host whether this worker now leaves."""
        self.instance = None
        extension = isolation_extension(exc)
        if extension and why != P.FAIL_CODEC:
            why = P.FAIL_ISOLATION  # (a codec that cannot load here says so itself)
        payload = (why, extension or "", exiting, *error_payload(exc))
        self.tell_host(P.START_FAILED, self.start_id, payload)

    def needs_loop(self) -> bool:
        hooks = (getattr(self.cls, name, None) for name in ("on_start", "on_stop"))
        return bool(self.async_methods) or any(is_async(fn) for fn in hooks)

    def incarnation(self) -> str:
        """Build an instance, serve until the incarnation ends; return how it ended."""
        install_log_shipping(self)
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
        except Leave as leave:
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
            except Leave as leave:
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

    def ended(self, leave: Leave, run_on_stop: Any) -> str:
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
            before_park(self)
            fields[parked] = 1
            if not _count(self.ctl_q):
                os.eventfd_read(self.mbox_fd)
            fields[parked] = 0
        return _get(self.ctl_q)

    def run(self) -> None:
        P.ref_factory = self.peers.ref_from_address
        watchdog = None
        try:
            # Before the actor's module is imported: what it logs at import time arrives.
            install_log_shipping(self)
            if not self.load():
                return
            # Always there: it also interrupts handlers when the host stops the actor.
            watchdog = self.watchdog_type(self)
            while True:
                envelope = self.next_control()
                if envelope is None or envelope[0] == P.EXIT:
                    return
                kind = envelope[0]
                if kind == P.LOG_LEVELS:
                    on_levels(self, envelope[4])
                    continue
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
                except ActorInterrupted:
                    # Injected just outside a handler (e.g. into the actor's event loop):
                    # the host is stopping or terminating this incarnation; do as it asked.
                    self.instance = None
                    if self.fields[self.base + S.INTERRUPT] == S.INTERRUPT_TERMINATE:
                        outcome = "terminated"
                        while _count(self.ctl_q):
                            request = _get(self.ctl_q)
                            if request[0] == P.TERMINATE:  # type: ignore[index]
                                self.reply_ok(request, None)  # type: ignore[arg-type]
                            elif request[0] == P.LOG_LEVELS:  # type: ignore[index]
                                on_levels(self, request[4])  # type: ignore[index]
                    else:
                        outcome = "stopped"
                if outcome in ("stopped", "stopped_after_error", "abandoned", "exit"):
                    return
                if self.fields[self.base + S.OWNER] != self.token:
                    return  # abandoned while it was stuck: a replacement took over
        finally:
            before_park(self)
            if watchdog is not None:
                watchdog.close()
            self.peers.close()
            self.fields.release()
            self._area.close()


_RUNS_ON_STOP: Final = frozenset({"stopped", "terminated", "exit"})


def main(config: tuple[Any, ...]) -> None:
    """Entry point, run by the host in the actor's interpreter thread."""
    Worker(config).run()
