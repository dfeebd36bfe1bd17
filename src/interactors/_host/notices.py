"""Notices from actors and their threads (kinds >= EXITED on the pump's queue), dispatched.

EXITED comes from the host thread that ran an interpreter when it returns; CRASHED from a
worker whose handler failed under ``on_error="restart"``/``"stop"``; TELL_FAILED from a
worker whose tell handler raised under ``on_error="resume"`` (logged); LOGS from a worker
whose code logged (re-emitted through the host's ``logging``, see :mod:`.actor_logs`);
STOP_ACTOR from an actor that called ``stop()`` on a ref (its own or another's);
SPAWN_ACTOR and MONITOR from an actor that called ``self.spawn()`` or ``self.monitor()``
(see :mod:`.spawned`). An
EXITED for an abandoned interpreter means a stuck actor came back after all: its
interpreter can go.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .._wire import envelope as P
from .abandoned import AbandonedInterpreters
from .actor_logs import emit_actor_records
from .cell import ActorCell

__all__ = ("dispatch_notice",)

log = logging.getLogger("interactors")


def dispatch_notice(
    cells: Mapping[int, ActorCell], abandoned: AbandonedInterpreters, envelope: tuple[Any, ...]
) -> None:
    """Hand one notice to the cell it is about (or to the abandoned interpreters)."""
    kind, actor_id, _fmt, payload = envelope
    if kind == P.LOGS:  # even from an actor that is gone by now: it logged them before
        emit_actor_records(actor_id, *payload)
        return
    if kind == P.EXITED:
        iid, token, info, lost = payload
        if abandoned.came_back(iid, actor_id):
            return
    cell = cells.get(actor_id)
    if cell is None:
        return
    if kind == P.EXITED:
        if lost:
            _tells_lost(cell, lost, info)
        cell.on_exited(iid, token, info)
    elif kind == P.CRASHED:
        cell.on_crashed(payload)
    elif kind == P.TELL_FAILED:
        cell.on_tell_failed(payload)
    elif kind == P.STOP_ACTOR:
        cell.system._schedule(cell.stop)  # as ``await ref.stop()`` would, not waited for
    elif kind == P.SPAWN_ACTOR:
        cell.system._spawned.request(cell, payload)
    elif kind == P.MONITOR:
        cell.system._spawned.monitor(cell, payload)


def _tells_lost(cell: ActorCell, lost: int, info: tuple[str, str, str] | None) -> None:
    """A process actor's process ended with ``lost`` tells handed to it and not handled:
    they ended with it. Say so (a warning), and count them."""
    s, were = ("", "was") if lost == 1 else ("s", "were")
    log.warning(
        "actor %r: %d tell%s handed to its process %s not handled, lost with it: %s",
        cell.name,
        lost,
        s,
        were,
        P.exit_words(info),
    )
    cell.system._events["tells_dropped"] += lost
