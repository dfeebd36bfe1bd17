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
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, Final, Generic, ParamSpec, TypeVar, overload

import sniffio
from anyio.from_thread import BlockingPortal, start_blocking_portal

from .._exceptions import SystemClosed
from .._wire import envelope as P
from .exit_guard import leave_now
from .ref import ActorRef, method_name, ref_wrapper
from .statistics import ActorStatistics, SystemStatistics
from .system import ActorSystem
from .target import check_not_importing_main
from .thread_sends import ThreadSends, direct

__all__ = ("BlockingActorRef", "BlockingActorSystem")

A = TypeVar("A", default=Any)  # a bare `BlockingActorRef` is `BlockingActorRef[Any]`
R = TypeVar("R")
Params = ParamSpec("Params")


_KINDS: Final = {"ask": P.ASK, "tell": P.TELL, "tell_nowait": -P.TELL}


class _Link:
    """The portal of a running :class:`BlockingActorSystem`, shared with its refs."""

    __slots__ = ("portal", "sends")

    def __init__(self) -> None:
        self.portal: BlockingPortal | None = None
        self.sends: ThreadSends | None = None  # (interpreter actors' messages)

    def get(self, what: str) -> BlockingPortal:
        """The portal, if ``what`` may be called from here; else the error that says why."""
        portal = self.portal
        if portal is None:
            raise SystemClosed(
                f"{what}: the BlockingActorSystem is not running (its `with` block has "
                "ended, or was never entered): use it as `with BlockingActorSystem() as system:`"
            )
        _refuse_in_event_loop(what)
        return portal


async def _asking(
    link: _Link, send: Callable[..., Awaitable[Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Ask on the system's loop: refs in the answer come back as BlockingActorRefs."""
    token = ref_wrapper.set(functools.partial(BlockingActorRef, link))
    try:
        return await send(*args, **kwargs)
    finally:
        ref_wrapper.reset(token)


def _refuse_in_event_loop(what: str) -> None:
    try:
        library: str | None = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        library = None
    if library is not None:
        raise RuntimeError(
            f"{what} was called inside a running {library} event loop, which it would "
            "block: use ActorSystem and `await` there (BlockingActorSystem is for "
            "synchronous code)"
        )


class _Methods:
    """``ref.ask`` / ``ref.tell`` / ``ref.tell_nowait`` of a :class:`BlockingActorRef`:
    attribute access names the method, calling it with a method of the actor's class
    (``ref.ask(Counter.add, 5)``) too."""

    __slots__ = ("_kind", "_link", "_proxy", "_ref", "_submit")

    def __init__(self, link: _Link, ref: ActorRef, kind: str, submit: bool) -> None:
        self._link = link
        self._ref = ref
        self._proxy = getattr(ref, kind)
        self._kind = kind
        self._submit = submit

    def __call__(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        # UnknownMethodError right here for a method of another class (as ActorRef does).
        return self.__getattr__(method_name(self._ref._cell, method))(*args, **kwargs)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        send = getattr(self._proxy, method)  # UnknownMethodError right here
        link, submit, what = self._link, self._submit, f"{self._kind}.{method}()"
        cell = self._ref._cell
        kind = _KINDS[self._kind] if direct(cell, self._proxy) else 0

        def call(*args: Any, **kwargs: Any) -> Any:
            portal = link.get(what)
            if kind and link.sends is not None:  # from this thread, not through the loop
                return link.sends.send(cell, kind, method, args, kwargs)
            if submit:
                return portal.start_task_soon(_asking, link, send, args, kwargs)
            return portal.call(functools.partial(send, *args, **kwargs))

        call.__name__ = call.__qualname__ = method
        return call


if TYPE_CHECKING:  # what type checkers see of ref.ask / tell / tell_nowait (_Methods)

    class _BlockingAsk(Generic[A]):
        """Type checkers' view of ``ref.ask`` (the run-time object is a ``_Methods``)."""

        def __getattr__(self, method: str) -> Any: ...
        @overload
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], Awaitable[R]],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> Future[R]: ...
        @overload
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], R],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> Future[R]: ...
        def __call__(self, method: Any, /, *args: Any, **kwargs: Any) -> Any: ...

    class _BlockingTell(Generic[A]):
        """Type checkers' view of ``ref.tell`` and ``ref.tell_nowait``."""

        def __getattr__(self, method: str) -> Any: ...
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], object],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> None: ...


class BlockingActorRef(Generic[A]):
    """A handle to an actor for synchronous code (see the module docstring).

    ``BlockingActorRef[Counter]`` (what ``spawn(Counter)`` returns) type-checks the call
    form as :class:`~interactors.ActorRef` does: ``ref.ask(Counter.add, 5)`` is a
    ``Future[int]`` if ``add`` returns an ``int`` (or is ``async`` and does).
    ``ask.method(...)`` returns a :class:`concurrent.futures.Future` (its ``result()``
    raises :class:`~interactors.ActorError` if the handler raised; cancelling it cancels
    the ask, never the actor). ``tell.method(...)`` blocks while the mailbox is full;
    ``tell_nowait.method(...)`` raises :class:`~interactors.MailboxFull` instead. Pass it
    to actors like an :class:`~interactors.ActorRef`: it pickles to the same address.
    """

    __slots__ = ("_link", "ask", "ref", "tell", "tell_nowait")

    def __init__(self, link: _Link, ref: ActorRef[A]) -> None:
        self._link = link
        self.ref = ref
        """The underlying :class:`~interactors.ActorRef` (for async code on the system's loop)."""
        self.ask: _BlockingAsk[A] = _Methods(link, ref, "ask", submit=True)  # type: ignore[assignment]
        """``ref.ask.method(...)`` or ``ref.ask(Cls.method, ...)``: send at once, return a
        :class:`concurrent.futures.Future` of the handler's result."""
        self.tell: _BlockingTell[A] = _Methods(link, ref, "tell", submit=False)  # type: ignore[assignment]
        """``ref.tell.method(...)``: enqueue a call; blocks only while the mailbox is full."""
        self.tell_nowait: _BlockingTell[A] = _Methods(  # type: ignore[assignment]
            link, ref, "tell_nowait", submit=False
        )
        """``ref.tell_nowait.method(...)``: enqueue or raise ``MailboxFull``; never blocks."""

    @property
    def name(self) -> str:
        return self.ref.name

    @property
    def methods(self) -> tuple[str, ...]:
        return self.ref.methods

    def is_alive(self) -> bool:
        return self.ref.is_alive()

    def statistics(self) -> ActorStatistics:
        """As :meth:`ActorRef.statistics`: the last known ones once the actor is gone."""
        return self.ref.statistics()

    def stop(self, timeout: float | None = None) -> None:
        """Stop the actor after the messages already queued, running its ``on_stop``."""
        self._link.get("stop()").call(functools.partial(self.ref.stop, timeout))

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
        return self.portal.call(func, *args)

    def spawn(self, actor: type[A] | str, *args: Any, **kwargs: Any) -> BlockingActorRef[A]:
        """Start an actor (as :meth:`ActorSystem.spawn`, same errors) and return its ref:
        a ``BlockingActorRef[Counter]`` for the class ``Counter``."""
        portal = self._link.get("spawn()")
        ref: ActorRef[A] = portal.call(functools.partial(self.system.spawn, actor, *args, **kwargs))
        return BlockingActorRef(self._link, ref)

    def lookup(self, name: str) -> BlockingActorRef[Any] | None:
        """The ref of the live actor called ``name``, or ``None``."""
        ref = self.system.lookup(name)
        return None if ref is None else BlockingActorRef(self._link, ref)

    def actors(self) -> list[BlockingActorRef[Any]]:
        """Refs of the live actors, in start order."""
        return [BlockingActorRef(self._link, ref) for ref in self.system.actors()]

    def statistics(self) -> SystemStatistics:
        return self.portal.call(self.system.statistics)
