"""The only code that touches CPython's interpreter and queue APIs.

Everything else in interactors talks to interpreters and cross-interpreter queues through
the small interface below, by plain integer ids. The implementation is chosen by feature
detection: ``concurrent.interpreters`` (the public API of Python 3.14+) when it exists,
else the private ``_interpreters`` / ``_interpqueues`` modules of Python 3.13.

Stdlib only: this package is imported inside actors' interpreters.

Interface (module-level functions of the selected implementation)::

    new_interpreter(isolated: bool) -> int
    destroy_interpreter(iid: int, threads_timeout: float = 5.0) -> None
                                             # RuntimeError if its threads outlive that
    run(iid: int, code: str, shared: dict[str, object]) -> RunFailure | None   # blocks
    interpreter_ids() -> list[int]
    current_interpreter_id() -> int
    create_queue(maxsize: int) -> int
    destroy_queue(qid: int) -> None
    put(qid: int, obj: object) -> None       # raises queue.Full when full
    put_plain(qid: int, obj: object) -> None # put, for an envelope the caller knows holds no
                                             # memoryview and no str/bytes of 64 KiB or more
    get(qid: int) -> object                  # raises queue.Empty when empty
    count(qid: int) -> int
    put_batch(qid: int, envelopes: tuple) -> bool
                        # several small envelopes as one item (False: not here, or too
                        # large); get returns it as (BATCHED, item), and the receiver
                        # reads batch_envelopes(item) as often as needed, then
                        # free_batch(item): a restarted actor goes on where it was

Queue items must be shareable: None, bool, int, float, str, bytes, memoryview and tuples
of those. Items whose sending interpreter is destroyed are replaced by ``UNBOUND``.
"""

from __future__ import annotations

from ._common import BATCHED, UNBOUND, RunFailure

try:
    import concurrent.interpreters  # type: ignore[import-not-found,unused-ignore]  # noqa: F401
except ImportError:
    from . import _v313 as _implementation
else:  # pragma: no cover - exercised only on Python 3.14+
    from . import _v314 as _implementation  # type: ignore[no-redef]

NAME = _implementation.NAME
BATCHES = _implementation.BATCHES
batch_envelopes = _implementation.batch_envelopes
free_batch = _implementation.free_batch
put_batch = _implementation.put_batch
forget_lent = _implementation.forget_lent
count = _implementation.count
create_queue = _implementation.create_queue
current_interpreter_id = _implementation.current_interpreter_id
destroy_interpreter = _implementation.destroy_interpreter
destroy_queue = _implementation.destroy_queue
get = _implementation.get
interpreter_ids = _implementation.interpreter_ids
new_interpreter = _implementation.new_interpreter
put = _implementation.put
put_plain = _implementation.put_plain
run = _implementation.run

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
    "new_interpreter",
    "put",
    "put_batch",
    "put_plain",
    "run",
)
