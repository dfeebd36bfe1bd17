"""Actors started by an actor (``self.spawn(Worker, ...)``), and monitored by one.

The request goes to the host as a SPAWN_ACTOR notice, with the actor class (or its import
path) and the arguments pickled. The host starts the actor as ``system.spawn`` does, then
answers on this actor's reply queue, as another actor answers an ask: with the new
actor's address, or with the error the host's ``spawn`` raised, which is raised here as
it is (``SpawnError``, ``IsolationError``, ``TypeError``, ...). The new actor belongs to
the incarnation that started it: the host stops it when that incarnation ends (see
``_host/spawned.py``).

``self.monitor(ref, method)`` sends a MONITOR notice: the host tells this actor
``method(ref, reason)`` once that actor has stopped for good.

Stdlib only: imported inside actors' interpreters.
"""

from __future__ import annotations

import pickle

from .._exceptions import EncodeError, SpawnError, UnknownMethodError
from .._wire import envelope as P
from .peer import PeerContext, PeerRef, PendingReply

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from collections.abc import Generator
    from typing import Any, TypeVar

    A = TypeVar("A", default=Any)
else:
    A = None


class PendingSpawn(PendingReply[PeerRef[A]]):
    """The ref of an actor an actor started: ``await`` it, or call ``.result(timeout)``."""

    __slots__ = ()

    def result(self, timeout: float | None = None) -> PeerRef[A]:
        """Block this actor until the new actor serves; ``TimeoutError`` after ``timeout``
        s (the actor still starts, and still belongs to this one)."""
        return self._ref(self._ctx.wait_blocking(self._msg_id, timeout))

    def __await__(self) -> Generator[Any, None, PeerRef[A]]:
        envelope = yield from self._ctx.wait_async(self._msg_id).__await__()
        return self._ref(envelope)

    def _ref(self, envelope: tuple[Any, ...]) -> PeerRef[A]:
        kind, _msg_id, fmt, payload = envelope
        if kind == P.REPLY_OK and fmt == P.ENCODED:  # a pool (spawn_pool): a PeerPool here
            pool: PeerRef[A] = pickle.loads(payload)
            return pool
        if kind == P.REPLY_OK:
            return self._ctx.ref_from_address(payload)
        type_name, message, _text, blob = payload
        error = None
        if blob is not None:
            try:
                error = pickle.loads(blob)
            except Exception:
                error = None
        if not isinstance(error, BaseException):
            error = SpawnError(f"{type_name}: {message}")
        raise error


def spawn(
    ctx: PeerContext, actor: Any, args: tuple[Any, ...], kwargs: dict[str, Any], what: str
) -> Any:
    """Ask the host to start ``actor(*args, **kwargs)`` for this actor: ``what`` is
    ``"spawn"`` (``Actor.spawn``) or ``"spawn_pool"`` (``Actor.spawn_pool``)."""
    if not isinstance(actor, type | str):
        raise TypeError(f"{what}() takes an actor class or 'module:Class', got {actor!r}")
    try:
        blob = pickle.dumps((what, actor, args, kwargs), protocol=5)
    except Exception as exc:
        raise EncodeError(
            f"cannot send {what}()'s arguments to the host ({type(exc).__name__}: {exc}); "
            "pass values that pickle"
        ) from exc
    msg_id = next(ctx.ids)
    ctx.outstanding.add(msg_id)
    worker = ctx.worker
    worker.tell_host(P.SPAWN_ACTOR, worker.actor_id, (msg_id, *ctx.reply_to[:2], blob))
    return PendingSpawn(ctx, msg_id, what, False)


def monitor(ctx: PeerContext, ref: Any, method: Any) -> None:
    """Ask the host to tell this actor ``method(ref, reason)`` once ``ref``'s actor has
    stopped for good (``Actor.monitor``)."""
    address = getattr(ref, "address", None)
    if not isinstance(address, tuple):
        raise TypeError(f"monitor() takes an actor's ref, got {ref!r}")
    name = method if isinstance(method, str) else getattr(method, "__name__", None)
    own = ctx.worker.methods
    if name not in own:
        raise UnknownMethodError.of(repr(ctx.worker.name), str(name), own)
    worker = ctx.worker
    worker.tell_host(P.MONITOR, worker.actor_id, (address, name))
