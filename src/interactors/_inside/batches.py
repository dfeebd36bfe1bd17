"""Batches: several of the host's tells and asks in one mailbox item (``backend.put_batch``).

The host coalesces the tells it sends an actor within one turn of its event loop, and the
asks of concurrent callers (see ``_host/mailbox.py``). The body stays in the host's memory
until every envelope is taken, and the actor's shared slot says which one is next: an
incarnation that ends within a batch (a crash under ``on_error="restart"``) leaves the
rest to the next incarnation, as it leaves the rest of the queue.

The answers to a batch's asks go back the same way: held while the batch goes on, then put
as one item (the host's pump reads it like a batch). An answer seldom waits for others:
they are put when the batch ends, before any message that is not a plain
tell or ask, when a handler raised, before every handler but one of a method whose last run
took less than ``HOLD_NS`` (one never run goes after them too), and before the next
handler once the first held one has waited that long. So a slow handler delays the held
answers only when its method was quick the time before.

Stdlib only (no typing at run time): runs inside actors' interpreters.
"""

from __future__ import annotations

import os
import time

from .. import _backend as backend
from .._wire import envelope as P
from .._wire import slots as S

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final


_ASK: Final = P.ASK
_TELL: Final = P.TELL
_PLAIN: Final = P.PLAIN
_now_ns = time.monotonic_ns
HOLD_NS: Final = 20_000  # how long the answers of a batch's asks wait for more (20 µs)


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
    quick_methods: set[str]  # the last run took less than HOLD_NS (answers wait for it)

    def handle(self, envelope: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def result_envelope(self, request: tuple[Any, ...], result: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def handler_failed(self, envelope: tuple[Any, ...], exc: BaseException) -> None:
        raise NotImplementedError

    logs: Any  # the LogShipper, once the actor's code uses logging

    def put_answers(self, request: tuple[Any, ...], held: list[tuple[Any, ...]]) -> None:
        """Put the held answers (after what their handlers logged, as ``Server.reply``)."""
        logs = self.logs
        if logs is not None and logs.buffer:
            logs.flush()
        _put_answers(request, held)

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

        A tell or ask with plain arguments to a method of the class, the usual content,
        runs here with ``handle``'s bookkeeping inline (the same fields): that is most of
        what a message costs the actor. The answers wait in ``held`` (see the module's
        docstring); whatever ends this call puts them first."""
        fields, base, token = self.fields, self.base, self.token
        owner, taken, handled = base + S.OWNER, base + S.BATCH_TAKEN, base + S.HANDLED
        current, busy_since = base + S.CURRENT_SEQ, base + S.BUSY_SINCE
        in_flight = base + S.IN_FLIGHT_ASK
        fields[base + S.IN_FLIGHT_PEER] = 0  # (a batch holds the host's messages only)
        handle, methods, instance = self.handle, self.method_set, self.instance
        quick, answer = self.quick_methods, self.result_envelope
        held: list[tuple[Any, ...]] = []
        held_since = 0
        asker: tuple[Any, ...] = ()  # the held answers' ask (where they go)
        try:
            while (done := self.batch_place()) >= 0:
                for envelope in self.batch[done:]:
                    if fields[owner] != token:
                        return False
                    fields[taken] += 1  # taken before it runs: a crash in it does not repeat it
                    kind, method = envelope[0], envelope[2]
                    if (
                        envelope[3] != _PLAIN
                        or method not in methods
                        or (kind != _TELL and (kind != _ASK or envelope[7] >= 0))  # (the host's)
                    ):
                        if held:
                            self.put_answers(asker, held)
                        handle(envelope)
                        continue
                    if held and (
                        method not in quick
                        or _now_ns() - held_since > HOLD_NS
                        or (kind == _ASK and envelope[5] != asker[5])
                    ):
                        self.put_answers(asker, held)
                    # A handler is timed when answers would wait for it (to learn what is
                    # quick): the ask's own, or those still held. Tells alone cost no clock.
                    timed = kind == _ASK or bool(held)
                    seq = fields[handled] + 1
                    fields[busy_since] = start = _now_ns()
                    if kind == _ASK:
                        fields[in_flight] = envelope[1]
                    fields[current] = seq
                    try:
                        result = getattr(instance, method)(*envelope[4])
                        reply = answer(envelope, result) if kind == _ASK else None
                    except (SystemExit, KeyboardInterrupt):
                        raise
                    except BaseException as exc:
                        if held:
                            self.put_answers(asker, held)
                        self.handler_failed(envelope, exc)
                        continue
                    fields[current] = 0
                    fields[handled] = seq
                    if reply is not None:
                        fields[in_flight] = 0
                        if not held:
                            held_since, asker = _now_ns(), envelope
                        held.append(reply)
                    if timed:
                        if _now_ns() - start < HOLD_NS:
                            quick.add(method)
                        else:
                            quick.discard(method)
        finally:
            if held:
                self.put_answers(asker, held)
        return True


def _put_answers(request: tuple[Any, ...], held: list[tuple[Any, ...]]) -> None:
    """Put the held answers where ``request`` (an ask of the host's batch) asked for them:
    one item when they are several, then one wake-up."""
    answers = tuple(held)
    held.clear()
    qid = request[5]
    try:
        if len(answers) == 1 or not backend.put_batch(qid, answers):
            for envelope in answers:
                backend.put(qid, envelope)
    except Exception:
        return  # the asker's reply queue is gone (as in Server.reply): nobody waits
    os.eventfd_write(request[6], 1)
