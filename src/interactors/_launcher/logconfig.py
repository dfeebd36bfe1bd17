"""Logging set-up for programs started by ``interactors run``: one stderr handler, text or JSON.

The launcher configures the root logger, so the app's own loggers and the ``interactors``
logger come out the same way. JSON lines carry ``time``, ``level``, ``logger``,
``message``, ``actor`` and ``actor_id`` for records made inside an actor, and, when there
is one, ``traceback``.

Host side only.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Final

__all__ = ("JsonFormatter", "configure_logging")

TEXT_FORMAT: Final = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        actor = getattr(record, "actor", None)
        if actor is not None:  # a record made inside an actor (see _host/actor_logs.py)
            entry["actor"] = actor
            entry["actor_id"] = getattr(record, "actor_id", None)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str) -> None:
    """Send every log record at ``level`` or above to stderr as ``log_format`` (text/json).

    Replaces the root logger's handlers (those of a previous call included).
    """
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
