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

__all__ = ("guard_process_exit", "leave_now")

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


def guard_process_exit(thread: threading.Thread, name: str) -> None:
    """Make sure a stuck actor cannot hang the process when it exits.

    Python joins every non-daemon thread before it exits, and an abandoned actor's thread
    may never end (its interpreter cannot be destroyed while it runs). So, if such threads
    are still alive when the process exits, report them and leave with ``os._exit`` after
    flushing, instead of hanging forever: code 130 when the program ends on an uncaught
    ``KeyboardInterrupt`` (Ctrl-C), else 1. This runs before the threads are joined
    (``threading``'s own exit hooks, the mechanism concurrent.futures uses).
    """
    first = not _stuck_threads
    _stuck_threads.append((thread, name))
    register = getattr(threading, "_register_atexit", None)
    if first and register is not None:
        with contextlib.suppress(RuntimeError):  # already shutting down
            register(_leave_if_stuck)


def _leave_if_stuck() -> None:
    stuck = [name for thread, name in _stuck_threads if thread.is_alive()]
    if stuck:
        # The uncaught exception, if any, was printed and stored in sys.last_exc by now.
        interrupted = isinstance(getattr(sys, "last_exc", None), KeyboardInterrupt)
        leave_now(
            130 if interrupted else 1,
            f"actors {', '.join(stuck)} did not stop and were abandoned; "
            "leaving without waiting for their threads",
        )
