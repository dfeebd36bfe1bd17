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
        return f"{module}:{qualname}", ""
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
        return f"{module}:{qualname}", ""
    main = sys.modules["__main__"]
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name not in (None, "__main__"):
        return f"__main__:{qualname}", f"module:{spec.name}"
    path = getattr(main, "__file__", None)
    if not path:
        raise SpawnError(
            f"cannot spawn {qualname}: it is defined in an interactive session or a -c "
            "string, which the actor's interpreter cannot import. Put it in a module."
        )
    # Objects of classes from the main script come back named __mp_main__ (as with
    # multiprocessing's spawn start method): make that name resolve here too.
    sys.modules.setdefault("__mp_main__", main)
    return f"__main__:{qualname}", os.path.abspath(path)
