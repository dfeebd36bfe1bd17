"""``interactors run --reload``: run the app in a child process, restart it on source changes.

The reloader watches ``--app-dir`` (or each ``--reload-dir``) with watchfiles and runs
``python -m interactors run ...`` (the same options without ``--reload``) as a child in its
own session, so that a terminal's Ctrl-C reaches the reloader only. On a change it stops
the child gracefully (SIGTERM, then SIGKILL after the shutdown budget) and starts a new one.
A child that exits on its own is restarted at the next change. The files that count are
those matching :data:`DEFAULT_INCLUDE` or a ``--reload-include`` glob and no
``--reload-exclude`` glob (watchfiles' defaults skip ``.git``, ``__pycache__``, editor swap
files and the like); a glob matches a file's name, its path relative to the watched
directory, or one of its directories' names.

SIGINT/SIGTERM are forwarded to the child (a second one forces it, as usual) and the
reloader returns that child's exit code (0 when no child was running). Host side only;
needs the ``reload`` extra.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Final

import anyio
import anyio.abc
from watchfiles import Change, DefaultFilter, awatch

from .config import Settings
from .launch import SHUTDOWN_GRACE
from .signals import SHUTDOWN_SIGNALS, SignalLatch

__all__ = ("DEFAULT_INCLUDE", "Reloader", "SourceFilter")

log = logging.getLogger("interactors")

DEFAULT_INCLUDE: Final = ("*.py", "*.pyx", "*.pyi", "*.toml", "*.json")


class SourceFilter(DefaultFilter):
    """watchfiles filter: the files matching an include glob and no exclude glob."""

    def __init__(
        self, roots: Sequence[str], include: Sequence[str] = (), exclude: Sequence[str] = ()
    ) -> None:
        super().__init__()
        self.roots = [Path(root) for root in roots]
        self.include = (*DEFAULT_INCLUDE, *include)
        self.exclude = tuple(exclude)

    def __call__(self, change: Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        names = self._names(Path(path))
        if any(fnmatch(name, glob) for glob in self.exclude for name in names):
            return False
        return any(fnmatch(name, glob) for glob in self.include for name in names[:2])

    def _names(self, path: Path) -> list[str]:
        """The file's name, its relative path, then its directories' names."""
        for root in self.roots:
            if path.is_relative_to(root):
                relative = path.relative_to(root)
                return [path.name, relative.as_posix(), *relative.parent.parts]
        return [path.name, path.as_posix()]


class Reloader:
    """Runs ``command`` again whenever a source file under ``app_dir`` changes."""

    def __init__(
        self,
        command: list[str],
        dirs: Sequence[str],
        settings: Settings,
        latch: SignalLatch,
        watch_filter: SourceFilter | None = None,
    ) -> None:
        self.command = command
        self.dirs = [os.path.abspath(d) for d in dirs]
        self.watch_filter = watch_filter or SourceFilter(self.dirs)
        self.latch = latch
        # The child's own shutdown budget, and a little more for it to exit.
        self.stop_budget = settings.shutdown_timeout + SHUTDOWN_GRACE + 1.0
        self._process: anyio.abc.Process | None = None
        self._stop: anyio.Event | None = None

    def run(self) -> int:
        """Watch and restart until signalled; the exit code of the child the signal stopped."""
        if self.latch.received:
            return 0
        return anyio.run(self._main)

    async def _main(self) -> int:
        # The reloader says what changed; watchfiles' own line would repeat it.
        logging.getLogger("watchfiles").setLevel(logging.WARNING)
        self._stop = stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            await tg.start(self._watch_signals)
            log.info(
                "reload: watching %s for changes to %s%s",
                ", ".join(self.dirs),
                ", ".join(self.watch_filter.include),
                f" (excluding {', '.join(self.watch_filter.exclude)})"
                if self.watch_filter.exclude
                else "",
            )
            await self._start_child(tg)
            changes_seen = awatch(*self.dirs, watch_filter=self.watch_filter, stop_event=stop)
            async for changes in changes_seen:
                log.warning("reload: %s changed: restarting the app", self._names(changes))
                await self._stop_child()
                await self._start_child(tg)
            code = await self._stop_child(signal_child=False)
            tg.cancel_scope.cancel()
        return code

    def _names(self, changes: set[tuple[Any, str]]) -> str:
        return ", ".join(sorted({self._relative(path) for _, path in changes}))

    def _relative(self, path: str) -> str:
        for directory in self.dirs:
            if Path(path).is_relative_to(directory):
                return os.path.relpath(path, directory)
        return path

    async def _start_child(self, tg: anyio.abc.TaskGroup) -> None:
        assert self._stop is not None
        if self._stop.is_set():
            return
        process = await anyio.open_process(
            self.command, stdin=None, stdout=None, stderr=None, start_new_session=True
        )
        self._process = process
        tg.start_soon(self._report_exit, process)

    async def _report_exit(self, process: anyio.abc.Process) -> None:
        code = await process.wait()
        if process is self._process:  # not stopped by us
            log.warning("reload: the app exited with code %d; waiting for changes", code)
            self._process = None
            await process.aclose()

    async def _stop_child(self, signal_child: bool = True) -> int:
        """Stop the current child (if any) and return its exit code."""
        process, self._process = self._process, None
        if process is None:
            return 0
        if signal_child and process.returncode is None:
            process.send_signal(signal.SIGTERM)
        with anyio.move_on_after(self.stop_budget) as scope:
            await process.wait()
        if scope.cancelled_caught:
            log.error("reload: the app did not stop within %.1f s: killing it", self.stop_budget)
            process.kill()
            await process.wait()
        await process.aclose()
        code = process.returncode or 0
        return 128 - code if code < 0 else code

    async def _watch_signals(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        assert self._stop is not None
        try:
            with anyio.open_signal_receiver(*SHUTDOWN_SIGNALS) as signals:
                task_status.started()
                if self.latch.received:  # caught by the latch while the loop started
                    self._stop.set()
                async for signum in signals:
                    self.latch.record(signum)
                    # Both the first (graceful) and the second (forced) go to the child.
                    if self._process is not None and self._process.returncode is None:
                        self._process.send_signal(signum)
                    self._stop.set()
        finally:
            self.latch.install()
