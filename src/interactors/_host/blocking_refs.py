"""Refs for synchronous code: :class:`BlockingActorRef`, and the link to the running
:class:`~interactors.BlockingActorSystem` they share (see ``blocking.py``).

An ask returns a :class:`concurrent.futures.Future`. Messages to actors in interpreters
are sent by the calling thread (``thread_sends.py``); the others run on the system's loop
through an anyio portal. Host side only.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Concatenate, Final, Generic, ParamSpec, TypeVar, overload

import sniffio
from anyio.from_thread import BlockingPortal

from .._exceptions import SystemClosed
from .._wire import envelope as P
from .ref import ActorRef, method_name, ref_wrapper
from .statistics import ActorStatistics
from .thread_sends import ThreadSends, answer_of, call_on, direct

__all__ = ("BlockingActorRef",)

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

    __slots__ = ("_direct", "_kind", "_link", "_proxy", "_ref", "_submit")

    def __init__(self, link: _Link, ref: ActorRef, kind: str, submit: bool) -> None:
        self._link = link
        self._ref = ref
        self._proxy = getattr(ref, kind)
        self._kind = kind
        self._submit = submit
        # The message kind to send from the calling thread, or 0: through the loop.
        self._direct = _KINDS[kind] if direct(ref._cell, self._proxy) else 0

    def __call__(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        # UnknownMethodError right here for a method of another class (as ActorRef does).
        return self.__getattr__(method_name(self._ref._cell, method))(*args, **kwargs)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        send = getattr(self._proxy, method)  # UnknownMethodError right here
        link, submit, what = self._link, self._submit, f"{self._kind}.{method}()"
        cell, kind = self._ref._cell, self._direct

        def call(*args: Any, **kwargs: Any) -> Any:
            portal = link.get(what)
            if kind and link.sends is not None:  # from this thread, not through the loop
                return link.sends.send(cell, kind, method, args, kwargs)
            if submit:
                return answer_of(portal.start_task_soon(_asking, link, send, args, kwargs))
            return call_on(portal, functools.partial(send, *args, **kwargs))

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
    raises :class:`~interactors.ActorError` if the handler raised; cancelling it drops its
    answer, never the actor). ``tell.method(...)`` blocks while the mailbox is full;
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
        call_on(self._link.get("stop()"), functools.partial(self.ref.stop, timeout))

    def __reduce__(self) -> tuple[Any, ...]:
        return self.ref.__reduce__()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BlockingActorRef) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(self.ref)

    def __repr__(self) -> str:
        return f"<BlockingActorRef {self.name!r}>"
