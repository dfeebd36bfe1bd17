"""Starting the child process of a process actor (see :mod:`.process`), and ending an
unused one. Stdlib only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

__all__ = ("Booted", "boot", "discard")

_SRC: Final = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_BOOT: Final = (
    "import sys; sys.path.insert(0, {src!r}); "
    "from interactors._inside.process_main import main; main({fd}, {ppid}, {preload!r})"
)


Booted = tuple[subprocess.Popen[bytes], socket.socket]


def boot(preload: tuple[tuple[str, ...], tuple[str, ...]] | None = None) -> Booted:
    """Start a child process that imports the worker and waits for its configuration.

    ``preload``: ``(sys.path, module names)`` the child imports while it waits (what the
    system's process actors needed so far), so that an actor started in it, a restart
    above all, does not wait for those imports.

    Started with ``subprocess`` (fork and exec at once: safe in a threaded host, never a
    bare fork), in a new session so that a terminal's Ctrl-C reaches the host only, which
    then stops its actors in order. Call it from the thread that outlives the child: the
    child's PR_SET_PDEATHSIG fires when that thread ends.
    """
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        code = _BOOT.format(src=_SRC, fd=theirs.fileno(), ppid=os.getpid(), preload=preload)
        popen = subprocess.Popen(
            [sys.executable, "-c", code], pass_fds=(theirs.fileno(),), start_new_session=True
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return popen, ours


def discard(booted: Booted, wait: float = 2.0) -> None:
    """End an unused spare: it leaves when its channel closes (killed after ``wait``)."""
    popen, sock = booted
    sock.close()
    try:
        if wait:
            popen.wait(wait)
    except subprocess.TimeoutExpired:
        pass
    if popen.returncode is None:
        popen.kill()
        popen.wait()
