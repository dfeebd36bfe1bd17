"""Batches: several of the host's tells in one mailbox item (``backend.put_batch``).

The host coalesces the tells it sends an actor within one turn of its event loop (see
``_host/mailbox.py``). The body stays in the host's memory until every envelope is taken,
and the actor's shared slot says which one is next: an incarnation that ends within a
batch (a crash under ``on_error="restart"``) leaves the rest to the next incarnation, as
it leaves the rest of the queue.

Stdlib only (no typing at run time): runs inside actors' interpreters.
"""

from __future__ import annotations

import time

from .. import _backend as backend
from .._wire import envelope as P
from .._wire import slots as S

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final


_TELL: Final = P.TELL
_PLAIN: Final = P.PLAIN
_now_ns = time.monotonic_ns


class BatchReader:
    """What :class:`~.serving.Server` does with batches (it provides the other
    attributes)."""

    fields: Any
    base: int
    token: int
    batch: tuple[Any, ...] = ()  # the envelopes of the batch in S.BATCH_ITEM
    batch_item = 0

    method_set: frozenset[str]
    instance: Any

    def handle(self, envelope: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def handler_failed(self, envelope: tuple[Any, ...], exc: BaseException) -> None:
        raise NotImplementedError

    def take_batch(self, item: int) -> None:
        fields, base = self.fields, self.base
        fields[base + S.BATCH_ITEMS] += 1
        fields[base + S.BATCH_BASE] = fields[base + S.BATCH_TAKEN]
        fields[base + S.BATCH_ITEM] = item

    def batch_place(self) -> int:
        """Where the batch being handled goes on in ``self.batch`` (read again after a
        restart); -1 once every envelope is taken (its body is freed then)."""
        fields, base = self.fields, self.base
        item = fields[base + S.BATCH_ITEM]
        if item != self.batch_item:
            self.batch = backend.batch_envelopes(item) or ()
            self.batch_item = item
        done: int = fields[base + S.BATCH_TAKEN] - fields[base + S.BATCH_BASE]
        if done < len(self.batch):
            return done
        self.batch, self.batch_item = (), 0
        fields[base + S.BATCH_ITEM] = 0
        backend.free_batch(item)
        return -1

    def batch_next(self) -> tuple[Any, ...] | None:
        """The next envelope of the batch being handled, counted as taken; None when done."""
        done = self.batch_place()
        if done < 0:
            return None
        self.fields[self.base + S.BATCH_TAKEN] += 1
        return self.batch[done]  # type: ignore[no-any-return]

    def serve_batch(self) -> bool:
        """Handle the rest of the batch being handled (plain handlers, in this thread);
        False if this worker was abandoned meanwhile (it must leave).

        A tell with plain arguments to a method of the class, the usual content, runs
        here with ``handle``'s bookkeeping inline (the same fields, less the ask in flight,
        which stays 0): that is most of what a message costs the actor."""
        fields, base, token = self.fields, self.base, self.token
        owner, taken, handled = base + S.OWNER, base + S.BATCH_TAKEN, base + S.HANDLED
        current, busy_since = base + S.CURRENT_SEQ, base + S.BUSY_SINCE
        handle, methods, instance = self.handle, self.method_set, self.instance
        while (done := self.batch_place()) >= 0:
            for envelope in self.batch[done:]:
                if fields[owner] != token:
                    return False
                fields[taken] += 1  # taken before it runs: a crash in it does not repeat it
                method = envelope[2]
                if envelope[0] != _TELL or envelope[3] != _PLAIN or method not in methods:
                    handle(envelope)
                    continue
                seq = fields[handled] + 1
                fields[busy_since] = _now_ns()
                fields[current] = seq
                try:
                    getattr(instance, method)(*envelope[4])
                except (SystemExit, KeyboardInterrupt):
                    raise
                except BaseException as exc:
                    self.handler_failed(envelope, exc)
                    continue
                fields[current] = 0
                fields[handled] = seq
        return True
