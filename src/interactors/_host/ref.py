"""ActorRef: the host-side handle to an actor — ask / tell / tell_nowait method proxies.

``await ref.ask.method(*args, **kwargs)`` sends a message and returns the handler's result
(raising :class:`~interactors.ActorError` if it raised). ``await ref.tell.method(...)``
enqueues without waiting for the handler, waiting only while the mailbox is full;
``ref.tell_nowait.method(...)`` never waits and raises :class:`~interactors.MailboxFull`.

Cancellation: cancelling an ask (or timing it out with ``anyio.fail_after``) never harms
the actor — the message is handled anyway and its late reply is dropped.

Threads: ask, tell, tell_nowait, stop and wait_stopped raise ``RuntimeError`` when called
outside the thread running the system's event loop (nothing is sent); the other methods
work from anywhere.

A ref pickles to the actor's address, so it can be sent to other actors, where it becomes
a direct actor-to-actor ref.
"""

from __future__ import annotations

import sys
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from inspect import markcoroutinefunction
from threading import get_ident
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

import anyio

from .._exceptions import SystemClosed, UnknownMethodError
from .._wire import envelope as P
from .statistics import ActorStatistics

if TYPE_CHECKING:
    from .cell import ActorCell

A = TypeVar("A", default=Any)  # a bare `ActorRef` is `ActorRef[Any]`
R = TypeVar("R")
Params = ParamSpec("Params")


def method_name(cell: ActorCell, method: Callable[..., Any]) -> str:
    """The name of ``method`` (e.g. ``Counter.add``) if it is a method of the cell's actor.

    A function of another class raises :class:`UnknownMethodError`, as an unknown name does.
    """
    name = P.named_method(method)
    module, _, qualname = cell.target.partition(":")
    cls: Any = sys.modules.get(module)
    for part in qualname.split("."):
        cls = getattr(cls, part, None)
    if isinstance(cls, type) and not any(_is(vars(k).get(name), method) for k in cls.__mro__):
        raise UnknownMethodError.of(
            f"{cell.name!r} ({cell.target})",
            getattr(method, "__qualname__", name),
            cell.methods,
        )
    cell.check_method(name)  # not a public method (``_helper``, ``__init__``): refused too
    return name


def _is(attribute: Any, method: Any) -> bool:
    """Whether ``method`` (``Cls.name``) is the class attribute ``attribute``: a function,
    or the function a ``staticmethod`` / ``classmethod`` wraps (``Cls.name`` of a
    classmethod is a new bound method at each look-up)."""
    if attribute is method:
        return True
    function = getattr(attribute, "__func__", None)
    return function is not None and function in (method, getattr(method, "__func__", None))


class _Proxy:
    """``ref.ask`` / ``ref.tell`` / ``ref.tell_nowait``: attribute access names the method,
    calling it with a method of the actor's class (``ref.ask(Counter.add, 5)``) too."""

    __slots__ = ("__dict__", "_cell", "_mode", "_timeout")

    def __init__(self, cell: ActorCell, mode: int, timeout: float | None = None) -> None:
        self._cell = cell
        self._mode = mode
        self._timeout = timeout

    def __getattr__(self, method: str) -> Any:
        if method.startswith("__"):
            raise AttributeError(method)
        cell = self._cell
        cell.check_method(method)
        mode, timeout = self._mode, self._timeout
        # The system's loop thread, compared on every call: a call from another thread
        # (or another event loop) must be refused before it touches the system.
        owner = cell.system.loop_thread
        kind = {P.ASK: "ask", P.TELL: "tell"}.get(mode, "tell_nowait")
        what = f"{kind}.{method}"
        if mode == P.ASK and timeout is not None:

            async def call(*args: Any, **kwargs: Any) -> Any:
                if get_ident() != owner:
                    raise wrong_thread(what)
                with anyio.fail_after(timeout):
                    return await cell.ask(method, args, kwargs)

        elif mode == P.ASK:  # the cell's coroutine itself (a coroutine of its own would
            # cost one more frame on every resumption of every ask)

            def call(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                if get_ident() != owner:
                    raise wrong_thread(what)
                return cell.ask(method, args, kwargs)

            markcoroutinefunction(call)

        elif mode == P.TELL:

            async def call(*args: Any, **kwargs: Any) -> Any:
                if get_ident() != owner:
                    raise wrong_thread(what)
                await cell.tell(method, args, kwargs)

        else:

            def call(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                if get_ident() != owner:
                    raise wrong_thread(what)
                cell.tell_nowait(method, args, kwargs)

        call.__name__ = call.__qualname__ = method
        self.__dict__[method] = call  # later look-ups skip __getattr__
        return call

    def __call__(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        name = method_name(self._cell, method)
        return (self.__dict__.get(name) or self.__getattr__(name))(*args, **kwargs)

    def __repr__(self) -> str:
        kind = {P.ASK: "ask", P.TELL: "tell"}.get(self._mode, "tell_nowait")
        return f"<{kind} proxy of {self._cell.name!r}>"


if TYPE_CHECKING:  # what type checkers see of ref.ask / tell / tell_nowait (_Proxy)

    class _Ask(Generic[A]):
        """Type checkers' view of ``ref.ask`` (the run-time object is a ``_Proxy``)."""

        def __getattr__(self, method: str) -> Any: ...
        @overload
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], Awaitable[R]],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> Awaitable[R]: ...
        @overload
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], R],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> Awaitable[R]: ...
        def __call__(self, method: Any, /, *args: Any, **kwargs: Any) -> Any: ...

    class _Tell(Generic[A]):
        """Type checkers' view of ``ref.tell``."""

        def __getattr__(self, method: str) -> Any: ...
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], object],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> Awaitable[None]: ...

    class _TellNowait(Generic[A]):
        """Type checkers' view of ``ref.tell_nowait``."""

        def __getattr__(self, method: str) -> Any: ...
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], object],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> None: ...


class ActorRef(Generic[A]):
    """A handle to a running actor. Cheap to copy, safe to send to other actors.

    ``ActorRef[Counter]`` (what ``spawn(Counter)`` returns) type-checks the call form:
    ``await ref.ask(Counter.add, 5)`` is an ``int`` if ``add`` returns one.
    """

    __slots__ = ("__weakref__", "_cell", "ask", "tell", "tell_nowait")

    def __init__(self, cell: ActorCell) -> None:
        self._cell = cell
        self.ask: _Ask[A] = _Proxy(cell, P.ASK)  # type: ignore[assignment]
        """``await ref.ask.method(...)`` or ``await ref.ask(Cls.method, ...)``: call a handler
        and return its result."""
        self.tell: _Tell[A] = _Proxy(cell, P.TELL)  # type: ignore[assignment]
        """``await ref.tell.method(...)``: enqueue a call; waits only while the mailbox is full."""
        self.tell_nowait: _TellNowait[A] = _Proxy(cell, -P.TELL)  # type: ignore[assignment]
        """``ref.tell_nowait.method(...)``: enqueue or raise ``MailboxFull``; never waits."""

    @property
    def name(self) -> str:
        return self._cell.name

    @property
    def actor_id(self) -> int:
        return self._cell.actor_id

    @property
    def methods(self) -> tuple[str, ...]:
        """The public methods this actor accepts as messages."""
        return self._cell.methods

    @property
    def address(self) -> P.Address:
        return self._cell.address()

    def is_alive(self) -> bool:
        """True while the actor takes messages (starting, running or restarting)."""
        return self._cell.is_alive()

    async def stop(self, timeout: float | None = None) -> None:
        """Stop the actor after the messages already in its mailbox, running ``on_stop``.

        Waits at most ``timeout`` seconds (default: the actor's shutdown timeout). A handler
        still running after a quarter of it is interrupted (the actor then runs ``on_stop``
        and stops); an actor that does not stop by the timeout (blocked in C) is abandoned
        and reported, reason ``"killed"``. ``timeout=0`` kills at once, without ``on_stop``.
        Stopping twice is harmless.
        """
        self._cell.system.check_thread("stop")
        await self._cell.stop(timeout)

    async def wait_stopped(self) -> str:
        """Wait until the actor has stopped for good; return why: ``"normal"`` (it stopped
        itself: :meth:`stop`, a normal exit), ``"shutdown"`` (its supervisor or the system
        stopped it), ``"killed"`` (abandoned at its shutdown timeout) or a crash's
        ``"<type>: <message>"``."""
        self._cell.system.check_thread("wait_stopped")
        return await self._cell.wait_stopped()

    def statistics(self) -> ActorStatistics:
        """Mailbox depth, messages handled, errors, interpreter id, isolation mode, state.

        Callable from any thread; once the actor is gone, its last snapshot.
        """
        return self._cell.statistics()

    def options(self, *, timeout: float | None = None) -> ActorRef[A]:
        """A ref whose asks fail with ``TimeoutError`` after ``timeout`` seconds."""
        ref: ActorRef[A] = ActorRef(self._cell)
        if timeout is not None:
            ref.ask = _Proxy(self._cell, P.ASK, timeout)  # type: ignore[assignment]
        return ref

    def __reduce__(self) -> tuple[Any, ...]:
        return P.rebuild_ref, (self.address,)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActorRef) and other._cell is self._cell

    def __hash__(self) -> int:
        return hash(self._cell.actor_id)

    def __repr__(self) -> str:
        cell = self._cell
        return f"<ActorRef {cell.name!r} id={cell.actor_id} {cell.state}>"


def wrong_thread(what: str) -> RuntimeError:
    """The error for ``what`` (a method) called outside the system's event loop thread."""
    return RuntimeError(
        f"{what}() was called from another thread than the one running the ActorSystem's "
        "event loop, and was refused (nothing was sent). An ActorSystem and its refs "
        "belong to the event loop that runs it: from a worker thread, hand the call to "
        "that loop (anyio.from_thread.run), or use BlockingActorSystem in threaded code."
    )


# Every live system by id, so a ref coming back from an actor finds its cell.
systems: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


class GoneRefs:
    """Refs of a system's actors that are gone for good, for refs to them that come back
    to the host (in an answer, say): the one the host still holds, or one of the last
    ``keep`` gone. That ref says what a stopped actor's ref says (``is_alive()`` false,
    ``ActorStopped`` for a message, its ``wait_stopped()`` reason)."""

    def __init__(self, keep: int = 256) -> None:
        self.held: weakref.WeakValueDictionary[int, ActorRef] = weakref.WeakValueDictionary()
        self.recent: deque[ActorRef] = deque(maxlen=keep)

    def add(self, ref: ActorRef) -> None:
        self.held[ref.actor_id] = ref
        self.recent.append(ref)

    def get(self, actor_id: int) -> ActorRef | None:
        return self.held.get(actor_id)  # (those in recent are held)


# Set while a BlockingActorSystem's call decodes its result: the refs in it come back as
# that system's BlockingActorRef, usable from the synchronous code that asked.
ref_wrapper: ContextVar[Callable[[ActorRef[Any]], Any] | None] = ContextVar(
    "interactors_ref_wrapper", default=None
)


def host_ref_from_address(address: P.Address) -> Any:
    """Unpickling on the host: the live ref of that actor in its system."""
    system = systems.get(address[0])
    if system is None:
        raise SystemClosed(f"actor {address[2]!r} belongs to an ActorSystem that is closed")
    ref = system._ref_for(address[1], address[2])
    wrap = ref_wrapper.get()
    return ref if wrap is None else wrap(ref)


# Inside an actor, the worker has set its own (refs that work from there) before the
# actor's module, which may import this one (``from interactors import ActorRef``), loads.
if P.ref_factory is None:
    P.ref_factory = host_ref_from_address
