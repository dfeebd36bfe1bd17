"""The host thread that runs one actor's worker in its interpreter, and what it reports.

The thread sits in the interpreter's ``exec`` for the worker's whole life and posts an
EXITED notice to the host's reply pump when it returns; a failed start is described by a
START_FAILED payload that :func:`start_error` turns into the typed error.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Final

from .. import __file__ as _package_file
from .. import _backend as backend
from .._exceptions import IsolationError, SpawnError
from .._wire import envelope as P
from .actor_logs import host_log_levels
from .messaging import answer_peer
from .options import SPAWN_OPTIONS

if TYPE_CHECKING:
    from .messaging import CellMessaging

__all__ = ("BOOT", "PACKAGE", "PRELUDE", "refuse_queued", "run_interpreter", "start_error")

log = logging.getLogger("interactors")

# CPython's refusal to load a single-phase-init extension in a second interpreter.
_LOADED_ONCE: Final = "cannot load module more than once per process"

# The type names a process actor's bridge gives a child that ended without a word.
_PROCESS_ENDED: Final = frozenset({"ProcessExit", "Killed"})

# Run first in a new interpreter, with ``path`` (the host's sys.path) and ``package`` shared.
# The package is loaded from the host's copy, not looked up on sys.path: a lookup would list
# every directory before the one that has it (site-packages often holds hundreds of names),
# and the interpreter keeps those listings, 20 KiB or more per actor. The actor also gets
# the host's very copy, even where sys.path names another one first. (A copy that is not
# a directory on disk, in a zip application say, is looked up on sys.path as usual.)
PRELUDE: Final = """\
import sys
sys.path[:] = list(path)
if package and "interactors" not in sys.modules:
    import _frozen_importlib, _frozen_importlib_external
    _frozen_importlib._load(_frozen_importlib_external.spec_from_file_location(
        "interactors", package[0], submodule_search_locations=[package[1]]
    ))
import interactors._inside.worker
"""
PACKAGE: Final = (
    (_package_file, os.path.dirname(_package_file))
    if _package_file and os.path.isfile(_package_file)
    else ()
)

BOOT: Final = f"""\
path = config[5]
{PRELUDE}
interactors._inside.worker.main(config)
"""


def run_interpreter(
    host_q: int, host_fd: int, actor_id: int, iid: int, token: int, config: tuple[Any, ...]
) -> None:
    """Host thread: run the worker until it returns, then post EXITED."""
    try:
        failure = backend.run(
            iid, BOOT, {"config": (*config, host_log_levels()), "package": PACKAGE}
        )
    except Exception as exc:  # e.g. the interpreter is gone: still report the exit
        failure = backend.RunFailure(type(exc).__qualname__, str(exc), "")
    info = None if failure is None else (failure.type_name, failure.message, failure.traceback)
    try:
        backend.put(host_q, (P.EXITED, actor_id, P.PLAIN, (iid, token, info, 0)))
        os.eventfd_write(host_fd, 1)
    except Exception:  # the system is gone (an abandoned actor finishing late)
        log.debug("actor %d exited after its system closed", actor_id)


def refuse_queued(taken: tuple[list[Any], int], error: tuple[Any, ...]) -> int:
    """Answer the asks left in the mailbox of an actor gone for good with ``error``, so
    that their askers never hang; ``taken`` is what ``Mailbox.take_all`` returned. Its
    tells cannot be handled any more: say how many (a warning), and return that number."""
    left, tells = taken
    for envelope in left:
        if envelope is not backend.UNBOUND and envelope[0] == P.ASK:
            answer_peer(envelope[5], envelope[6], (P.REPLY_CRASHED, envelope[1], P.PLAIN, error))
    if tells:
        s = "" if tells == 1 else "s"
        log.warning("%s, with %d tell%s left in its mailbox: not handled", error[1], tells, s)
    return tells


_OUT_OF_FDS = "[Errno 24]"  # EMFILE, as str(OSError) renders it


def start_error(cell: CellMessaging, info: tuple[Any, ...]) -> SpawnError:
    """The typed error for a START_FAILED payload."""
    why, extension, _exiting, type_name, message, text, _blob = info
    if why == P.FAIL_CODEC and extension:
        return IsolationError(
            f"cannot start actor {cell.name!r}: its codec {cell.codec.spec!r} cannot load in "
            f"an own-GIL (isolated) interpreter (the extension module {extension!r} refuses "
            'to). Use codec="pickle", or isolation="shared_gil" to keep this codec.',
            extension,
            text,
        )
    if why == P.FAIL_ISOLATION:
        return IsolationError(
            f"cannot start actor {cell.name!r}: {cell.target} imports the extension module "
            f"{extension!r}, which cannot load in an own-GIL (isolated) interpreter. "
            'Spawn it with isolation="process" (its own process, still in parallel), or '
            'isolation="auto" to choose that automatically.',
            extension,
            text,
        )
    if why == P.FAIL_IMPORT and type_name.endswith("UnguardedMainError"):
        return SpawnError(f"cannot start actor {cell.name!r}: {message}")  # says it all
    if _LOADED_ONCE in message:
        what = "an extension module it imports is loaded in another interpreter already"
        hint = (
            "A single-phase-init extension (numpy, for one) loads in one interpreter per "
            'process: with isolation="shared_gil" only one actor, or the host itself, can '
            'use it, and none runs in parallel. Spawn it with isolation="process" (or '
            '"auto", which chooses it).'
        )
    elif why == P.FAIL_IMPORT and not text and type_name in _PROCESS_ENDED:
        # A process actor's child died before it could say why (it reported nothing).
        what = "its process ended before the actor started"
        hint = (
            "What the process wrote to stderr says why: the actor's module, its __init__ "
            "or a C extension it loads may exit the process or crash it"
        )
        hint += "." if type_name == "ProcessExit" else " (or something outside killed it)."
    elif _OUT_OF_FDS in message or type_name == "MemoryError":
        what = "the process ran out of " + ("memory" if type_name == "MemoryError" else "fds")
        hint = (
            "Each actor holds a few file descriptors and some memory: raise the limit "
            "(ulimit -n), or run fewer actors at once. The others keep running."
        )
    elif why == P.FAIL_IMPORT:
        what = f"cannot import {cell.target.replace(':', '.')}"
        hint = "Check that the module is importable (sys.path) and defines that class."
    elif why == P.FAIL_CODEC:
        what = f"cannot load codec {cell.codec.spec!r}"
        hint = "Choose a codec that loads in the actor's interpreter."
    else:
        what = "its __init__ or on_start raised"
        hint = _option_hint(message) if type_name == "TypeError" else ""
        hint = hint or "See the remote traceback."
    return SpawnError(
        f"cannot start actor {cell.name!r} ({cell.target}): {what}: {type_name}: {message}. {hint}",
        text,
    )


# The keywords spawn() and ChildSpec() keep for themselves: __init__ does not get them.
_KEPT: Final = ("name", "restart", "shutdown", "significant", *SPAWN_OPTIONS)


def _option_hint(message: str) -> str:
    """For ``__init__() missing ... argument: 'name'`` when ``name`` is a spawn option."""
    taken = [f"'{kept}'" for kept in _KEPT if f"'{kept}'" in message]
    if "missing" not in message or not taken:
        return ""
    one = len(taken) == 1
    return (
        f"{' and '.join(taken)} {'is a keyword' if one else 'are keywords'} of spawn() and "
        f"ChildSpec() (the actor's options), so __init__ did not get {'it' if one else 'them'}."
        " Pass the value positionally (spawn(Class, value)), or rename the parameter."
    )
