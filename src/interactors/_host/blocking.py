"""Actors for synchronous programs: an ActorSystem whose event loop runs in its own thread.

::

    with BlockingActorSystem() as system:
        counter = system.spawn(Counter, 10)
        print(counter.ask.add(5).result())      # 15
        counter.tell.add(1)                     # returns once the message is queued

As inside a plain (non-async) actor handler, ``ref.ask.method(...)`` sends at once and
returns a future: call ``.result(timeout)`` to wait, or send many asks first and collect
the results afterwards, so that several actors work at the same time. Every method may be
called from any thread, but not from inside an event loop (it would block it): there they
raise ``RuntimeError``; after the ``with`` block they raise
:class:`~interactors.SystemClosed`. Built on :func:`anyio.from_thread.start_blocking_portal`.

Ctrl-C: the first one interrupts the ``with`` block as ``KeyboardInterrupt``, which stops
every actor gracefully on its way out; another one while the actors are stopping ends the
process at once (exit code 130, one line on stderr), since Python would otherwise wait at
exit for actors that are still running.

Host side only.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from .blocking_refs import BlockingActorRef, _Link, _refuse_in_event_loop
from .blocking_tree import BlockingActorPool, BlockingSupervisorRef
from .exit_guard import leave_now
from .statistics import SystemStatistics
from .system import ActorSystem
from .target import check_not_importing_main
from .thread_sends import ThreadSends, call_on

if TYPE_CHECKING:
    from .._supervision.spec import Supervisor
    from .ref import ActorRef

__all__ = ("BlockingActorRef", "BlockingActorSystem")

A = TypeVar("A", default=Any)


class BlockingActorSystem:
    """An :class:`~interactors.ActorSystem` for synchronous code, used as a ``with`` block.

    ``backend`` (``"asyncio"`` or ``"trio"``) and ``backend_options`` choose the event loop
    run in a new thread; the other keyword arguments go to ``ActorSystem``. Leaving the
    block stops every actor (each within its shutdown timeout), then the loop and its
    thread; an exception raised in the block propagates unchanged.
    """

    def __init__(
        self,
        *,
        backend: str = "asyncio",
        backend_options: dict[str, Any] | None = None,
        **system_options: Any,
    ) -> None:
        self.backend = backend
        self.backend_options = backend_options
        self.system = ActorSystem(**system_options)
        """The underlying system (for async code on its loop, through :meth:`call`)."""
        self._link = _Link()
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> BlockingActorSystem:
        check_not_importing_main("BlockingActorSystem()")
        if self._link.portal is not None:
            raise RuntimeError("this BlockingActorSystem is already running")
        _refuse_in_event_loop("BlockingActorSystem()")
        link = self._link
        with contextlib.ExitStack() as stack:
            portal = stack.enter_context(start_blocking_portal(self.backend, self.backend_options))
            sends = ThreadSends(functools.partial(BlockingActorRef, link))
            stack.callback(sends.close)  # once the system has stopped (its actors answered)
            stack.enter_context(portal.wrap_async_context_manager(self.system))
            self._stack = stack.pop_all()
        link.portal, link.sends = portal, sends
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._link.portal = self._link.sends = None
        stack, self._stack = self._stack, contextlib.ExitStack()
        if threading.current_thread() is not threading.main_thread():
            stack.__exit__(exc_type, exc, tb)
            return
        # Stop in a helper thread, waiting here in a way that Ctrl-C can interrupt (joining
        # the portal's thread cannot be interrupted): a Ctrl-C while the actors stop forces
        # the exit, since Python would otherwise wait at exit for actors still running.
        failure: list[BaseException] = []

        def leave() -> None:
            try:
                stack.__exit__(exc_type, exc, tb)
            except BaseException as error:  # re-raised in the caller's thread
                failure.append(error)

        stopper = threading.Thread(target=leave, name="interactors-blocking-exit")
        stopper.start()
        try:
            while stopper.is_alive():
                stopper.join(0.05)
        except KeyboardInterrupt:
            leave_now(130, "received SIGINT while actors were stopping: forced exit")
        if failure:
            raise failure[0]

    @property
    def portal(self) -> BlockingPortal:
        return self._link.get("BlockingActorSystem")

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func(*args)`` (a coroutine function or a plain one) on the system's loop."""
        return call_on(self.portal, func, *args)

    def spawn(self, actor: type[A] | str, *args: Any, **kwargs: Any) -> BlockingActorRef[A]:
        """Start an actor (as :meth:`ActorSystem.spawn`, same errors) and return its ref:
        a ``BlockingActorRef[Counter]`` for the class ``Counter``."""
        portal = self._link.get("spawn()")
        spawn = functools.partial(self.system.spawn, actor, *args, **kwargs)
        ref: ActorRef[A] = call_on(portal, spawn)
        return BlockingActorRef(self._link, ref)

    def start(self, tree: Supervisor) -> BlockingSupervisorRef:
        """Start a supervision tree (as :meth:`ActorSystem.start`); its blocking ref."""
        portal = self._link.get("start()")
        return BlockingSupervisorRef(self._link, call_on(portal, self.system.start, tree))

    def spawn_pool(
        self, actor: type[A] | str, *args: Any, size: int, **kwargs: Any
    ) -> BlockingActorPool[A]:
        """Start ``size`` supervised copies of ``actor`` (as :meth:`ActorSystem.spawn_pool`,
        same keywords); a pool whose messages go to one member each."""
        portal = self._link.get("spawn_pool()")
        call = functools.partial(self.system.spawn_pool, actor, *args, size=size, **kwargs)
        return BlockingActorPool(self._link, call_on(portal, call))

    def lookup(self, name: str) -> BlockingActorRef[Any] | None:
        """The ref of the live actor called ``name``, or ``None``."""
        ref = self.system.lookup(name)
        return None if ref is None else BlockingActorRef(self._link, ref)

    def actors(self) -> list[BlockingActorRef[Any]]:
        """Refs of the live actors, in start order."""
        return [BlockingActorRef(self._link, ref) for ref in self.system.actors()]

    def statistics(self) -> SystemStatistics:
        statistics: SystemStatistics = call_on(self.portal, self.system.statistics)
        return statistics
