"""Naming an actor's class so that its own interpreter can import it."""

from __future__ import annotations

import os
import re
import sys
from typing import Final

from .._exceptions import SpawnError

_DOTTED: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def resolve_target(actor: type | str) -> tuple[str, str]:
    """``(target, main_path)`` for an actor class or an import path ``"pkg.mod:Class"``."""
    if isinstance(actor, str):
        module, sep, qualname = actor.partition(":")
        if not sep:
            module, _, qualname = actor.rpartition(".")
        if not (_DOTTED.match(module or "") and _DOTTED.match(qualname or "")):
            raise SpawnError(f"bad actor path {actor!r}: write it as 'package.module:ClassName'")
        return f"{module}:{qualname}", host_main_path()
    if not isinstance(actor, type):
        raise TypeError(f"spawn() takes an actor class or 'module:Class', got {actor!r}")
    qualname = actor.__qualname__
    if "<locals>" in qualname:
        raise SpawnError(
            f"cannot spawn {qualname}: it is defined inside a function, so the actor's "
            "interpreter cannot import it. Move the class to module level."
        )
    module = actor.__module__
    if module != "__main__":
        return f"{module}:{qualname}", host_main_path()
    main_path = host_main_path()
    if not main_path:
        raise SpawnError(
            f"cannot spawn {qualname}: it is defined in an interactive session or a -c "
            "string, which the actor's interpreter cannot import. Put it in a module."
        )
    return f"__main__:{qualname}", main_path


def host_main_path() -> str:
    """How an actor loads the host's main script, if it needs to (its class is defined
    there, or a value of one of its classes arrives): the script's path, ``module:NAME``
    for ``python -m NAME``, or ``""`` (an interactive session, a ``-c`` string)."""
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name not in (None, "__main__"):
        return f"module:{spec.name}"
    path = getattr(main, "__file__", None)
    if not path:
        return ""
    # Objects of classes from the main script come back named __mp_main__ (as with
    # multiprocessing's spawn start method): make that name resolve here too.
    sys.modules.setdefault("__mp_main__", main)
    return os.path.abspath(str(path))


class UnguardedMainError(RuntimeError):
    """Actors started at module level of a script that an actor's interpreter imports."""


def check_not_importing_main(what: str) -> None:
    """Refuse to start actors while an actor's interpreter imports the main script.

    To find a class defined in the main script, an actor's interpreter imports that script
    as ``__mp_main__`` (as multiprocessing's spawn does); module-level code that starts
    actors would run again there and start actors of its own, recursively.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__mp_main__":
            raise UnguardedMainError(
                f"{what} was called while an actor's interpreter imported the main script "
                f"{frame.f_code.co_filename} to find an actor class: put the code that starts "
                "actors under `if __name__ == '__main__':`."
            )
        frame = frame.f_back  # type: ignore[assignment]
