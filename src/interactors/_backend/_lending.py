"""Memoryviews the host lends to an actor, and an actor's answer that hands one back.

The host puts an ask carrying memoryviews into a queue as it is: the actor receives views
of the host's memory, with no copy. If the handler returns one of those views (an echo,
or a buffer filled in place), copying 64 MiB back would be wasted, and sharing the
actor's view back is unsafe (a view must never outlive the interpreter that exports it).
So both sides remember the views of each such ask, keyed by ``(reply queue, msg_id)``:
the host keeps its own views (:data:`_lent`) until the reply is read, the actor keeps the
views it received (:data:`_borrowed`) until it replies. A reply whose memoryview *is* one
of the received views travels as its index (see ``_arena``'s ``_LENT``), and the host
answers with its own original view: the same memory, owned by the host, zero copies.

Stdlib only (imported inside actors' interpreters).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

_ASK: Final = 1  # (``_wire.envelope``'s kinds; this module stays a leaf)
_REPLY_FIRST: Final = 10
_REPLY_LAST: Final = 12
_BORROWED_MAX: Final = 256

_lent: dict[tuple[int, int], tuple[memoryview, ...]] = {}  # host: views sent with asks
_borrowed: dict[tuple[int, int], tuple[memoryview, ...]] = {}  # actor: views received


def _views(envelope: Any) -> tuple[memoryview, ...]:
    """The memoryviews of an ask's payload, in order (an encoded payload is a tuple);
    anything else put on a queue (not an ask envelope) has none."""
    if type(envelope) is not tuple or len(envelope) < 8 or type(envelope[0]) is not int:
        return ()
    if envelope[0] != _ASK:
        return ()
    payload = envelope[4]
    if type(payload) is not tuple:
        return ()
    return tuple(item for item in payload if type(item) is memoryview)


def _is_reply(envelope: Any) -> bool:
    if type(envelope) is not tuple or len(envelope) < 2:
        return False
    kind = envelope[0]
    return type(kind) is int and _REPLY_FIRST <= kind <= _REPLY_LAST


def lend(envelope: Any) -> None:
    """Host: an ask with memoryviews goes out as it is; keep its views for the answer."""
    views = _views(envelope)
    if views:
        _lent[(envelope[5], envelope[1])] = views


def borrow(envelope: Any) -> None:
    """Actor: an ask from the host arrived with views of the host's memory."""
    views = _views(envelope)
    if views:
        if len(_borrowed) >= _BORROWED_MAX:  # asks never answered (a crash): drop
            del _borrowed[next(iter(_borrowed))]
        _borrowed[(envelope[5], envelope[1])] = views


def answering(qid: int, envelope: Any) -> tuple[memoryview, ...]:
    """Actor: the views borrowed for the ask that ``envelope`` (put on ``qid``) answers."""
    if _borrowed and _is_reply(envelope):
        return _borrowed.pop((qid, envelope[1]), ())
    return ()


def index_of(view: memoryview, borrowed: tuple[memoryview, ...]) -> int:
    """Which borrowed view ``view`` is (a pickle-5 ``raw()`` of it counts), else -1."""
    for i, lent in enumerate(borrowed):
        if (view is lent or view.obj is lent) and view.nbytes == lent.nbytes:
            return i
    return -1


def lent_view(qid: int, msg_id: int, index: int) -> memoryview | None:
    """Host: the original view an answer refers to; None once the ask was forgotten
    (cancelled: nobody reads that answer)."""
    views = _lent.get((qid, msg_id))
    return None if views is None else views[index]


def settle(qid: int, envelope: Any) -> None:
    """Host: the answer to an ask was read; its views are the caller's business again."""
    if _lent and _is_reply(envelope):
        _lent.pop((qid, envelope[1]), None)


def forget(qid: int, msg_id: int) -> None:
    """Host: an ask ended without its reply being read (cancelled, the actor crashed)."""
    if _lent:
        _lent.pop((qid, msg_id), None)
