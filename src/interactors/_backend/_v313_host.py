"""Backend for CPython 3.13, the host's half: creating and destroying interpreters and
queues, running code in an interpreter, and telling which stopped interpreters sent
messages not read yet. Only the main interpreter of a process loads it (``_backend``
imports it there): code that every actor's interpreter would hold for nothing.
"""

from __future__ import annotations

import _interpqueues
import _interpreters
import os

from ._arena import FLAGS, discard
from ._lifecycle import (
    JOIN_THREADS,
    LIFECYCLE,
    THREADS_TIMEOUT,
    RunFailure,
    close_leaked_init_files,
    failure_from,
    open_fds,
    share_static_types,
)
from ._v313 import FMT, UNBOUND_REPLACE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def new_interpreter(isolated: bool) -> int:
    config = _interpreters.new_config("isolated" if isolated else "legacy")
    share_static_types()
    with LIFECYCLE:
        before = open_fds()
        try:
            iid: int = _interpreters.create(config)
        except BaseException:
            close_leaked_init_files(before)
            raise
        # Python 3.13.0 counts the _interpqueues module's instances (one per interpreter
        # that imports it) without a lock (cpython#125716, fixed in 3.13.1): an import in
        # an actor's thread racing a destroy in another thread can lose an increment, and
        # once the count reaches zero early, every queue of the process is freed under
        # the host, which crashes in the next queue call. So the new interpreter imports
        # it here, under the same lock as every destroy.
        info: Any = _interpreters.exec(iid, "import _interpqueues")
        if info is not None:
            _interpreters.destroy(iid)
            raise RuntimeError(f"a new interpreter cannot import _interpqueues: {info.msg}")
    return iid


def destroy_interpreter(iid: int, threads_timeout: float = THREADS_TIMEOUT) -> None:
    """Destroy ``iid`` once the threads its actor started have ended; raise RuntimeError,
    leaving it alone, if some still run after ``threads_timeout`` seconds."""
    info: Any = _interpreters.exec(iid, JOIN_THREADS, {"timeout": threads_timeout})
    if info is not None:
        raise RuntimeError(str(info.msg))
    with LIFECYCLE:
        _interpreters.destroy(iid)


def run(iid: int, code: str, shared: dict[str, object]) -> RunFailure | None:
    info: Any = _interpreters.exec(iid, code, shared)
    if info is None:
        return None
    return failure_from(info)


def interpreter_ids() -> list[int]:
    return [entry[0] for entry in _interpreters.list_all()]


def create_queue(maxsize: int) -> int:
    qid: int = _interpqueues.create(maxsize, FMT, UNBOUND_REPLACE)
    return qid


def destroy_queue(qid: int) -> None:
    """Destroy a queue, freeing the bodies of the items still in it."""
    try:
        while _interpqueues.get_count(qid):
            obj, _fmt, unbound = _interpqueues.get(qid)
            if unbound is None and type(obj) is int:
                discard(obj)
        _interpqueues.destroy(qid)
    except _interpqueues.QueueNotFoundError:
        pass


def unread_from(iids: Any) -> set[int]:
    """Which of the interpreters ``iids`` sent a message that may still wait in a queue:
    one of its arenas has a busy slot, or a message memfd it made is still open (its
    receiver closes it on reading). Destroying such an interpreter would turn those
    items into ``UNBOUND`` (CPython drops what a destroyed interpreter put), so the host
    waits first. One pass over this process's fds; busy bytes are read with ``pread``."""
    wanted = {str(iid): iid for iid in iids}
    unread: set[int] = set()
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # no fd left to read the directory with: cannot tell yet
        return set(wanted.values())
    for name in names:
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # closed meanwhile
            continue
        if not target.startswith("/memfd:interactors-"):
            continue
        kind, _, rest = target[len("/memfd:interactors-") :].partition("-")
        iid = wanted.get(rest.partition(" ")[0])
        if iid is None or iid in unread:
            continue
        if kind == "message":
            unread.add(iid)
        elif kind == "arena":
            try:
                busy = os.pread(int(name), FLAGS, 0)
            except OSError:
                continue
            if busy.count(0) != FLAGS:
                unread.add(iid)
    return unread
