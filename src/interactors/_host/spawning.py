"""Spawning one actor: resolve its options, create its cell, start its first incarnation.

With ``isolation="auto"``, an actor whose module refuses to load in an own-GIL interpreter
is started again in its own process (``isolation="process"``: any extension loads there,
and it still runs in parallel), with an :class:`IsolationFallbackWarning`; the module is
remembered, so its next actors go there directly.
"""

from __future__ import annotations

import logging
import os
import warnings
from typing import TYPE_CHECKING, Any

import anyio

from .._exceptions import IsolationError, IsolationFallbackWarning, SpawnError
from .._wire.codec import codec_from_spec
from .cell import ActorCell
from .log_levels import LevelWatch
from .messaging import STARTING
from .options import DEFAULT_ON_ERROR, check_actor, check_class_options, check_spawn_options
from .ref import ActorRef
from .target import resolve_target

if TYPE_CHECKING:
    from .._supervision.tree import ChildNode
    from .system import ActorSystem

__all__ = ("spawn_cell",)

log = logging.getLogger("interactors")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # (interactors/)


async def spawn_cell(
    system: ActorSystem,
    actor: type | str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    name: str | None,
    shutdown: float | None,
    owner: ChildNode,
    options: dict[str, Any],
) -> ActorRef:
    """Start ``actor`` for ``owner``; return its ref once ``__init__``/``on_start`` ran."""
    isolation = options.get("isolation")
    codec = options.get("codec")
    mailbox_size = options.get("mailbox_size")
    max_concurrency = options.get("max_concurrency")
    on_error = options.get("on_error")
    handler_timeout = options.get("handler_timeout")
    check_actor(actor)
    check_spawn_options(options)
    target, main_path = resolve_target(actor)
    cls = actor if isinstance(actor, type) else None
    if cls is not None:
        check_class_options(cls)
    mode: str = isolation or system.isolation
    # A handler's exception is its caller's error unless the actor opts into restarts.
    on_error = on_error or getattr(cls, "on_error", None) or DEFAULT_ON_ERROR
    actor_id = system._next_id()
    if name is None:
        name = f"{target.rpartition(':')[2].rpartition('.')[2]}-{actor_id}"
    elif name in system._names:
        raise ValueError(f"an actor named {name!r} is already running in this system")
    module = target.partition(":")[0]
    if mode == "auto" and module in system._isolation_refused:
        mode = "process"
    mailbox = _first(mailbox_size, getattr(cls, "mailbox_size", None), system.mailbox_size)
    try:
        cell = ActorCell(
            system,
            actor_id,
            name,
            target,
            main_path,
            isolation=mode,
            codec=codec_from_spec(codec) if codec is not None else system.codec,
            mailbox_size=mailbox,
            max_concurrency=_first(max_concurrency, getattr(cls, "max_concurrency", None), 1),
            on_error=on_error,
            handler_timeout=_first(handler_timeout, getattr(cls, "handler_timeout", None), None),
            shutdown=system.shutdown_timeout if shutdown is None else shutdown,
        )
    except OSError as exc:  # its eventfds: the process is out of file descriptors
        raise SpawnError(
            f"cannot start actor {name!r} ({target}): {exc}. Raise the limit (ulimit -n), "
            "or run fewer actors at once. The others keep running."
        ) from exc
    system._cells[actor_id] = cell
    system._names[name] = cell
    LevelWatch.of(system)  # from now on, a level changed on the host reaches the cell
    try:
        cell.set_init(args, kwargs)
        try:
            await cell.start()
        except IsolationError as exc:
            if mode != "auto":
                raise
            system._isolation_refused[module] = exc.extension
            warnings.warn(
                IsolationFallbackWarning(
                    f"actor {name!r}: {module} imports {exc.extension!r}, which cannot "
                    'load in an own-GIL interpreter; running it with isolation="process" '
                    "instead (its own OS process: still parallel; messages and answers "
                    "cross between processes)"
                ),
                skip_file_prefixes=(_PACKAGE,),  # (points at the caller's spawn)
            )
            cell.isolation = "process"
            cell.state = STARTING
            await cell.start(fresh=True)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await cell.stop(cell.shutdown_timeout if cell.worker != "none" else 0)
        system._forget(cell)
        raise
    cell.owner = owner
    ref = ActorRef(cell)
    system._refs[actor_id] = ref
    if cell.handler_timeout:
        system._watch_deadlines()
    system._count("started")
    log.debug("started actor %r (%s, %s)", name, target, cell.isolation)
    return ref


def _first(*values: Any) -> Any:
    """The first value that is set (``None`` means "not set"; 0 is checked, not skipped)."""
    return next((v for v in values if v is not None), None)
