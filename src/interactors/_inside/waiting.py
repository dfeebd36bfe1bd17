"""Waiting for answers inside an actor, and refusing waits that could never end.

:class:`ReplyWaiting` is the half of ``peer.PeerContext`` that waits: ``.result()`` in a
plain handler spins for the answer, then sleeps on the reply fd; ``await`` in an async
handler spins, then waits on the actor's loop.

A wait that can never end raises ``RuntimeError`` at once instead: an actor waiting for
its own answer (:meth:`ReplyWaiting.refuse_self_wait`), and a cycle of synchronous waits
(:meth:`ReplyWaiting.wait_for`): A waits for B's answer while B, directly or through
other actors, waits for A's. Before it sleeps, an actor writes whom it waits for
(WAITING_ON in its slot of shared counters: that actor's PARKED flag code) and follows
the chain of WAITING_ON fields from there; finding itself, it raises. Both sides store,
then read (a lock in between orders them), so of two actors closing a cycle at the same
time at least one sees the other. An actor that answers writes the ask's id in its
asker's slot first (ANSWERED, :meth:`ReplyWaiting.answering`): an asker whose WAITING_MSG
was answered is no link of a cycle, though it may wake (and clear WAITING_ON) only later.
Only actors in interpreters take part: a process actor's slot is not readable from here,
and its chain ends there.

Stdlib only: imported inside actors' interpreters.
"""

from __future__ import annotations

import _thread
import os
import select
import time

from .. import _backend as backend
from .._wire import slots as S

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any

    from .serving import Server

_CHAIN_MAX = 64  # synchronous waits followed, at most (a longer chain is not checked)


def take_wakeup(fd: int) -> None:
    """Reset a non-blocking eventfd that more than one look may read, if no other look
    took its wake-up first.

    The reply eventfd has two readers in an actor with an event loop: the loop's reader,
    and a plain ``.result()`` on the loop's thread. The loop may have seen the fd readable,
    and queued its reader, just before a handler's ``.result()`` read it: a blocking read
    would then stop the loop for good (until some later answer came). The cell's interrupt
    eventfd is read by its watchdog, and by an abandoned incarnation's watchdog too."""
    try:  # noqa: SIM105 - contextlib stays out of actors' interpreters (~2 ms to import)
        os.eventfd_read(fd)
    except BlockingIOError:
        pass


class ReplyWaiting:
    """Waits for answers (mixed into ``peer.PeerContext``)."""

    if TYPE_CHECKING:
        worker: Server
        fields: memoryview
        reply_q: int
        reply_fd: int
        waiting_flag: int
        outstanding: set[int]
        arrived: dict[int, tuple[Any, ...]]
        waiters: dict[int, Any]

        def drain(self) -> None: ...
        def route(self, envelope: Any) -> None: ...
        def field(self, code: int) -> int: ...
        def view(self, code: int) -> memoryview: ...

        views: dict[int, memoryview]

    own_code = 0  # this actor's PARKED flag code (0: it takes no part in cycle checks)
    waits_field = 0  # the index of its WAITING_ON field
    _fence = _thread.allocate_lock()

    def wait_for(self, waits_on: int, msg_id: int) -> None:
        """Say that this actor now waits for the answer to its ask ``msg_id`` from the
        actor whose PARKED flag code is ``waits_on``; raise ``RuntimeError`` if that actor
        waits for this one, directly or through others (the caller clears WAITING_ON when
        its wait ends)."""
        if not self.own_code or _thread.get_ident() != self.worker.thread_id:
            return  # (a thread of the actor's own that waits does not stop its handlers)
        fields, waits_field = self.fields, self.waits_field
        fields[waits_field + 1] = msg_id  # (WAITING_MSG, then WAITING_ON: see _wire/slots)
        fields[waits_field] = waits_on
        with self._fence:  # the stores above before the reads below (see the module)
            pass
        code, chain = waits_on, 1
        while code and chain <= _CHAIN_MAX:
            if code == self.own_code:
                self.fields[self.waits_field] = 0
                through = "" if chain == 2 else f", through {chain - 2} other actor(s)"
                raise RuntimeError(
                    f"actor {self.worker.name!r} would wait forever for an answer: the actor "
                    f"it asked waits for an answer from it{through}, and neither handles a "
                    "message while it waits. Send one side with tell, or make them async "
                    "handlers of actors spawned with max_concurrency > 1"
                )
            waits = S.waits_on_code(code)  # that actor's WAITING_ON, WAITING_MSG, ANSWERED
            code = self.field(waits)
            if code and self.field(waits + 1) == self.field(waits + 2):
                break  # answered already: it is about to wake up
            chain += 1

    def answering(self, reply_flag: int, msg_id: int) -> None:
        """Before this actor puts its answer to an actor's ask ``msg_id`` (``reply_flag``:
        the asker's REPLY_PARKED flag code), write ``msg_id`` in the asker's ANSWERED
        field: the asker's wait is over, though it may wake up to read the answer only
        later (or even say that it waits only then). An ask from this actor to the asker
        meanwhile is no cycle."""
        code = S.answered_code(reply_flag)
        try:  # noqa: SIM105 - contextlib stays out of actors' interpreters
            (self.views.get(code >> 16) or self.view(code))[code & 0xFFFF] = msg_id
        except (OSError, ValueError):  # its chunk unmapped here and closed: the system closes
            pass

    def refuse_self_wait(self, msg_id: int, how: str) -> None:
        """Raise rather than wait for an answer from this actor to itself that cannot come:
        it would be handled after the handler that waits for it (as a thread's join())."""
        self.drain()
        if msg_id not in self.arrived:
            raise RuntimeError(
                f"actor {self.worker.name!r} waits for its own answer {how}: the ask is "
                "handled only after this handler returns, so the wait would never end. "
                "Call the method directly, send it with tell, or await it in an async "
                "handler of an actor spawned with max_concurrency > 1"
            )

    def take(self, msg_id: int) -> tuple[Any, ...] | None:
        envelope = self.arrived.pop(msg_id, None)
        if envelope is not None:
            self.outstanding.discard(msg_id)
        return envelope

    def wait_blocking(
        self, msg_id: int, timeout: float | None, waits_on: int = 0
    ) -> tuple[Any, ...]:
        """The answer to ask ``msg_id``, spinning then sleeping (``TimeoutError`` after
        ``timeout`` s). ``waits_on`` names the asked actor (the PARKED flag code in its
        address): before this actor sleeps, it says whom it waits for (see :meth:`wait_for`)."""
        envelope = self.take(msg_id)  # it may have come in with an earlier reply
        if envelope is not None:
            return envelope
        try:
            return self._wait_blocking(msg_id, timeout, waits_on)
        finally:
            if waits_on and _thread.get_ident() == self.worker.thread_id:
                self.fields[self.waits_field] = 0

    def _wait_blocking(self, msg_id: int, timeout: float | None, waits_on: int) -> tuple[Any, ...]:
        deadline = None if timeout is None else time.monotonic() + timeout
        count, get, qid, perf = backend.count, backend.get, self.reply_q, time.perf_counter
        spin_until = perf() + 50e-6
        while True:
            if count(qid):
                envelope: Any = get(qid)
                if envelope is not backend.UNBOUND and envelope[1] == msg_id:
                    self.outstanding.discard(msg_id)
                    return envelope  # type: ignore[no-any-return]
                self.route(envelope)  # someone else's reply
                continue
            if perf() < spin_until:
                os.sched_yield()  # spinners sharing a CPU must let each other run
                continue
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"no reply within {timeout} s")
            if waits_on and not self.fields[self.waits_field]:
                self.wait_for(waits_on, msg_id)  # (once: before the first sleep)
            # Announce the wait, look once more, then sleep: a replier that put its reply
            # before seeing the flag is caught by the second look.
            fields, flag = self.fields, self.waiting_flag
            before = fields[flag]
            fields[flag] = 1
            try:
                if backend.count(self.reply_q):
                    continue
                ready, _, _ = select.select([self.reply_fd], [], [], remaining)
                if ready:
                    take_wakeup(self.reply_fd)
            finally:
                fields[flag] = before

    async def wait_async(self, msg_id: int, waits_on: int = 0) -> tuple[Any, ...]:
        """The answer to ask ``msg_id`` on the actor's loop; ``waits_on`` as for
        :meth:`wait_blocking`, given when this actor takes no other message meanwhile
        (``max_concurrency=1``)."""
        envelope = self.take(msg_id)
        if envelope is not None:
            return envelope
        loop = self.worker.loop
        if loop is None:
            raise RuntimeError("await an ask only in async handlers; use .result() in plain ones")
        envelope = self.spin_for(msg_id, loop)
        if envelope is not None:
            return envelope
        future = loop.create_future()
        self.waiters[msg_id] = future
        try:
            if waits_on:
                self.wait_for(waits_on, msg_id)
            result: tuple[Any, ...] = await future
        finally:
            self.waiters.pop(msg_id, None)
            self.outstanding.discard(msg_id)
            if waits_on:
                self.fields[self.waits_field] = 0
        return result

    def spin_for(self, msg_id: int, loop: Any) -> tuple[Any, ...] | None:
        """Look for the reply for a few microseconds before parking on the loop.

        A peer's answer usually comes back within tens of microseconds; waiting for it on
        the loop costs two loop iterations and an eventfd wake-up. The spin happens only
        while no other task of this actor is ready to run (``loop._ready`` empty), so it
        never delays this actor's other handlers.
        """
        count, qid, perf = backend.count, self.reply_q, time.perf_counter
        ready = getattr(loop, "_ready", ())
        spin_until = perf() + 50e-6
        while True:
            if count(qid):
                self.drain()
                envelope = self.take(msg_id)
                if envelope is not None:
                    return envelope
            if ready or perf() >= spin_until:
                return None
            os.sched_yield()  # spinners sharing a CPU must let each other run

    def forget(self, msg_id: int) -> None:
        self.outstanding.discard(msg_id)
        self.arrived.pop(msg_id, None)
