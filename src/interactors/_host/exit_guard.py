"""Leaving the process when threads that cannot end would make it hang at exit.

:func:`leave_now` ends the process with ``os._exit`` after flushing what can be flushed:
an abandoned actor (one that did not stop in time) keeps a non-daemon thread alive, and
interpreter finalization would wait for it forever. :func:`guard_process_exit` arms that
for the threads of abandoned actors. The launcher uses :func:`leave_now` for its forced exits too.

Stdlib only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from typing import NoReturn

__all__ = ("destroy_or_keep", "guard_kept_interpreter", "guard_process_exit", "leave_now")

log = logging.getLogger("interactors")


def leave_now(code: int, reason: str) -> NoReturn:
    """Log ``reason``, flush stdout, stderr and the logging handlers, then ``os._exit(code)``.

    Never returns and never raises: a failing flush (a stream closed or written to by the
    code this interrupted) is skipped.
    """
    # The exit must happen whatever logging and the streams do.
    with contextlib.suppress(Exception):
        log.error("leaving with exit code %d: %s", code, reason)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        logging.shutdown()
    os._exit(code)


_stuck_threads: list[tuple[threading.Thread, str]] = []


_kept_interpreters: list[int] = []


def guard_kept_interpreter(iid: int) -> None:
    """The same for an interpreter not destroyed because threads its actor started still
    ran: at exit it is destroyed if they ended meanwhile, else the process leaves without
    waiting for them (finalization would, forever)."""
    _kept_interpreters.append(iid)
    _register()


def destroy_or_keep(iid: int, whose: str, threads_timeout: float | None = None) -> bool:
    """Destroy ``iid``; if CPython refuses (it still runs, or threads its actor started
    do), say so, keep it under :func:`guard_kept_interpreter` and return False."""
    from .. import _backend as backend

    try:
        if threads_timeout is None:
            backend.destroy_interpreter(iid)
        else:
            backend.destroy_interpreter(iid, threads_timeout=threads_timeout)
    except Exception as exc:
        log.warning(
            "interpreter %d%s not destroyed: %s (stop them in the actor's on_stop)", iid, whose, exc
        )
        guard_kept_interpreter(iid)
        return False
    return True


def guard_process_exit(thread: threading.Thread, name: str) -> None:
    """Make sure a stuck actor cannot hang the process when it exits.

    Python joins every non-daemon thread before it exits, and an abandoned actor's thread
    may never end (its interpreter cannot be destroyed while it runs). So, if such threads
    are still alive when the process exits, report them and leave with ``os._exit`` after
    flushing, instead of hanging forever: code 130 when the program ends on an uncaught
    ``KeyboardInterrupt`` (Ctrl-C), else 1. This runs before the threads are joined
    (``threading``'s own exit hooks, the mechanism concurrent.futures uses).
    """
    _stuck_threads.append((thread, name))
    _register()


_registered = False


def _register() -> None:
    global _registered
    register = getattr(threading, "_register_atexit", None)
    if not _registered and register is not None:
        with contextlib.suppress(RuntimeError):  # already shutting down
            register(_leave_if_stuck)
            _registered = True


def _leave_if_stuck() -> None:
    from .. import _backend as backend

    why = []
    stuck = [name for thread, name in _stuck_threads if thread.is_alive()]
    if stuck:
        why.append(f"actors {', '.join(stuck)} did not stop and were abandoned")
    alive = set(backend.interpreter_ids())
    for iid in _kept_interpreters:
        if iid in alive:
            try:
                backend.destroy_interpreter(iid, threads_timeout=0.2)
            except Exception as exc:
                why.append(f"in interpreter {iid}, {exc}")
    if why:
        # The uncaught exception, if any, was printed and stored in sys.last_exc by now.
        interrupted = isinstance(getattr(sys, "last_exc", None), KeyboardInterrupt)
        leave_now(
            130 if interrupted else 1,
            "; ".join(why) + "; leaving without waiting for their threads",
        )
