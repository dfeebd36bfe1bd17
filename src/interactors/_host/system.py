"""ActorSystem: spawn actors, start supervision trees, find and stop them — the host API.

Use it as an async context manager in any anyio program (asyncio or trio)::

    async with interactors.ActorSystem() as system:
        ref = await system.spawn(Counter, 10)
        print(await ref.ask.add(5))

Leaving the block stops every actor and tree in reverse start order (each within its
shutdown timeout), destroys their interpreters and joins their threads. An exception raised
in the block propagates unchanged (never wrapped in an ExceptionGroup). If a root
supervisor gives up, asks still waiting fail with :class:`ActorCrashed` (saying why), the
block is cancelled and :class:`SupervisorGaveUp` is raised, also when it was ending."""

from __future__ import annotations

import functools
import itertools
import logging
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.lowlevel

from .. import _backend as backend
from .._exceptions import SupervisorGaveUp, SystemClosed
from .._supervision.pool import spawn_pool as _spawn_pool
from .._supervision.ref import SupervisorRef
from .._supervision.spec import ChildSpec, Supervisor
from .._supervision.tree import ChildNode, SupervisorNode, supervisor_node
from .._wire.codec import codec_from_spec
from .._wire.codec_protocol import Codec
from .abandoned import AbandonedInterpreters
from .cell import ActorCell
from .deadlines import watch_deadlines
from .mailbox import DEFAULT_MAILBOX_SIZE
from .notices import dispatch_notice
from .observing import open_observers
from .options import DEFAULT_SHUTDOWN, Isolation, check_count, check_isolation, check_seconds
from .pool import InterpreterPool
from .pump import ReplyPump
from .ref import A, ActorRef, GoneRefs, systems, wrong_thread
from .slot_area import SlotArea
from .spawned import SpawnedActors
from .spawning import spawn_cell
from .statistics import SystemStatistics
from .target import check_not_importing_main

if TYPE_CHECKING:
    from .metrics import AskLatency

log = logging.getLogger("interactors")

_system_ids = itertools.count(1)


class ActorSystem:
    """A set of actors, each in its own interpreter and thread, owned by one event loop.

    Arguments (each a default that ``spawn`` may override per actor):

    ``isolation``
        ``"isolated"`` (default: own GIL, truly parallel), ``"process"`` (its own OS
        process: any extension module, still parallel), ``"auto"`` (isolated when the
        actor's module loads there, else a process, with a warning: the choice for code
        you do not know) or ``"shared_gil"`` (a legacy sub-interpreter sharing the main
        GIL: no parallelism, and single-phase-init extensions such as numpy load in one
        interpreter per process only).
    ``codec``
        ``"pickle"`` (default), ``"msgspec"`` or a :class:`~interactors.Codec`.
    ``mailbox_size``
        how many messages may wait per actor (default 1000).
    ``shutdown_timeout``
        seconds an actor gets to stop before it is abandoned (default 5).
    ``spare_interpreters``
        interpreters kept ready, past the runtime's and the actors' stdlib imports (default 1).
    ``max_restarts``, ``within``
        restart intensity of the root supervisor of spawned actors (default 10 in 5 s).
    ``control``, ``metrics_port``, ``metrics_host``
        serve snapshots for ``interactors top`` on this process's control socket; export
        Prometheus metrics on ``http://127.0.0.1:metrics_port/metrics`` (port 0 picks one,
        read from ``system.metrics_port``). Off by default (docs/operations.md).
    """

    def __init__(
        self,
        *,
        isolation: Isolation = "isolated",
        codec: str | Codec = "pickle",
        mailbox_size: int = DEFAULT_MAILBOX_SIZE,
        shutdown_timeout: float = DEFAULT_SHUTDOWN,
        spare_interpreters: int = 1,
        max_restarts: int = 10,
        within: float = 5.0,
        control: bool = False,
        metrics_port: int | None = None,
        metrics_host: str = "127.0.0.1",
    ) -> None:
        check_isolation(isolation)
        check_count("mailbox_size", mailbox_size, 1)
        check_seconds("shutdown_timeout", shutdown_timeout)
        check_count("spare_interpreters", spare_interpreters, 0)
        self.system_id = next(_system_ids)
        self.isolation: str = isolation
        self.codec = codec_from_spec(codec)
        self.mailbox_size = mailbox_size
        self.shutdown_timeout = shutdown_timeout
        self._spares = spare_interpreters
        self._root_spec = Supervisor(max_restarts=max_restarts, within=within, name="root")
        self._next_id = itertools.count(1).__next__
        self._cells: dict[int, ActorCell] = {}
        self._names: dict[str, ActorCell] = {}
        self._refs: dict[int, ActorRef] = {}
        self._gone = GoneRefs()  # refs of actors gone for good, while still about
        self._top: list[ChildNode | SupervisorNode] = []
        self._abandoned = AbandonedInterpreters()
        self._spawned = SpawnedActors(self)  # actors started by actors (Actor.spawn)
        self._isolation_refused: dict[str, str] = {}
        self._events: Counter[str] = Counter()
        self._failure: SupervisorGaveUp | None = None
        self._cancels_body = True  # (the pytest plugin's fixture: the body is the test)
        self._running = self._closing = self._watching_deadlines = False
        self._observe = (control, metrics_port, metrics_host)
        self.metrics_port = metrics_port
        self._ask_timer: AskLatency | None = None
        self.loop_thread = 0
        """``threading.get_ident()`` of the thread running the system's event loop."""

    # -- context manager -------------------------------------------------------------------

    async def __aenter__(self) -> ActorSystem:
        if self._running:
            raise RuntimeError("this ActorSystem is already running")
        check_not_importing_main("ActorSystem()")
        self.loop_thread = threading.get_ident()
        self._observers = await open_observers(self, *self._observe)  # sets _ask_timer
        self._pump = ReplyPump(functools.partial(dispatch_notice, self._cells, self._abandoned))
        self._slots = SlotArea()
        self._interpreters = InterpreterPool(self._spares)
        self._root = SupervisorNode(self._root_spec, self, None)
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        self._pump.start(self._task_group)
        if self._observers is not None:
            await self._task_group.start(self._observers.serve)
        self._interpreters.refill()
        self._running = True
        systems[self.system_id] = self
        # The user's block runs in this scope: a root supervisor giving up cancels it.
        self._body_scope = anyio.CancelScope()
        self._body_scope.__enter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._body_scope.__exit__(exc_type, exc, tb)
        try:
            with anyio.CancelScope(shield=True):
                await self.shutdown()
        finally:
            self._task_group.cancel_scope.cancel()
            await self._task_group.__aexit__(None, None, None)
        if self._failure is not None:
            raise self._failure

    # -- spawning --------------------------------------------------------------------------

    async def spawn(
        self,
        actor: type[A] | str,
        *args: Any,
        name: str | None = None,
        restart: Literal["permanent", "transient", "temporary"] = "permanent",
        isolation: Isolation | None = None,
        codec: str | Codec | None = None,
        mailbox_size: int | None = None,
        max_concurrency: int | None = None,
        on_error: str | None = None,
        handler_timeout: float | None = None,
        shutdown: float | None = None,
        **kwargs: Any,
    ) -> ActorRef[A]:
        """Start an actor under the system's root supervisor; return its ref once
        ``__init__`` and ``on_start`` have run.

        ``actor`` is an actor class or an import path ``"package.module:Class"``; ``args``
        and ``kwargs`` go to its constructor (the keyword names above are spawn options).
        Raises :class:`SpawnError` (with the inner traceback) when the class cannot be
        imported in the actor's interpreter or its ``__init__``/``on_start`` raises,
        :class:`IsolationError` when its module cannot load in an own-GIL interpreter, and
        :class:`EncodeError` when an argument cannot be encoded, ``RuntimeError`` when
        called from another thread than the system's event loop.
        """
        self._check_running("spawn")
        options: dict[str, Any] = {
            "isolation": isolation,
            "codec": codec,
            "mailbox_size": mailbox_size,
            "max_concurrency": max_concurrency,
            "on_error": on_error,
            "handler_timeout": handler_timeout,
        }
        spec = ChildSpec(
            actor, *args, name=name, restart=restart, shutdown=shutdown, **options, **kwargs
        )
        node = await self._root.add(spec)
        self._top.append(node)
        assert node.ref is not None
        return node.ref

    async def start(self, tree: Supervisor) -> SupervisorRef:
        """Start a supervision tree (children in order) and return a handle to it.

        If the tree's supervisor gives up, the system stops and raises
        :class:`SupervisorGaveUp` from its ``async with`` block.
        """
        self._check_running("start")
        if not isinstance(tree, Supervisor):
            raise TypeError(f"start() takes a Supervisor, got {tree!r}")
        node = supervisor_node(tree, self, None)
        await node.start()
        self._top.append(node)
        return SupervisorRef(node)

    spawn_pool = _spawn_pool  # N supervised copies behind one ref: _supervision/pool.py

    async def _spawn_cell(
        self,
        actor: type | str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        name: str | None,
        shutdown: float | None,
        owner: ChildNode,
        **options: Any,
    ) -> ActorRef:
        """Create a cell and start its first incarnation (used by ``spawn`` and trees)."""
        self._check_running("spawn")
        return await spawn_cell(self, actor, args, kwargs, name, shutdown, owner, options)

    # -- lookup ----------------------------------------------------------------------------

    def lookup(self, name: str) -> ActorRef | None:
        """The ref of the live actor called ``name``, or ``None``."""
        cell = self._names.get(name)
        return None if cell is None else self._refs.get(cell.actor_id)

    def actors(self) -> list[ActorRef]:
        """Refs of the live actors (those that take messages), in start order."""
        return [ref for _, ref in sorted(self._refs.items()) if ref.is_alive()]

    def _ref_for(self, actor_id: int, name: str) -> ActorRef:
        ref = self._refs.get(actor_id) or self._gone.get(actor_id)
        if ref is None:
            raise SystemClosed(f"actor {name!r} is gone, and its ref is no longer kept")
        return ref

    def statistics(self) -> SystemStatistics:
        """Every live actor's statistics, interpreter counts and lifecycle events."""
        return SystemStatistics(
            actors=tuple(self._cells[i].statistics() for i in sorted(self._cells)),
            backend=backend.NAME,
            interpreters_created=self._interpreters.created,
            interpreters_destroyed=self._interpreters.destroyed,
            abandoned=tuple(self._abandoned.names),
            events=dict(self._events),
        )

    def monitor(
        self, target: ActorRef, callback: Callable[[ActorRef, str], Awaitable[Any] | Any]
    ) -> None:
        """Call ``callback(target, reason)`` once ``target`` has stopped for good (an OTP
        monitor: restarts do not count). ``callback`` may be async; an actor's tell works:
        ``system.monitor(worker, lambda ref, why: watcher.tell_nowait.on_down(ref.name, why))``.
        """
        self.check_thread("monitor")

        async def watch() -> None:
            reason = await target.wait_stopped()
            if hasattr(result := callback(target, reason), "__await__"):
                await result

        self._schedule(watch)

    # -- shutting down ---------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop every actor and tree in reverse start order, then free interpreters.

        An actor still running when this ends (it did not stop within its shutdown
        timeout, or the shutdown was cancelled) is abandoned: its interpreter is never
        destroyed while its thread runs it, and it cannot make the process hang at exit.
        """
        if not self._running or self._closing:
            return
        self.check_thread("shutdown")
        self._closing = True
        try:
            await self._root.quiesce()
            for node in reversed(self._top):
                await node.stop()
            for cell in list(self._cells.values()):
                await cell.stop(reason="shutdown")
        finally:
            if self._observers is not None:
                self._observers.stop()
            for cell in list(self._cells.values()):
                if cell.thread is not None and cell.thread.is_alive():
                    cell.abandon("was still running when the system closed")
                self._forget(cell)
            self._abandoned.reap(grace=0.5)  # (one killed a moment ago is on its way out)
            self._interpreters.close()
            self._pump.close()
            self._slots.close()
            self._running = False
            systems.pop(self.system_id, None)
            stuck = self._abandoned.running()
            if stuck:
                log.error("actors %s did not stop and were abandoned", ", ".join(stuck))

    def _forget(self, cell: ActorCell) -> None:
        self._cells.pop(cell.actor_id, None)
        if self._names.get(cell.name) is cell:
            del self._names[cell.name]
        if (ref := self._refs.pop(cell.actor_id, None)) is not None:
            self._gone.add(ref)  # (a ref to it sent back to the host still decodes)
        self._top = [n for n in self._top if not (isinstance(n, ChildNode) and n.cell is cell)]
        self._spawned.forget(cell)
        cell.close()

    # -- supervision plumbing --------------------------------------------------------------

    def _schedule(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        async def guarded() -> None:
            try:
                await fn(*args)
            except Exception:
                log.exception("interactors: a supervision task failed")

        if self._running:
            self._task_group.start_soon(guarded)

    def _root_failed(self, failure: SupervisorGaveUp) -> None:
        """A root supervisor gave up: the system stops and raises ``failure``, even while
        the body is ending (the shutdown waits for a restart in progress, which may give
        up). Waiting asks fail first, saying why (not a bare cancellation); then the body
        is cancelled."""
        if self._failure is None:
            self._failure = failure
        if self._closing:
            return
        error = ("interactors.SupervisorGaveUp", f"the system is stopping: {failure}", "", None)
        for cell in list(self._cells.values()):
            cell.fail_pending(error)
        if not self._cancels_body:
            return  # raised when the system is left

        async def cancel_body() -> None:
            # Let the askers just failed resume with their ActorCrashed first.
            for _ in range(2):
                await anyio.lowlevel.checkpoint()
            self._body_scope.cancel()

        self._task_group.start_soon(cancel_body)

    def _refill_soon(self) -> None:
        if self._interpreters.wants_refill():
            self._schedule(self._interpreters.refill_later)

    def _count(self, event: str) -> None:
        self._events[event] += 1

    def _abandon(self, iid: int, thread: threading.Thread, cell: ActorCell) -> None:
        self._interpreters.forget(iid)
        self._abandoned.add(iid, thread, cell.name, cell.actor_id)

    def _watch_deadlines(self) -> None:
        if not self._watching_deadlines:
            self._watching_deadlines = True
            self._task_group.start_soon(watch_deadlines, self._cells)

    def _check_running(self, what: str) -> None:
        if not self._running or self._closing:
            hint = "use it as `async with ActorSystem() as system:`"
            raise SystemClosed(f"the ActorSystem is not running: {hint}")
        self.check_thread(what)

    def check_thread(self, what: str) -> None:
        """Refuse a call made outside the thread that runs the system's event loop."""
        if threading.get_ident() != self.loop_thread and self.loop_thread:
            raise wrong_thread(what)
