"""``INTERACTORS_*`` environment variables and ``--env-file FILE`` for ``interactors run``.

Every option of ``interactors run`` can also be given as an environment variable named
``INTERACTORS_`` + the option's name in capitals with ``_`` for ``-`` (``--log-level`` is
``INTERACTORS_LOG_LEVEL``), and so can every key of the settings file
(``INTERACTORS_MAILBOX_SIZE``). The order of precedence is: defaults < settings file <
environment < command line. Flags take ``1``/``true``/``yes``/``on`` or
``0``/``false``/``no``/``off``; options given several times take a comma-separated list
(``INTERACTORS_RELOAD_DIR=src,lib``).

``--env-file FILE`` loads ``KEY=VALUE`` lines into ``os.environ`` before anything else is
read, without overriding variables already set: blank lines and ``#`` comments are
skipped, an ``export`` prefix is allowed, and a value may be quoted (``'...'`` literally,
``"..."`` with ``\\n``, ``\\t``, ``\\"`` and ``\\\\`` escapes); an unquoted value ends at
`` #``.

Host side only, stdlib only (imported before the heavy modules).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, MutableMapping
from typing import Final

from .._exceptions import ConfigError

__all__ = ("PREFIX", "env_flag", "env_list", "env_name", "load_env_file", "parse_env")

PREFIX: Final = "INTERACTORS_"
_LINE: Final = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_TRUE: Final = ("1", "true", "yes", "on")
_FALSE: Final = ("0", "false", "no", "off", "")


def env_name(option: str) -> str:
    """The variable of an option or settings key: ``log-level`` -> ``INTERACTORS_LOG_LEVEL``."""
    return PREFIX + option.lstrip("-").replace("-", "_").upper()


def env_flag(option: str, environ: Mapping[str, str] | None = None) -> bool:
    """The value of a flag's variable (False when unset); ConfigError when not a boolean."""
    name = env_name(option)
    value = (os.environ if environ is None else environ).get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"environment variable {name}: expected 1/true/yes/on or 0/false/no/off")


def env_list(option: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """The comma-separated items of an option's variable ([] when unset)."""
    value = (os.environ if environ is None else environ).get(env_name(option), "")
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_env(text: str, origin: str = "env file") -> dict[str, str]:
    """The variables of a ``.env`` text; ConfigError naming the line when one is not valid."""
    found: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ConfigError(f"{origin}, line {number}: expected KEY=VALUE (got {raw!r})")
        key, value = match[1], match[2]
        found[key] = _value(value, f"{origin}, line {number}")
    return found


def _value(value: str, where: str) -> str:
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = _closing(value, quote)
        if end < 0:
            raise ConfigError(f"{where}: the value has no closing {quote}")
        rest = value[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise ConfigError(f"{where}: unexpected text after the closing {quote}: {rest!r}")
        inner = value[1:end]
        if quote == "'":
            return inner
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[0]), inner)
    return value.split(" #", 1)[0].strip()


def _closing(value: str, quote: str) -> int:
    index = 1
    while index < len(value):
        if value[index] == "\\" and quote == '"':
            index += 2
            continue
        if value[index] == quote:
            return index
        index += 1
    return -1


def load_env_file(path: str, environ: MutableMapping[str, str] | None = None) -> None:
    """Set the variables of the ``.env`` file at ``path`` that are not set already."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ConfigError(f"env file {path}: cannot read it: {exc.strerror}") from None
    target = os.environ if environ is None else environ
    for key, value in parse_env(text, f"env file {path}").items():
        target.setdefault(key, value)
