"""Backend for CPython 3.13: the private ``_interpreters`` and ``_interpqueues`` modules.

What both sides do (queues' put and get, batches, lent views). Creating and destroying
interpreters and queues is the host's alone: ``_v313_host``, which actors never load.
"""

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
from ._common import BATCHED, UNBOUND
from ._lending import _borrowed, _lent, answering, borrow, forget, lend, settle

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

BATCHES: Final = True  # put_batch makes batches (see _backend/__init__.py)
NAME: Final = "cpython-3.13-private"

# Queue item format (opaque to CPython, we never pickle through the queue) and what
# happens to items whose sending interpreter is destroyed: 3 = replace with a marker, so
# a lost message is detected and reported instead of vanishing.
FMT: Final = 0
UNBOUND_REPLACE: Final = 3

_queue_put = _interpqueues.put
_queue_get = _interpqueues.get
count = _interpqueues.get_count


def current_interpreter_id() -> int:
    current: Any = _interpreters.get_current()
    return int(current[0])


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
        _queue_put(qid, obj, FMT, UNBOUND_REPLACE)
    else:
        _put_item(qid, encode_large(obj, answering(qid, obj) if _borrowed else ()))


def put_plain(qid: int, obj: object) -> None:
    """:func:`put` for an envelope the caller knows holds no buffers (no memoryview, no
    long str or bytes): the host's ask with plain arguments skips looking for them."""
    if _borrowed:
        answering(qid, obj)  # (an answer without the views: forget them)
    item = encode(obj)
    try:
        _queue_put(qid, item, FMT, UNBOUND_REPLACE)
    except BaseException:
        discard(item)
        raise


def _put_item(qid: int, item: int) -> None:
    """Put an item made here, freeing its body if the queue refuses it."""
    try:
        _queue_put(qid, item, FMT, UNBOUND_REPLACE)
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
