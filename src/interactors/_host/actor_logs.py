"""Log records made inside actors, re-emitted through the host's ``logging``.

A worker ships its records as plain tuples in LOGS notices (see
:mod:`interactors._inside.log_shipping`); each comes out here through
``logging.getLogger(name).handle`` with its original logger name, level, message, time,
source location and exception text, plus ``record.actor`` (the actor's name) and
``record.actor_id``, so handlers, filters and formatters (``%(actor)s``) see it as a record
of the host. The host's levels apply: they are sent to each worker when it starts
(:func:`host_log_levels`), and checked again here.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ("emit_actor_records", "host_log_levels")


def host_log_levels() -> tuple[tuple[str, int], ...]:
    """The root logger's effective level (as ``""``) and every level set explicitly on a
    named logger of the host, for the actor's interpreter to apply."""
    levels = [("", logging.getLogger().getEffectiveLevel())]
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            levels.append((name, logger.level))
    return tuple(levels)


def emit_actor_records(actor_id: int, actor: str, records: tuple[tuple[Any, ...], ...]) -> None:
    """Hand each record of one LOGS notice to the host logger of the same name."""
    for created, name, level, message, exc_text, path, line, function in records:
        logger = logging.getLogger(name)
        if not logger.isEnabledFor(level):
            continue
        record = logger.makeRecord(name, level, path, line, message, (), None, function)
        record.relativeCreated += (created - record.created) * 1000
        record.created = created
        record.msecs = (created - int(created)) * 1000
        record.exc_text = exc_text
        record.actor = actor
        record.actor_id = actor_id
        logger.handle(record)
