"""What ``interactors run`` does with a loaded app: own the process until it is done.

It runs the app on the chosen backend inside an ActorSystem built from the settings, turns
SIGINT/SIGTERM into a graceful shutdown (the app is cancelled, then every actor is stopped
in reverse start order and its ``on_stop`` runs), and maps how it ended to an exit code:

====  =====================================================================================
0     the app returned, or a signal stopped it and every actor stopped in time
1     the app raised (its traceback is logged)
2     bad usage: options, config file, or an app that cannot be found, imported or run
3     the root supervisor gave up (restart intensity exceeded)
4     actors did not stop within the shutdown timeout: the process left with os._exit
130   a second SIGINT during the shutdown forced the exit (143 for SIGTERM: 128 + signal)
====  =====================================================================================

The shutdown never hangs: it gets ``shutdown_timeout`` plus :data:`SHUTDOWN_GRACE` seconds,
then the process leaves with ``os._exit``; threads still running after the app ended get
the same grace.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from enum import IntEnum
from typing import Any, Final

import anyio
import anyio.abc

from .._exceptions import SupervisorGaveUp
from .._host.exit_guard import leave_now
from .._host.metrics import MetricsPortError
from .._host.system import ActorSystem
from .._version import __version__
from .app import App
from .config import Settings
from .signals import SHUTDOWN_SIGNALS, SignalLatch, forced_exit_code

__all__ = ("SHUTDOWN_GRACE", "ExitCode", "Launcher")

log = logging.getLogger("interactors")

SHUTDOWN_GRACE: Final = 2.0
# The actor count is announced once it has not changed for SETTLE seconds (at the latest
# ANNOUNCE_BY seconds after the start, if the app keeps spawning).
SETTLE: Final = 0.2
ANNOUNCE_BY: Final = 5.0


class ExitCode(IntEnum):
    """The launcher's exit codes (a forced exit uses 128 + the signal number)."""

    OK = 0
    APP_FAILED = 1
    USAGE = 2
    SUPERVISOR_GAVE_UP = 3
    NOT_STOPPED = 4


class Launcher:
    """Runs one app to completion; :meth:`run` returns the exit code (or never returns)."""

    def __init__(self, app: App, settings: Settings, latch: SignalLatch) -> None:
        self.app = app
        self.settings = settings
        self.latch = latch
        self._system: ActorSystem | None = None
        self._app_scope: anyio.CancelScope | None = None
        self._stopping: anyio.Event | None = None
        self._tg: anyio.abc.TaskGroup | None = None
        self._started = time.monotonic()

    def run(self) -> int:
        """Run the app on the configured backend; leave with os._exit if it cannot stop."""
        if self.latch.received:
            name = signal.Signals(self.latch.received[0]).name
            log.warning("received %s before the app started: not starting it", name)
            return ExitCode.OK
        code = anyio.run(self._serve, backend=self.settings.backend)
        abandoned = () if self._system is None else self._system.statistics().abandoned
        if abandoned:
            leave_now(
                code or ExitCode.NOT_STOPPED,
                f"actors {', '.join(abandoned)} did not stop within the shutdown timeout "
                f"({self.settings.shutdown_timeout:g} s) and were abandoned",
            )
        lingering = _join_threads(SHUTDOWN_GRACE)
        if lingering:
            leave_now(
                code or ExitCode.NOT_STOPPED,
                f"threads {', '.join(lingering)} still running after the app ended",
            )
        log.info("exit code %d", code)
        return code

    # -- inside the event loop -------------------------------------------------------------

    async def _serve(self) -> int:
        self._stopping = anyio.Event()
        self._app_scope = anyio.CancelScope()
        async with anyio.create_task_group() as tg:
            self._tg = tg
            await tg.start(self._watch_signals)
            code = await self._run_app()
            tg.cancel_scope.cancel()
        return code

    async def _run_app(self) -> int:
        try:
            if self.app.kind == "main":
                await self._cancellable(self._run_target, None)
            else:
                async with contextlib.AsyncExitStack() as stack:
                    try:
                        system = await stack.enter_async_context(
                            ActorSystem(**self.settings.system_options())
                        )
                    except MetricsPortError as exc:  # a setting to change: bad usage
                        log.error("%s", exc)
                        return ExitCode.USAGE
                    self._system = system
                    await self._cancellable(self._run_target, system)
                if not system.statistics().abandoned:
                    log.info("all actors stopped")
        except SystemExit as exc:
            return _system_exit_code(exc)
        except KeyboardInterrupt as exc:  # raised by the app itself: not a group, not a crash
            log.error("app %s raised KeyboardInterrupt", self.app.spec, exc_info=exc)
            return ExitCode.APP_FAILED
        except Exception as exc:
            return self._failed(exc)
        return ExitCode.OK

    async def _cancellable(self, run: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run the app's own part, which the first signal cancels; then start stopping."""
        assert self._app_scope is not None
        try:
            with self._app_scope:
                await run(*args)
        finally:
            self._begin_stopping()

    async def _run_target(self, system: ActorSystem | None) -> None:
        if self.app.kind == "tree":
            assert system is not None
            self._announce()  # first, as for a function app: a signal may end the start
            await system.start(self.app.target)
            log.info("%s running", self._actor_count())
            await anyio.sleep_forever()  # until a signal, or the root supervisor gives up
        self._announce()
        if system is None:
            await self.app.target()
        else:
            assert self._tg is not None
            self._tg.start_soon(self._announce_actors, system)
            await self.app.target(system)

    def _announce(self) -> None:
        self._started = time.monotonic()
        log.info(
            "interactors %s running %s on %s (isolation %s, pid %d)",
            __version__,
            self.app.spec,
            self.settings.backend,
            self.settings.isolation,
            os.getpid(),
        )

    async def _announce_actors(self, system: ActorSystem) -> None:
        """Log "N actors running" once the app has started its actors: some are running,
        none is still starting, and the count has not changed for SETTLE s (at the latest
        ANNOUNCE_BY s after the start). Nothing if the app ends first or spawns none."""
        assert self._stopping is not None
        last, since = 0, time.monotonic()
        while not self._stopping.is_set():
            count, now = len(system.actors()), time.monotonic()
            starting = len(system.statistics().actors) - count  # spawned, not started yet
            if count != last or starting:
                last, since = count, now
            if count and (now - since >= SETTLE or now - self._started >= ANNOUNCE_BY):
                log.info("%s running", _actors(count))
                return
            await anyio.sleep(SETTLE / 4)

    def _actor_count(self) -> str:
        return _actors(0 if self._system is None else len(self._system.actors()))

    def _failed(self, exc: Exception) -> int:
        gave_up = _find(exc, SupervisorGaveUp)
        if gave_up is not None:
            log.error("the root supervisor gave up: %s", gave_up)
            return ExitCode.SUPERVISOR_GAVE_UP
        log.error("app %s raised", self.app.spec, exc_info=exc)
        return ExitCode.APP_FAILED

    # -- shutting down ---------------------------------------------------------------------

    def _begin_stopping(self) -> None:
        assert self._stopping is not None
        if self._stopping.is_set():
            return
        self._stopping.set()
        log.info("app %s ended after %.2f s", self.app.spec, time.monotonic() - self._started)
        if self._system is not None:
            log.info(
                "stopping %s (each within %.1f s)",
                self._actor_count(),
                self.settings.shutdown_timeout,
            )

    async def _watch_signals(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            with anyio.open_signal_receiver(*SHUTDOWN_SIGNALS) as signals:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(self._enforce_deadline)
                    task_status.started()
                    if self.latch.received:  # caught by the latch while the loop started
                        self._on_first_signal(self.latch.received[0])
                    async for signum in signals:
                        if self.latch.record(signum):
                            self._on_first_signal(signum)
                        else:
                            leave_now(
                                forced_exit_code(signum),
                                f"received {signal.Signals(signum).name} again: forced exit",
                            )
        finally:
            # Removing the loop's handlers restored the default actions: catch signals
            # again until the process is gone.
            self.latch.install()

    def _on_first_signal(self, signum: int) -> None:
        log.warning(
            "received %s: shutting down (send it again to force the exit)",
            signal.Signals(signum).name,
        )
        assert self._app_scope is not None
        self._app_scope.cancel()
        self._begin_stopping()

    async def _enforce_deadline(self) -> None:
        assert self._stopping is not None
        await self._stopping.wait()
        budget = self.settings.shutdown_timeout + SHUTDOWN_GRACE
        await anyio.sleep(budget)
        leave_now(ExitCode.NOT_STOPPED, f"the shutdown did not finish within {budget:.1f} s")


def _actors(count: int) -> str:
    return f"{count} actor{'' if count == 1 else 's'}"


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """``exc`` itself or the first exception of type ``kind`` inside its groups."""
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner, kind)
            if found is not None:
                return found
    return None


def _system_exit_code(exc: SystemExit) -> int:
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or ExitCode.OK
    log.error("app exited: %s", exc.code)
    return ExitCode.APP_FAILED


def _join_threads(timeout: float) -> list[str]:
    """Wait up to ``timeout`` s for non-daemon threads; the names of those still running."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.monotonic()))
    current = threading.current_thread()
    return [t.name for t in threading.enumerate() if t is not current and not t.daemon]
