"""Actors for synchronous programs: an ActorSystem whose event loop runs in its own thread.

::

    with BlockingActorSystem() as system:
        counter = system.spawn(Counter, 10)
        print(counter.ask.add(5).result())      # 15
        counter.tell.add(1)                     # returns once the message is queued

As inside a plain (non-async) actor handler, ``ref.ask.method(...)`` sends at once and
returns a future: call ``.result(timeout)`` to wait, or send many asks first and collect
the results afterwards, so that several actors work at the same time. Every method may be
called from any thread. Built on :func:`anyio.from_thread.start_blocking_portal`; never
call these methods from inside an event loop (they block it).

Host side only.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal

from .ref import ActorRef
from .statistics import ActorStatistics, SystemStatistics
from .system import ActorSystem

__all__ = ("BlockingActorRef", "BlockingActorSystem")


class _Methods:
    """``ref.ask`` / ``ref.tell`` / ``ref.tell_nowait`` of a :class:`BlockingActorRef`."""

    __slots__ = ("_portal", "_proxy", "_submit")

    def __init__(self, portal: BlockingPortal, proxy: Any, submit: bool) -> None:
        self._portal = portal
        self._proxy = proxy
        self._submit = submit

    def __getattr__(self, method: str) -> Callable[..., Any]:
        send = getattr(self._proxy, method)  # UnknownMethodError right here
        portal, submit = self._portal, self._submit

        def call(*args: Any, **kwargs: Any) -> Any:
            bound = functools.partial(send, *args, **kwargs)
            return portal.start_task_soon(bound) if submit else portal.call(bound)

        call.__name__ = call.__qualname__ = method
        return call


class BlockingActorRef:
    """A handle to an actor for synchronous code (see the module docstring).

    ``ask.method(...)`` returns a :class:`concurrent.futures.Future` (its ``result()``
    raises :class:`~interactors.ActorError` if the handler raised; cancelling it cancels
    the ask, never the actor). ``tell.method(...)`` blocks while the mailbox is full;
    ``tell_nowait.method(...)`` raises :class:`~interactors.MailboxFull` instead. Pass it
    to actors like an :class:`~interactors.ActorRef`: it pickles to the same address.
    """

    __slots__ = ("_portal", "ask", "ref", "tell", "tell_nowait")

    def __init__(self, portal: BlockingPortal, ref: ActorRef) -> None:
        self._portal = portal
        self.ref = ref
        """The underlying :class:`~interactors.ActorRef` (for async code on the system's loop)."""
        self.ask: Any = _Methods(portal, ref.ask, submit=True)
        self.tell: Any = _Methods(portal, ref.tell, submit=False)
        self.tell_nowait: Any = _Methods(portal, ref.tell_nowait, submit=False)

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def methods(self) -> tuple[str, ...]:
        return self.ref.methods

    def is_alive(self) -> bool:
        return self._portal.call(self.ref.is_alive)

    def statistics(self) -> ActorStatistics:
        return self._portal.call(self.ref.statistics)

    def stop(self, timeout: float | None = None) -> None:
        """Stop the actor after the messages already queued, running its ``on_stop``."""
        self._portal.call(functools.partial(self.ref.stop, timeout))

    def __reduce__(self) -> tuple[Any, ...]:
        return self.ref.__reduce__()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BlockingActorRef) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(self.ref)

    def __repr__(self) -> str:
        return f"<BlockingActorRef {self.name!r}>"


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
        self._portal: BlockingPortal | None = None
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> BlockingActorSystem:
        with contextlib.ExitStack() as stack:
            self._portal = stack.enter_context(
                start_blocking_portal(self.backend, self.backend_options)
            )
            stack.enter_context(self._portal.wrap_async_context_manager(self.system))
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._stack.__exit__(exc_type, exc, tb)
        finally:
            self._portal = None

    @property
    def portal(self) -> BlockingPortal:
        if self._portal is None:
            raise RuntimeError("use BlockingActorSystem as `with BlockingActorSystem() as s:`")
        return self._portal

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func(*args)`` (a coroutine function or a plain one) on the system's loop."""
        return self.portal.call(func, *args)

    def spawn(self, actor: type | str, *args: Any, **kwargs: Any) -> BlockingActorRef:
        """Start an actor (as :meth:`ActorSystem.spawn`, same errors) and return its ref."""
        portal = self.portal
        ref = portal.call(functools.partial(self.system.spawn, actor, *args, **kwargs))
        return BlockingActorRef(portal, ref)

    def lookup(self, name: str) -> BlockingActorRef | None:
        """The ref of the live actor called ``name``, or ``None``."""
        ref = self.portal.call(self.system.lookup, name)
        return None if ref is None else BlockingActorRef(self.portal, ref)

    def actors(self) -> list[BlockingActorRef]:
        """Refs of the live actors, in start order."""
        return [BlockingActorRef(self.portal, ref) for ref in self.portal.call(self.system.actors)]

    def statistics(self) -> SystemStatistics:
        return self.portal.call(self.system.statistics)
