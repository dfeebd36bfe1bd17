"""ActorSystem: spawn actors, find them, stop them — the host-side API.

Use it as an async context manager in any anyio program (asyncio or trio)::

    async with interactors.ActorSystem() as system:
        ref = await system.spawn(Counter, 10)
        print(await ref.ask.add(5))

Leaving the block stops every actor in reverse spawn order (each within its shutdown
timeout), destroys their interpreters and joins their threads. An exception raised in the
block propagates unchanged (never wrapped in an ExceptionGroup).
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys
import warnings
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Literal

import anyio

from . import _backend as backend
from ._cell import ABANDONED, STARTING, ActorCell
from ._codec import Codec, codec_from_spec
from ._exceptions import (
    IsolationError,
    IsolationFallbackWarning,
    SpawnError,
    SystemClosed,
)
from ._mailbox import DEFAULT_MAILBOX_SIZE
from ._pool import InterpreterPool
from ._pump import ReplyPump
from ._ref import ActorRef, ActorStatistics, systems
from ._slots import SlotArea

log = logging.getLogger("interactors")

Isolation = Literal["isolated", "shared_gil", "auto"]
ISOLATIONS: Final = ("isolated", "shared_gil", "auto")
ON_ERROR: Final = ("resume", "restart", "stop")
DEFAULT_SHUTDOWN: Final = 5.0
_DOTTED: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_system_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class SystemStatistics:
    """A snapshot of a system: its actors and its interpreters."""

    actors: tuple[ActorStatistics, ...]
    backend: str
    interpreters_created: int
    interpreters_destroyed: int
    abandoned: tuple[str, ...]
    """Names of actors that would not stop and whose interpreters were given up."""


def resolve_target(actor: type | str) -> tuple[str, str]:
    """``(target, main_path)`` for an actor class or an import path ``"pkg.mod:Class"``."""
    if isinstance(actor, str):
        module, sep, qualname = actor.partition(":")
        if not sep:
            module, _, qualname = actor.rpartition(".")
        if not (_DOTTED.match(module or "") and _DOTTED.match(qualname or "")):
            raise SpawnError(f"bad actor path {actor!r}: write it as 'package.module:ClassName'")
        return f"{module}:{qualname}", ""
    if not isinstance(actor, type):
        raise TypeError(f"spawn() takes an actor class or 'module:Class', got {actor!r}")
    qualname = actor.__qualname__
    if "<locals>" in qualname:
        raise SpawnError(
            f"cannot spawn {qualname}: it is defined inside a function, so the actor's "
            "interpreter cannot import it. Move the class to module level."
        )
    module = actor.__module__
    if module != "__main__":
        return f"{module}:{qualname}", ""
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name not in (None, "__main__"):
        return f"__main__:{qualname}", f"module:{spec.name}"
    path = getattr(main, "__file__", None)
    if not path:
        raise SpawnError(
            f"cannot spawn {qualname}: it is defined in an interactive session or a -c "
            "string, which the actor's interpreter cannot import. Put it in a module."
        )
    # Objects of classes from the main script come back named __mp_main__ (as with
    # multiprocessing's spawn start method): make that name resolve here too.
    sys.modules.setdefault("__mp_main__", main)
    return f"__main__:{qualname}", os.path.abspath(path)


class ActorSystem:
    """A set of actors, each in its own interpreter and thread, owned by one event loop.

    Arguments (each a default that ``spawn`` may override per actor):

    ``isolation``
        ``"isolated"`` (default: own GIL, truly parallel), ``"shared_gil"`` (a legacy
        sub-interpreter sharing the main GIL, for extension modules that refuse isolation)
        or ``"auto"`` (isolated, falling back to shared_gil with a warning).
    ``codec``
        ``"pickle"`` (default), ``"msgspec"`` or a :class:`~interactors.Codec`.
    ``mailbox_size``
        how many messages may wait per actor (default 1000).
    ``shutdown_timeout``
        seconds an actor gets to stop before it is abandoned (default 5).
    ``spare_interpreters``
        interpreters kept ready so that replacing a dead one is fast (default 0).
    """

    def __init__(
        self,
        *,
        isolation: Isolation = "isolated",
        codec: str | Codec = "pickle",
        mailbox_size: int = DEFAULT_MAILBOX_SIZE,
        shutdown_timeout: float = DEFAULT_SHUTDOWN,
        spare_interpreters: int = 0,
    ) -> None:
        _check_isolation(isolation)
        if mailbox_size < 1:
            raise ValueError(f"mailbox_size must be at least 1, got {mailbox_size}")
        self.system_id = next(_system_ids)
        self.isolation: str = isolation
        self.codec = codec_from_spec(codec)
        self.mailbox_size = mailbox_size
        self.shutdown_timeout = shutdown_timeout
        self._spares = spare_interpreters
        self._next_id = itertools.count(1).__next__
        self._cells: dict[int, ActorCell] = {}
        self._order: list[ActorCell] = []
        self._names: dict[str, ActorCell] = {}
        self._refs: dict[int, ActorRef] = {}
        self._abandoned: list[ActorCell] = []
        self._zombies: dict[int, ActorCell] = {}
        self._isolation_refused: dict[str, str] = {}
        self._running = False
        self._closing = False
        self._task_group: Any = None

    # -- context manager -------------------------------------------------------------------

    async def __aenter__(self) -> ActorSystem:
        if self._running:
            raise RuntimeError("this ActorSystem is already running")
        self._pump = ReplyPump(self._on_notice)
        self._slots = SlotArea()
        self._interpreters = InterpreterPool(self._spares)
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._pump.start(self._task_group)
        self._interpreters.refill()
        self._running = True
        systems[self.system_id] = self
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            with anyio.CancelScope(shield=True):
                await self.shutdown()
        finally:
            self._task_group.cancel_scope.cancel()
            await self._task_group.__aexit__(None, None, None)

    # -- spawning --------------------------------------------------------------------------

    async def spawn(
        self,
        actor: type | str,
        *args: Any,
        name: str | None = None,
        isolation: Isolation | None = None,
        codec: str | Codec | None = None,
        mailbox_size: int | None = None,
        max_concurrency: int | None = None,
        on_error: str | None = None,
        handler_timeout: float | None = None,
        shutdown: float | None = None,
        **kwargs: Any,
    ) -> ActorRef:
        """Start an actor and return its ref once ``__init__`` and ``on_start`` have run.

        ``actor`` is an actor class or an import path ``"package.module:Class"``; ``args``
        and ``kwargs`` go to its constructor (the keyword names above are spawn options).
        Raises :class:`SpawnError` (with the inner traceback) when the class cannot be
        imported in the actor's interpreter or its ``__init__``/``on_start`` raises,
        :class:`IsolationError` when its module cannot load in an own-GIL interpreter, and
        :class:`EncodeError` when an argument cannot be encoded.
        """
        self._check_running()
        target, main_path = resolve_target(actor)
        cls = actor if isinstance(actor, type) else None
        mode: str = isolation or self.isolation
        _check_isolation(mode)
        on_error = on_error or getattr(cls, "on_error", None) or "restart"
        if on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
        actor_id = self._next_id()
        if name is None:
            name = f"{target.rpartition(':')[2].rpartition('.')[2]}-{actor_id}"
        elif name in self._names:
            raise ValueError(f"an actor named {name!r} is already running in this system")
        module = target.partition(":")[0]
        if mode == "auto" and module in self._isolation_refused:
            mode = "shared_gil"
        cell = ActorCell(
            self,
            actor_id,
            name,
            target,
            main_path,
            isolation=mode,
            codec=codec_from_spec(codec) if codec is not None else self.codec,
            mailbox_size=mailbox_size or getattr(cls, "mailbox_size", None) or self.mailbox_size,
            max_concurrency=max_concurrency or getattr(cls, "max_concurrency", 1) or 1,
            on_error=on_error,
            handler_timeout=handler_timeout or getattr(cls, "handler_timeout", None),
            shutdown=self.shutdown_timeout if shutdown is None else shutdown,
        )
        self._cells[actor_id] = cell
        self._names[name] = cell
        try:
            cell.set_init(args, kwargs)
            try:
                await cell.start()
            except IsolationError as exc:
                if mode != "auto":
                    raise
                self._isolation_refused[module] = exc.extension
                warnings.warn(
                    IsolationFallbackWarning(
                        f"actor {name!r}: {module} imports {exc.extension!r}, which cannot "
                        "load in an own-GIL interpreter; running it in a shared-GIL "
                        "interpreter instead (no parallelism with other Python code)"
                    ),
                    stacklevel=2,
                )
                cell.isolation = "shared_gil"
                cell.state = STARTING
                await cell.start()
        except BaseException:
            self._forget(cell)
            raise
        self._order.append(cell)
        ref = ActorRef(cell)
        self._refs[actor_id] = ref
        log.debug("started actor %r (%s, %s)", name, target, cell.isolation)
        return ref

    # -- lookup ----------------------------------------------------------------------------

    def lookup(self, name: str) -> ActorRef | None:
        """The ref of the live actor called ``name``, or ``None``."""
        cell = self._names.get(name)
        return None if cell is None else self._refs.get(cell.actor_id)

    def actors(self) -> list[ActorRef]:
        """Refs of the live actors, in spawn order."""
        return [self._refs[c.actor_id] for c in self._order if c.actor_id in self._refs]

    def _ref_for(self, actor_id: int, name: str) -> ActorRef:
        ref = self._refs.get(actor_id)
        if ref is None:
            raise SystemClosed(f"actor {name!r} is no longer running")
        return ref

    def statistics(self) -> SystemStatistics:
        """Every live actor's statistics, and interpreter counts."""
        return SystemStatistics(
            actors=tuple(cell.statistics() for cell in self._order),
            backend=backend.NAME,
            interpreters_created=self._interpreters.created,
            interpreters_destroyed=self._interpreters.destroyed,
            abandoned=tuple(cell.name for cell in self._abandoned),
        )

    # -- shutting down ---------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop every actor in reverse spawn order, then free interpreters and threads."""
        if not self._running or self._closing:
            return
        self._closing = True
        try:
            for cell in reversed(list(self._order)):
                await cell.stop()
        finally:
            for cell in list(self._cells.values()):
                self._forget(cell)
            for cell in list(self._zombies.values()):
                await cell.wait_exited(self.shutdown_timeout)
            self._interpreters.close()
            self._pump.close()
            self._slots.close()
            self._running = False
            systems.pop(self.system_id, None)
            if self._abandoned:
                log.error(
                    "abandoned actors still running: %s",
                    ", ".join(cell.name for cell in self._abandoned),
                )

    def _forget(self, cell: ActorCell) -> None:
        """Drop a finished (or failed, or abandoned) cell; free it once its thread is done."""
        self._cells.pop(cell.actor_id, None)
        if self._names.get(cell.name) is cell:
            del self._names[cell.name]
        self._refs.pop(cell.actor_id, None)
        if cell in self._order:
            self._order.remove(cell)
        if cell.state != ABANDONED and cell.thread is not None and cell.thread.is_alive():
            # Still starting (a cancelled spawn): stop it; its EXITED notice frees it.
            self._zombies[cell.actor_id] = cell
            cell.stop_nowait()
            return
        cell.close()

    def _on_notice(self, envelope: tuple[Any, ...]) -> None:
        actor_id = envelope[1]
        iid, info = envelope[3]
        cell = self._cells.get(actor_id)
        if cell is not None:
            cell.on_exited(iid, info)
            return
        zombie = self._zombies.pop(actor_id, None)
        if zombie is not None:
            zombie.on_exited(iid, info)
            zombie.close()

    def _check_running(self) -> None:
        if not self._running or self._closing:
            raise SystemClosed(
                "the ActorSystem is not running: use it as `async with ActorSystem() as system:`"
            )


def _check_isolation(isolation: str) -> None:
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {ISOLATIONS}, got {isolation!r}")
