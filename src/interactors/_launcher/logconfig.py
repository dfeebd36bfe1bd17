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

from .._exceptions import ConfigError

__all__ = ("JsonFormatter", "apply_log_config", "configure_logging")

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


def apply_log_config(path: str) -> None:
    """Configure logging with the ``logging.config.dictConfig`` dictionary in ``path``.

    JSON (``*.json``) and TOML (``*.toml``) are read with the standard library; YAML
    (``*.yaml``, ``*.yml``) needs PyYAML. ``version`` defaults to 1 and
    ``disable_existing_loggers`` to False. Raises ConfigError saying what to fix.
    """
    import logging.config
    from pathlib import Path

    file = Path(path)
    suffix = file.suffix.lower()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"log config {path}: cannot read it: {exc.strerror}") from None
    try:
        config = _decode_log_config(text, suffix, path)
    except ConfigError:
        raise
    except Exception as exc:  # each decoder has its own error type
        raise ConfigError(f"log config {path}: not valid {suffix[1:].upper()}: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"log config {path}: expected a dictConfig mapping at the top level")
    config.setdefault("version", 1)
    # The interactors loggers exist already (and so may the app's): keep them unless the
    # file asks otherwise.
    config.setdefault("disable_existing_loggers", False)
    try:
        logging.config.dictConfig(config)
    except (ValueError, TypeError, AttributeError, ImportError) as exc:
        raise ConfigError(f"log config {path}: dictConfig refused it: {exc}") from None


def _decode_log_config(text: str, suffix: str, path: str) -> object:
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".toml":
        import tomllib

        return tomllib.loads(text)
    if suffix in (".yaml", ".yml"):
        try:
            import yaml  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            raise ConfigError(
                f"log config {path}: YAML needs PyYAML: pip install pyyaml "
                "(or write the file as *.json or *.toml)"
            ) from None
        return yaml.safe_load(text)

    raise ConfigError(f"log config {path}: name it *.json, *.toml, *.yaml or *.yml")
