"""The only code that touches CPython's interpreter and queue APIs.

Everything else in interactors talks to interpreters and cross-interpreter queues through
the small interface below, by plain integer ids. The implementation is chosen by feature
detection: ``concurrent.interpreters`` (the public API of Python 3.14+) when it exists,
else the private ``_interpreters`` / ``_interpqueues`` modules of Python 3.13.

Stdlib only: this package is imported inside actors' interpreters, where only the
functions that send and receive exist (the others, which create and destroy interpreters
and queues, are the host's: they are defined in the main interpreter of a process).

Interface (module-level functions of the selected implementation)::

    new_interpreter(isolated: bool) -> int
    destroy_interpreter(iid: int, threads_timeout: float = 5.0) -> None
                                             # RuntimeError if its threads outlive that
    run(iid: int, code: str, shared: dict[str, object]) -> RunFailure | None   # blocks
    interpreter_ids() -> list[int]
    current_interpreter_id() -> int
    own_gil() -> bool                        # this interpreter has a GIL of its own
    create_queue(maxsize: int) -> int
    destroy_queue(qid: int) -> None
    put(qid: int, obj: object) -> None       # raises queue.Full when full
    put_plain(qid: int, obj: object) -> None # put, for an envelope the caller knows holds no
                                             # memoryview and no str/bytes of 64 KiB or more
    get(qid: int) -> object                  # raises queue.Empty when empty
    put_when_room(qid, obj, wait: bool)      # put; while full, sleep and retry (or, not
                                             # waiting, queue.Full); is_full(exc) tells
    count(qid: int) -> int
    unread_from(iids) -> set[int]            # those that sent a message that may still wait
                                             # in a queue (destroying one: UNBOUND items)
    put_batch(qid: int, envelopes: tuple) -> bool
                        # several small envelopes as one item (False: not here, or too
                        # large); get returns it as (BATCHED, item), and the receiver
                        # reads batch_envelopes(item) as often as needed, then
                        # free_batch(item): a restarted actor goes on where it was

Queue items must be shareable: None, bool, int, float, str, bytes, memoryview and tuples
of those. Items whose sending interpreter is destroyed are replaced by ``UNBOUND``: the
host destroys an interpreter once ``unread_from`` says its messages have been read.
"""

from __future__ import annotations

import _interpreters
import os
import sys
import time

from ._common import BATCHED, UNBOUND


def _has_public_api() -> bool:
    """Whether the stdlib has ``concurrent.interpreters`` (PEP 734, Python 3.14+). Looked
    up as a file, not imported: the failed import on 3.13 would leave the ``concurrent``
    package and a listing of the stdlib's directory in every actor's interpreter (13 KiB
    each). Without a stdlib directory (a zipped stdlib), the import tells."""
    stdlib = getattr(sys, "_stdlib_dir", None)
    if stdlib:
        found = os.path.join(stdlib, "concurrent", "interpreters")
        return os.path.exists(found) or os.path.exists(found + ".py")
    try:
        import concurrent.interpreters  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
    except ImportError:
        return False
    return True  # pragma: no cover - Python 3.14+


IN_MAIN = _interpreters.get_current()[0] == 0  # the host (a process actor's too)

if not _has_public_api():
    from . import _v313 as _implementation

    if IN_MAIN:
        from . import _v313_host as _host_half
else:  # pragma: no cover - exercised only on Python 3.14+
    from . import _v314 as _host_half  # type: ignore[no-redef]
    from . import _v314 as _implementation  # type: ignore[no-redef]

NAME = _implementation.NAME
BATCHES = _implementation.BATCHES
batch_envelopes = _implementation.batch_envelopes
free_batch = _implementation.free_batch
put_batch = _implementation.put_batch
forget_lent = _implementation.forget_lent
count = _implementation.count
current_interpreter_id = _implementation.current_interpreter_id
get = _implementation.get
put = _implementation.put
put_plain = _implementation.put_plain

# The host's half: creating and destroying interpreters and queues. An actor's
# interpreter does not load it (what it would hold for nothing: about 10 KiB each).
if IN_MAIN:
    from ._lifecycle import RunFailure

    create_queue = _host_half.create_queue
    destroy_interpreter = _host_half.destroy_interpreter
    destroy_queue = _host_half.destroy_queue
    interpreter_ids = _host_half.interpreter_ids
    new_interpreter = _host_half.new_interpreter
    run = _host_half.run
    unread_from = _host_half.unread_from

_FULL_BACKOFF_MAX = 0.01


def own_gil() -> bool:
    """Whether this interpreter has a GIL of its own: a process's main interpreter, or an
    isolated actor's (not a ``shared_gil`` actor's, whose GIL is the host's)."""
    try:
        return bool(_interpreters.get_config(_interpreters.get_current()[0]).gil == "own")
    except Exception:  # pragma: no cover - an interpreter API that differs
        return False


def put_when_room(qid: int, obj: object, wait: bool) -> None:
    """``put``; while the queue is full, retry after a short, growing sleep (the calling
    thread only), or raise ``queue.Full`` at once when not ``wait``. Any other error (the
    queue is gone: its actor stopped for good) propagates. For senders without an event
    loop: an actor's refs, a plain thread's."""
    delay = 0.0
    while True:
        try:
            put(qid, obj)
            return
        except Exception as exc:
            if not wait or not is_full(exc):
                raise
        delay = min(_FULL_BACKOFF_MAX, delay * 2 or 1e-5)
        time.sleep(delay)


def is_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the queue is full (``queue`` is imported only then: actors
    that never fill a mailbox do not pay for it)."""
    import queue

    return isinstance(exc, queue.Full)


__all__ = (
    "BATCHED",
    "BATCHES",
    "NAME",
    "UNBOUND",
    "RunFailure",
    "batch_envelopes",
    "count",
    "create_queue",
    "current_interpreter_id",
    "destroy_interpreter",
    "destroy_queue",
    "forget_lent",
    "free_batch",
    "get",
    "interpreter_ids",
    "is_full",
    "new_interpreter",
    "own_gil",
    "put",
    "put_batch",
    "put_plain",
    "put_when_room",
    "run",
    "unread_from",
)
