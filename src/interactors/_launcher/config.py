"""Launcher settings: what ``interactors run`` reads from ``--config FILE`` and its options.

A config file is TOML (``.toml``) or JSON (``.json``) with the keys of :class:`Settings` at
the top level::

    backend = "trio"
    isolation = "auto"
    mailbox_size = 5000
    shutdown_timeout = 10
    log_format = "json"

It is decoded and validated by msgspec in one pass, by the rules ``ActorSystem(...)``
applies to the same arguments (``_host/options.py``: a bool is not an int, NaN and inf are
not seconds); a mistake raises :class:`ConfigError` naming the file and the key
(``Expected `int`, got `str` - at `$.mailbox_size```).
``INTERACTORS_*`` environment variables (``INTERACTORS_MAILBOX_SIZE=5000``) override the
file, and command-line options override both; each is validated by the same rules.

Host side only: imports msgspec.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec

from .._exceptions import ConfigError
from .._host.mailbox import DEFAULT_MAILBOX_SIZE
from .._host.options import DEFAULT_SHUTDOWN, Isolation, check_count, check_seconds
from .environ import PREFIX

__all__ = ("ConfigError", "Settings", "load_settings")

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
# "pickle", "msgspec" or "package.module:factory" (see interactors.Codec).
CodecSpec = Annotated[str, msgspec.Meta(pattern=r"^(pickle|msgspec|[\w.]+:[\w.]+)$")]


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """Everything the launcher can be told, with its defaults."""

    backend: Literal["asyncio", "trio"] = "asyncio"
    """The event loop that runs the app."""
    isolation: Isolation = "isolated"
    """Default isolation of the actors of the launcher's ActorSystem."""
    codec: CodecSpec = "pickle"
    """Default codec of message payloads."""
    mailbox_size: Annotated[int, msgspec.Meta(ge=1)] = DEFAULT_MAILBOX_SIZE
    """How many messages may wait in an actor's mailbox."""
    shutdown_timeout: Annotated[float, msgspec.Meta(gt=0)] = DEFAULT_SHUTDOWN
    """Seconds each actor gets to stop; the whole shutdown gets this plus a short grace."""
    spare_interpreters: Annotated[int, msgspec.Meta(ge=0)] = 0
    """Interpreters kept ready for fast replacement of dead actors."""
    log_level: LogLevel = "info"
    log_format: Literal["text", "json"] = "text"
    metrics_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = None
    """Export Prometheus metrics on this port (needs the ``metrics`` extra)."""
    metrics_host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        # The same rules as ActorSystem(...): msgspec's bounds let inf through.
        check_count("mailbox_size", self.mailbox_size, 1)
        check_seconds("shutdown_timeout", self.shutdown_timeout)
        check_count("spare_interpreters", self.spare_interpreters, 0)

    def system_options(self) -> dict[str, Any]:
        """Keyword arguments for :class:`~interactors.ActorSystem`."""
        return {
            "isolation": self.isolation,
            "codec": self.codec,
            "mailbox_size": self.mailbox_size,
            "shutdown_timeout": self.shutdown_timeout,
            "spare_interpreters": self.spare_interpreters,
            "control": True,  # for `interactors top` / `interactors stats`
            "metrics_port": self.metrics_port,
            "metrics_host": self.metrics_host,
        }


def load_settings(
    path: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from the defaults, then the file at ``path``, then ``environ``'s
    ``INTERACTORS_*`` variables (when given), then ``overrides``.

    ``overrides`` maps field names to values (``None`` values are ignored); each is
    validated on its own so that an error names it as a command-line option (or as the
    environment variable). Raises :class:`ConfigError`.
    """
    settings = Settings() if path is None else _read_file(Path(path))
    changes: dict[str, Any] = {}
    for key in Settings.__struct_fields__ if environ is not None else ():
        name = PREFIX + key.upper()
        text = environ.get(name, "").strip() if environ is not None else ""
        if text:  # strings from the environment: "5000" is an int here
            if key in _WORDS:
                text = text.lower()  # INTERACTORS_LOG_LEVEL=WARNING, as --log-level takes it
            changes[key] = _check(key, text, f"environment variable {name}", strict=False)
    for key, value in (overrides or {}).items():
        if value is not None:
            changes[key] = _check(key, value, "option --" + key.replace("_", "-"), strict=True)
    return msgspec.structs.replace(settings, **changes)


# Keys whose values are words, taken in any case from the environment and the command line.
_WORDS: Final = frozenset({"backend", "isolation", "log_level", "log_format"})


def _check(key: str, value: Any, origin: str, *, strict: bool) -> Any:
    try:
        checked = msgspec.convert({key: value}, Settings, strict=strict)
    except msgspec.ValidationError as exc:
        got = f" (got {value!r})" if isinstance(value, str) else ""
        raise ConfigError(f"{origin}: {_explain(exc)}{got}") from None
    return getattr(checked, key)


def _read_file(path: Path) -> Settings:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"config file {path}: name it *.toml or *.json (got {suffix!r})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it: {exc.strerror}") from None
    try:
        if suffix == ".toml":
            return msgspec.toml.decode(data, type=Settings)
        return msgspec.json.decode(data, type=Settings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"config file {path}: {_explain(exc)}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"config file {path}: not valid {suffix[1:].upper()}: {exc}") from None


def _explain(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    if text.startswith("Object contains unknown field"):
        text += f" (known keys: {', '.join(Settings.__struct_fields__)})"
    return text
