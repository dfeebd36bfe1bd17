"""The :class:`Actor` base class users subclass. Stdlib only (imported inside actors)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, Final, TypeVar

    from ._inside.children import PendingSpawn
    from ._inside.peer import PendingReply
    from ._inside.peer_pool import PeerPool

    A = TypeVar("A", default=Any)


# Hooks the runtime calls; never reachable as messages.
LIFECYCLE_HOOKS: Final = frozenset({"on_start", "on_stop", "on_failure"})
_RESERVED: Final = LIFECYCLE_HOOKS | {"ref", "name"}


class Actor:
    """Base class for actors. Each instance lives in its own interpreter and thread.

    Public methods (names not starting with ``_``) are the messages the actor accepts:
    ``await ref.ask.method(...)`` calls one and returns its result, ``ref.tell.method(...)``
    calls one without waiting for it. Methods may be plain functions (run in the actor's
    thread) or ``async def`` (run on an asyncio loop owned by the actor). Messages are handled
    one at a time, in order; set ``max_concurrency`` above 1 to let that many ``async``
    handlers interleave.

    Class attributes tune the actor (each may also be given to ``spawn``):

    ``mailbox_size``
        how many messages may wait in the mailbox (default: the system's, 1000);
    ``max_concurrency``
        how many async handlers may run at once (default 1);
    ``on_error``
        what an exception escaping a handler does to the actor: ``"resume"`` (default: the
        exception is the caller's error; the actor keeps its instance and carries on; a
        failed tell is logged and counted in ``errors``), ``"restart"`` (OTP's let-it-crash:
        its supervisor builds a fresh instance) or ``"stop"``. An asker gets
        :class:`~interactors.ActorError` under ``"resume"``,
        :class:`~interactors.ActorCrashed` otherwise;
    ``handler_timeout``
        seconds a single handler may run before the actor counts as hung (default: none).

    The class must be importable by its module and qualified name (not defined inside a
    function), since the actor's interpreter imports it.

    Available from ``on_start`` on: ``self.ref`` (this actor's own ref, to pass to others)
    and ``self.name``. From ``__init__`` on, inside the actor: :meth:`spawn` and
    :meth:`spawn_pool` (actors and pools this actor owns) and :meth:`monitor`.
    """

    mailbox_size: ClassVar[int | None] = None
    max_concurrency: ClassVar[int] = 1
    on_error: ClassVar[str] = "resume"
    handler_timeout: ClassVar[float | None] = None

    ref: Any
    name: str

    def on_start(self) -> Any:
        """Called in the actor's interpreter after ``__init__``, before any message."""

    def on_stop(self) -> Any:
        """Called when the actor stops normally (``ref.stop()``, system shutdown)."""

    def on_failure(self, exc: BaseException) -> Any:
        """Called with the exception when a handler fails and the actor is to restart/stop."""

    def spawn(self, actor: type[A] | str, /, *args: Any, **kwargs: Any) -> PendingSpawn[A]:
        """Start another actor from inside this one, as ``system.spawn`` does (same
        arguments and options); ``await`` the result, or call ``.result(timeout)`` in a
        plain handler, for the new actor's ref (a ``PeerRef``).

        The new actor belongs to this one's incarnation: it is stopped when this actor
        stops for good (after its ``on_stop``) or is restarted. A failed start raises what
        ``system.spawn`` would (``SpawnError``, ...). A subclass's own ``spawn`` method
        replaces this one (and is a message, like any public method).
        """
        pending: PendingSpawn[A] = self._request("spawn", actor, args, kwargs)
        return pending

    def spawn_pool(
        self, actor: type | str, /, *args: Any, size: int, **kwargs: Any
    ) -> PendingReply[PeerPool]:
        """Start a pool from inside this actor, as ``system.spawn_pool`` does (same
        arguments and options: ``policy``, ``key``, ``name``, ...); ``await`` the result,
        or call ``.result(timeout)``, for a :class:`~interactors.PeerPool` over its
        members. The pool belongs to this actor, as actors it spawns do."""
        pending: PendingReply[PeerPool] = self._request(
            "spawn_pool", actor, args, {"size": size, **kwargs}
        )
        return pending

    def _request(self, what: str, actor: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        peers = getattr(getattr(self, "ref", None), "_ctx", None)
        if peers is None:
            raise RuntimeError(
                f"{type(self).__name__}.{what}() works inside a running actor only (its "
                f"handlers, __init__, on_start and on_stop); on the host, use system.{what}()"
            )
        from ._inside.children import spawn

        return spawn(peers, actor, args, kwargs, what)

    def monitor(self, ref: Any, method: str | Callable[..., Any]) -> None:
        """Be told when the actor ``ref`` names has stopped for good (an OTP monitor:
        restarts do not count): its method ``method`` (a name, or the method itself) is
        called as a tell, with the actor's ref and the reason of ``ref.wait_stopped()``,
        e.g. ``self.monitor(worker, self.worker_down)`` and ``def worker_down(self, ref,
        reason)``. An actor gone already, or unknown, is reported at once (reason
        ``"noproc"`` when its reason is no longer known). Returns at once.
        """
        peers = getattr(getattr(self, "ref", None), "_ctx", None)
        if peers is None:
            raise RuntimeError(
                f"{type(self).__name__}.monitor() works inside a running actor only; on the "
                "host, use system.monitor()"
            )
        from ._inside.children import monitor

        monitor(peers, ref, method)


# Methods of Actor itself: messages only where a subclass defines its own.
_BASE_METHODS: Final = frozenset({Actor.spawn, Actor.spawn_pool, Actor.monitor})


def public_methods(cls: type) -> tuple[str, ...]:
    """The names of ``cls``'s methods that may be sent as messages."""
    names = []
    for name in dir(cls):
        if name.startswith("_") or name in _RESERVED or getattr(cls, name, None) in _BASE_METHODS:
            continue
        if callable(getattr(cls, name, None)):
            names.append(name)
    return tuple(names)
