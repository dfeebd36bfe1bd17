"""Backend for CPython 3.14+: the public ``concurrent.interpreters`` API.

Shared-GIL ("legacy") interpreters are not offered by the public API; they are created
through ``_interpreters`` with the legacy config, then driven like the others.
"""

from __future__ import annotations

import _interpreters
import concurrent.interpreters as interpreters  # type: ignore[import-not-found,unused-ignore]
from typing import Any, Final

from ._common import UNBOUND
from ._lifecycle import (
    JOIN_THREADS,
    LIFECYCLE,
    THREADS_TIMEOUT,
    RunFailure,
    failure_from,
    share_static_types,
)

BATCHES: Final = False  # put_batch makes batches (see _backend/__init__.py)
NAME: Final = "cpython-concurrent.interpreters"

_interps: dict[int, Any] = {}
_queues: dict[int, Any] = {}


def new_interpreter(isolated: bool) -> int:
    share_static_types()
    with LIFECYCLE:
        if isolated:
            interp = interpreters.create()
        else:
            iid = _interpreters.create(_interpreters.new_config("legacy"), reqrefs=True)
            interp = interpreters.Interpreter(iid, _ownsref=True)
    _interps[interp.id] = interp
    return int(interp.id)


def destroy_interpreter(iid: int, threads_timeout: float = THREADS_TIMEOUT) -> None:
    interp = _interps.get(iid) or interpreters.Interpreter(iid)
    interp.prepare_main({"timeout": threads_timeout})
    try:
        interp.exec(JOIN_THREADS)  # outside the lock: see JOIN_THREADS
    except interpreters.ExecutionFailed as failed:
        raise RuntimeError(str(failed.excinfo.msg)) from None
    _interps.pop(iid, None)
    with LIFECYCLE:
        interp.close()


def run(iid: int, code: str, shared: dict[str, object]) -> RunFailure | None:
    interp = _interps.get(iid) or interpreters.Interpreter(iid)
    if shared:
        interp.prepare_main(shared)
    try:
        interp.exec(code)
    except interpreters.ExecutionFailed as failed:
        return failure_from(failed.excinfo)
    return None


def interpreter_ids() -> list[int]:
    return [int(interp.id) for interp in interpreters.list_all()]


def current_interpreter_id() -> int:
    return int(interpreters.get_current().id)


def _queue(qid: int) -> Any:
    queue = _queues.get(qid)
    if queue is None:
        queue = _queues[qid] = interpreters.Queue(qid)
    return queue


def create_queue(maxsize: int) -> int:
    queue = interpreters.create_queue(maxsize, unbounditems=interpreters.UNBOUND)
    _queues[queue.id] = queue
    return int(queue.id)


def destroy_queue(qid: int) -> None:
    _queues.pop(qid, None)


def put(qid: int, obj: object) -> None:
    _queue(qid).put_nowait(obj)


put_plain = put  # (queues share objects here: nothing to look for)


def put_batch(qid: int, envelopes: tuple[Any, ...]) -> bool:
    """Batches need bodies their receiver can read again after a restart: not here."""
    return False


def batch_envelopes(item: int) -> tuple[Any, ...] | None:
    raise NotImplementedError("this backend never makes batches")


def free_batch(item: int) -> None:
    raise NotImplementedError("this backend never makes batches")


def forget_lent(qid: int, msg_id: int) -> None:
    """Views travel by the public queues here: nothing is kept per ask."""


def unread_from(iids: Any) -> set[int]:
    """Items are objects shared by the queue here, not bodies in an arena: what an
    interpreter sent cannot be told apart (it is destroyed at once, as before)."""
    return set()


def get(qid: int) -> object:
    obj = _queue(qid).get_nowait()
    if obj is interpreters.UNBOUND:
        return UNBOUND
    return obj


def count(qid: int) -> int:
    return int(_queue(qid).qsize())
