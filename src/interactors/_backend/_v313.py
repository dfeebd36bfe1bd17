"""Backend for CPython 3.13: the private ``_interpreters`` and ``_interpqueues`` modules."""

from __future__ import annotations

import _interpqueues
import _interpreters  # (in actors too: a queue item with a memoryview needs it imported)

from ._arena import (
    BATCH_FLAG,
    IN_MAIN,
    decode,
    discard,
    encode,
    encode_batch,
    encode_large,
    has_buffers,
    read_batch,
)
from ._arena import unread_from as unread_from
from ._common import (
    BATCHED,
    JOIN_THREADS,
    LIFECYCLE,
    THREADS_TIMEOUT,
    UNBOUND,
    RunFailure,
    close_leaked_init_files,
    failure_from,
    open_fds,
)
from ._lending import _borrowed, _lent, answering, borrow, forget, lend, settle

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

BATCHES: Final = True  # put_batch makes batches (see _backend/__init__.py)
NAME: Final = "cpython-3.13-private"

# Queue item format (opaque to CPython, we never pickle through the queue) and what
# happens to items whose sending interpreter is destroyed: 3 = replace with a marker, so
# a lost message is detected and reported instead of vanishing.
_FMT: Final = 0
_UNBOUND_REPLACE: Final = 3

_queue_put = _interpqueues.put
_queue_get = _interpqueues.get
count = _interpqueues.get_count


def new_interpreter(isolated: bool) -> int:
    config = _interpreters.new_config("isolated" if isolated else "legacy")
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


def current_interpreter_id() -> int:
    current: Any = _interpreters.get_current()
    return int(current[0])


def create_queue(maxsize: int) -> int:
    qid: int = _interpqueues.create(maxsize, _FMT, _UNBOUND_REPLACE)
    return qid


def destroy_queue(qid: int) -> None:
    """Destroy a queue, freeing the bodies of the items still in it."""
    try:
        while _interpqueues.get_count(qid):
            obj, _fmt, unbound = _queue_get(qid)
            if unbound is None and type(obj) is int:
                discard(obj)
        _interpqueues.destroy(qid)
    except _interpqueues.QueueNotFoundError:
        pass


def put(qid: int, obj: object) -> None:
    """Put ``obj`` as an int item whose body is in shared memory (see ``_arena``).

    The main interpreter (the host, which outlives every actor) puts envelopes carrying
    buffers as they are: the queue shares a memoryview without copying it, and the
    receiver releases it back into the host, which is always there.
    """
    if not has_buffers(obj):
        put_plain(qid, obj)
    elif IN_MAIN:
        lend(obj)  # first: the answer may be read as soon as the ask is in the queue
        _queue_put(qid, obj, _FMT, _UNBOUND_REPLACE)
    else:
        _put_item(qid, encode_large(obj, answering(qid, obj) if _borrowed else ()))


def put_plain(qid: int, obj: object) -> None:
    """:func:`put` for an envelope the caller knows holds no buffers (no memoryview, no
    long str or bytes): the host's ask with plain arguments skips looking for them."""
    if _borrowed:
        answering(qid, obj)  # (an answer without the views: forget them)
    item = encode(obj)
    try:
        _queue_put(qid, item, _FMT, _UNBOUND_REPLACE)
    except BaseException:
        discard(item)
        raise


def _put_item(qid: int, item: int) -> None:
    """Put an item made here, freeing its body if the queue refuses it."""
    try:
        _queue_put(qid, item, _FMT, _UNBOUND_REPLACE)
    except BaseException:
        discard(item)
        raise


forget_lent = forget  # an ask that lent views ended without its answer read


def put_batch(qid: int, envelopes: tuple[Any, ...]) -> bool:
    """Put several envelopes (small, no buffers) as one item; False if they are too
    large for one (send them one by one then). Raises queue.Full when the queue is."""
    item = encode_batch(envelopes)
    if item < 0:
        return False
    _put_item(qid, item)
    return True


# The envelopes of a batch that ``get`` returned as ``(BATCHED, item)``, read again as
# often as needed until it is freed (None if its sender is gone).
batch_envelopes = read_batch
free_batch = discard


def get(qid: int) -> object:
    obj, _fmt, unbound = _queue_get(qid)
    if unbound is not None:
        return UNBOUND
    if type(obj) is int:
        if obj >= BATCH_FLAG:
            return (BATCHED, obj)
        found, obj = decode(obj, qid)
        if not found:
            return UNBOUND
    elif not IN_MAIN:
        borrow(obj)  # put by the host as it is
    if _lent:  # the host reads an answer to an ask that lent views (a test, not a call)
        settle(qid, obj)
    return obj
