"""Options of actors, supervisors and systems: their names, defaults and checks, in one place.

``spawn``, ``ChildSpec``, ``Supervisor``, ``Backoff`` and ``ActorSystem(...)`` check their
arguments here, and the settings file schema (``_launcher/config.py``) states the same
rules. A bad value raises ``TypeError`` (wrong type) or ``ValueError`` (out of range) naming
the argument and the value. ``bool`` is not accepted as a number, and NaN or infinity is
refused wherever a finite number of seconds or a count is needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal

Isolation = Literal["isolated", "shared_gil", "process", "auto"]
ISOLATIONS: Final = ("isolated", "shared_gil", "process", "auto")
ON_ERROR: Final = ("resume", "restart", "stop")
DEFAULT_ON_ERROR: Final = "resume"
STRATEGIES: Final = ("one_for_one", "one_for_all", "rest_for_one")
RESTARTS: Final = ("permanent", "transient", "temporary")
DEFAULT_SHUTDOWN: Final = 5.0
# Options of one actor that spawn() and ChildSpec take besides its constructor's arguments.
SPAWN_OPTIONS: Final = (
    "isolation",
    "codec",
    "mailbox_size",
    "max_concurrency",
    "on_error",
    "handler_timeout",
    "fresh_interpreter",
)
_HEAPTYPE: Final = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined by a class statement


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")


def check_isolation(isolation: object) -> None:
    check_choice("isolation", isolation, ISOLATIONS)


def check_count(name: str, value: object, minimum: int) -> int:
    """An int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return value


def check_seconds(name: str, value: object, *, zero_ok: bool = False) -> float:
    """A finite number of seconds, above zero (or at least zero with ``zero_ok``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        bound = "at least 0" if zero_ok else "more than 0"
        raise ValueError(f"{name} must be a finite number of seconds, {bound}, got {value!r}")
    return float(value)


def check_fraction(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if not 0 <= value <= 1:  # NaN fails this too
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


def check_name(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise TypeError(f"{name} must be a non-empty str or None, got {value!r}")


def check_actor(actor: object) -> None:
    """An actor is a class defined in Python (usually an ``interactors.Actor`` subclass)
    or an import path ``"package.module:Class"``."""
    if isinstance(actor, str):
        return
    if not isinstance(actor, type):
        raise TypeError(
            f"actor must be an actor class or an import path 'package.module:Class', got {actor!r}"
        )
    if actor.__module__ == "builtins" or not actor.__flags__ & _HEAPTYPE:
        raise TypeError(
            f"actor must be a class defined in Python (subclass interactors.Actor), got "
            f"the built-in type {actor.__qualname__!r}"
        )


def check_spawn_options(options: Mapping[str, Any]) -> None:
    """Check the spawn options that are set (``None`` means "the default")."""
    unknown = set(options) - set(SPAWN_OPTIONS)
    if unknown:
        raise TypeError(f"unknown spawn options: {', '.join(sorted(unknown))}")
    if options.get("isolation") is not None:
        check_isolation(options["isolation"])
    if options.get("mailbox_size") is not None:
        check_count("mailbox_size", options["mailbox_size"], 1)
    if options.get("max_concurrency") is not None:
        check_count("max_concurrency", options["max_concurrency"], 1)
    if options.get("on_error") is not None:
        check_choice("on_error", options["on_error"], ON_ERROR)
    if options.get("handler_timeout") is not None:
        check_seconds("handler_timeout", options["handler_timeout"])
    fresh = options.get("fresh_interpreter")
    if fresh is not None and not isinstance(fresh, bool):
        raise TypeError(f"fresh_interpreter must be True or False, got {fresh!r}")
    codec = options.get("codec")
    if codec is not None and not isinstance(codec, str) and not hasattr(codec, "encode"):
        raise TypeError(f"codec must be 'pickle', 'msgspec' or a Codec, got {codec!r}")


def check_class_options(cls: type) -> None:
    """The tuning class attributes of an actor class follow the spawn options' rules."""
    for attribute, check in (
        ("mailbox_size", lambda v: check_count(f"{cls.__qualname__}.mailbox_size", v, 1)),
        ("max_concurrency", lambda v: check_count(f"{cls.__qualname__}.max_concurrency", v, 1)),
        ("on_error", lambda v: check_choice(f"{cls.__qualname__}.on_error", v, ON_ERROR)),
        ("handler_timeout", lambda v: check_seconds(f"{cls.__qualname__}.handler_timeout", v)),
    ):
        value = getattr(cls, attribute, None)
        if value is not None:
            check(value)
    for attribute, what in (("name", "its name"), ("ref", "its own ref")):
        if callable(getattr(cls, attribute, None)):
            raise TypeError(
                f"{cls.__qualname__}.{attribute} is a method, but interactors sets "
                f"self.{attribute} on every actor ({what}), so it could never be called as a "
                "message: rename the method"
            )


def check_shutdown(name: str, value: object) -> None:
    if value is not None:
        check_seconds(name, value)
