"""Actor refs as seen from inside an actor: direct actor-to-actor ask and tell.

When an :class:`~interactors.ActorRef` arrives inside an actor (as an argument, or as
``self.ref``), it is rebuilt as a :class:`PeerRef`. Its messages go straight from this
interpreter to the other actor's mailbox, and replies come back to this actor's own reply
queue: the host's event loop is not involved.

``peer.ask.method(...)`` sends at once and returns a :class:`PendingReply`: ``await`` it
in an ``async def`` handler, or call ``.result(timeout)`` in a plain one (which blocks this
actor, not others). ``peer.tell.method(...)`` sends at once and returns an already-finished
awaitable, so it works with or without ``await``.

Stdlib only: imported inside actors' interpreters.
"""

from __future__ import annotations

import os

from .. import _backend as backend
from .._exceptions import ActorStopped, MailboxFull, UnknownMethodError
from .._wire import envelope as P
from .._wire import slots as S
from .waiting import ReplyWaiting, take_wakeup

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from collections.abc import Callable, Generator
    from typing import Any, Generic, ParamSpec, TypeVar

    from .peer_types import _PeerAsk, _PeerTell
    from .serving import Server

    A = TypeVar("A", default=Any)
    R = TypeVar("R", default=Any)
    Params = ParamSpec("Params")
else:  # `PeerRef[Counter]` and `PendingReply[int]` still work at run time, without typing

    class Generic:
        __slots__ = ()

        def __class_getitem__(cls, item):
            return cls

    A = R = None


class PendingReply(Generic[R]):
    """The answer to an ask made from inside an actor: ``await`` it or call ``.result()``."""

    __slots__ = ("__weakref__", "_ctx", "_msg_id", "_target", "_to_self", "_waits_on")

    def __init__(
        self, ctx: PeerContext, msg_id: int, target: str, to_self: bool, waits_on: int = 0
    ) -> None:
        self._ctx = ctx
        self._msg_id = msg_id
        self._target = target
        self._to_self = to_self  # an ask of this actor itself (see refuse_self_wait)
        self._waits_on = waits_on  # the asked actor's PARKED flag code (see waiting.py)

    def result(self, timeout: float | None = None) -> R:
        """Block this actor until the reply arrives; ``TimeoutError`` after ``timeout`` s."""
        if self._to_self:
            self._ctx.refuse_self_wait(self._msg_id, "in a handler with .result()")
        envelope = self._ctx.wait_blocking(self._msg_id, timeout, self._waits_on)
        value: R = P.raise_reply(envelope, self._target, self._ctx.decode)
        return value

    def __await__(self) -> Generator[Any, None, R]:
        alone = self._ctx.worker.max_concurrency <= 1  # it handles nothing else meanwhile
        if self._to_self and alone:
            self._ctx.refuse_self_wait(self._msg_id, "with max_concurrency=1")
        waits_on = self._waits_on if alone else 0
        envelope = yield from self._ctx.wait_async(self._msg_id, waits_on).__await__()
        value: R = P.raise_reply(envelope, self._target, self._ctx.decode)
        return value

    def __del__(self) -> None:
        self._ctx.forget(self._msg_id)


class _Sent:
    """What an inner tell returns: already done, awaiting it is optional."""

    __slots__ = ()

    def __await__(self) -> Generator[Any]:
        return
        yield

    def result(self, timeout: float | None = None) -> None:
        return None


_SENT = _Sent()


class _PeerMethods:
    """``peer.ask`` / ``tell`` / ``tell_nowait``: ``ask.add(5)`` or ``ask(Counter.add, 5)``."""

    __slots__ = ("__dict__", "_kind", "_ref")

    def __init__(self, ref: PeerRef, kind: int) -> None:
        self._ref = ref
        self._kind = kind

    def __getattr__(self, method: str) -> Any:
        ref = self._ref
        if method not in ref.methods:
            raise UnknownMethodError.of(repr(ref.name), method, ref.methods)
        kind = self._kind

        def send(*args: Any, **kwargs: Any) -> Any:
            return ref._send(kind, method, args, kwargs)

        self.__dict__[method] = send  # later look-ups skip __getattr__
        return send

    def __call__(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        # Only the name is checked here (the class is not known inside): type checkers see
        # a method of another class (see peer_types._PeerAsk).
        name = P.named_method(method)
        return (self.__dict__.get(name) or self.__getattr__(name))(*args, **kwargs)


class PeerRef(Generic[A]):
    """A reference to an actor, usable from inside another actor.

    Annotate it ``PeerRef[Counter]`` to type-check ``peer.ask(Counter.add, 5)`` (a
    ``PendingReply[int]``: ``await`` it or call ``.result()``).
    """

    __slots__ = ("_ctx", "address", "ask", "methods", "name", "tell", "tell_nowait")

    def __init__(self, ctx: PeerContext, address: P.Address) -> None:
        self._ctx = ctx
        self.address = address
        self.name = address[2]
        self.methods = frozenset(address[5])
        self.ask: _PeerAsk[A] = _PeerMethods(self, P.ASK)  # type: ignore[assignment]
        self.tell: _PeerTell[A] = _PeerMethods(self, P.TELL)  # type: ignore[assignment]
        self.tell_nowait: _PeerTell[A] = _PeerMethods(self, -P.TELL)  # type: ignore[assignment]

    def _send(self, kind: int, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        ctx = self._ctx
        fmt, payload = P.encode_call(ctx.worker.codec, args, kwargs)
        msg_id = next(ctx.ids) if kind == P.ASK else 0
        envelope = (abs(kind), msg_id, method, fmt, payload, *ctx.reply_to)
        ctx.deliver(self.address, envelope, block=kind != -P.TELL)
        if kind != P.ASK:
            return _SENT
        ctx.outstanding.add(msg_id)
        to_self = self.address[:2] == ctx.own_id
        return PendingReply(ctx, msg_id, self.name, to_self, self.address[6])

    def queued(self) -> int:
        """Messages waiting in its mailbox, plus 1 while it handles one: what a
        ``least_busy`` pool compares."""
        return self._ctx.queued(self.address)

    def stop(self) -> _Sent:
        """Stop the actor as the host's ``await ref.stop()`` does (after the messages in its
        mailbox, ``on_stop`` runs); returns at once, awaiting it is optional. On
        ``self.ref``: the actor stops itself once its current handler returns."""
        worker = self._ctx.worker
        worker.tell_host(P.STOP_ACTOR, self.address[1], worker.actor_id)
        return _SENT

    def __reduce__(self) -> tuple[Any, ...]:
        return P.rebuild_ref, (self.address,)

    def __eq__(self, other: object) -> bool:
        return getattr(other, "address", None) == self.address

    def __hash__(self) -> int:
        return hash(self.address[:2])

    def __repr__(self) -> str:
        return f"<PeerRef {self.name!r} actor_id={self.address[1]}>"


class PeerContext(ReplyWaiting):
    """The worker's side of actor-to-actor messaging: its reply queue and waiters."""

    def __init__(self, worker: Server) -> None:
        self.worker = worker
        self.reply_q: int = worker.reply_q
        self.reply_fd: int = worker.reply_fd
        self.fields = worker.fields
        self.waiting_flag = worker.base + S.REPLY_PARKED
        self.flag = S.flag_code(worker.slot_fd, self.waiting_flag)
        # Where repliers put answers to this actor's asks (a process actor's are on the host).
        self.reply_to = (self.reply_q, self.reply_fd, self.flag)
        self.maps: dict[int, tuple[Any, memoryview]] = {}
        self.views: dict[int, memoryview] = {}  # the same views, by chunk fd
        # A C iterator: next() is atomic for the actor's own threads (itertools.count
        # would be too, but that module costs every interpreter ~50 KiB of types).
        self.ids = iter(range(1, 1 << 62))
        self.outstanding: set[int] = set()
        self.arrived: dict[int, tuple[Any, ...]] = {}
        self.waiters: dict[int, Any] = {}
        self.own_id = (worker.system_id, worker.actor_id)
        # For the refusal of cycles of synchronous waits (see waiting.py).
        self.own_code = S.flag_code(worker.slot_fd, worker.base + S.PARKED)
        self.waits_field = worker.base + S.WAITING_ON

    def flag_set(self, code: int) -> bool:
        """Whether the shared flag named by ``code`` (see ``_slots.flag_code``) is set."""
        return bool(self.field(code))

    def field(self, code: int) -> int:
        """The shared field named by ``code`` (see ``_slots.flag_code``)."""
        value: int = (self.views.get(code >> 16) or self.view(code))[code & 0xFFFF]
        return value

    def view(self, code: int) -> memoryview:
        """The fields of the chunk of slots that ``code`` names, mapped here once."""
        fd = code >> 16
        area, view, _ = S.slot_fields(fd, 0)
        self.maps[fd] = (area, view)
        self.views[fd] = view
        return view

    def decode(self, data: Any) -> Any:
        return self.worker.codec.decode(data)  # type: ignore[union-attr]

    def self_ref(self) -> PeerRef:
        w = self.worker
        parked = S.flag_code(w.slot_fd, w.base + S.PARKED)
        return PeerRef(
            self, (w.system_id, w.actor_id, w.name, w.mbox_q, w.mbox_fd, w.methods, parked)
        )

    def ref_from_address(self, address: P.Address) -> PeerRef:
        return PeerRef(self, tuple(address))  # type: ignore[arg-type]

    def deliver(self, address: P.Address, envelope: tuple[Any, ...], block: bool) -> None:
        try:  # (a full mailbox is rare: then this actor waits for room, or raises)
            backend.put_when_room(address[3], envelope, block)
        except Exception as exc:  # full, or its mailbox queue was freed: stopped for good
            raise undeliverable(address, full=backend.is_full(exc)) from None
        code = address[6]
        view = self.views.get(code >> 16) or self.view(code)
        parked = code & 0xFFFF
        if view[parked + _CLOSED_FROM_PARKED]:  # gone meanwhile (see _wire/slots)
            raise undeliverable(address, full=False)
        if view[parked]:
            try:
                os.eventfd_write(address[4], 1)
            except OSError:  # its fd is closed: gone for good (and CLOSED was missed)
                raise undeliverable(address, full=False) from None

    def queued(self, address: P.Address) -> int:
        """Messages in its mailbox, plus 1 while it handles one (read from its slot's
        CURRENT_SEQ, next to the PARKED flag its address names)."""
        try:
            queued = int(backend.count(address[3]))
        except Exception:  # its mailbox queue was freed: stopped for good
            return 1 << 30
        return queued + self.flag_set(address[6] - S.PARKED + S.CURRENT_SEQ)

    def drain(self) -> None:
        """Move every reply that arrived into its waiter (or keep it for ``result()``)."""
        qid = self.reply_q
        while backend.count(qid):
            self.route(backend.get(qid))

    def route(self, envelope: Any) -> None:
        if envelope is backend.UNBOUND:
            return
        msg_id = envelope[1]
        waiter = self.waiters.pop(msg_id, None)
        if waiter is not None:
            if not waiter.done():
                waiter.set_result(envelope)
        elif msg_id in self.outstanding:
            self.arrived[msg_id] = envelope

    def on_reply_readable(self) -> None:
        take_wakeup(self.reply_fd)
        self.drain()

    def close(self) -> None:
        for area, view in self.maps.values():
            view.release()
            area.close()
        self.maps.clear()
        self.views.clear()
        for waiter in self.waiters.values():
            if not waiter.done():
                waiter.cancel()
        self.waiters.clear()
        self.arrived.clear()
        self.outstanding.clear()


_CLOSED_FROM_PARKED = S.CLOSED - S.PARKED


def undeliverable(address: P.Address, full: bool) -> Exception:
    """What a sender inside an actor gets when a message cannot go to ``address``."""
    if full:
        return MailboxFull(
            f"the mailbox of actor {address[2]!r} is full; use tell (which waits for room) "
            "or spawn it with a larger mailbox_size"
        )
    return ActorStopped(f"actor {address[2]!r} has stopped; it takes no more messages")
