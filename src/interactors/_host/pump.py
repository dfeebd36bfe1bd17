"""The host's reply queue: resolves the tasks waiting for actors' replies.

Every reply to the host (ask results, start reports, exit notices) lands on one queue per
:class:`~interactors.ActorSystem`, and the sender writes to that queue's eventfd. The event
loop watches the eventfd with its own reader support — ``loop.add_reader`` on asyncio,
``trio.lowlevel.wait_readable`` on trio — and on wake-up drains the whole queue, so a burst
of replies costs one wake-up. There is no polling and no helper thread.

Waiting is backend-specific for speed (a bare future on asyncio, a parked task on trio);
both honour cancellation: a cancelled waiter is forgotten and its late reply dropped.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

import anyio.lowlevel

from .. import _backend as backend
from .._backend.ring import fence
from .._wire import envelope as P
from .mailbox import Coalescer
from .on_trio import Flusher, TrioWaiter

# Inline replies in a row before a task must yield to the loop; spin bounds (seconds).
_INLINE_STREAK = 64
_EXITED = P.EXITED  # notices are kinds from here on
_BATCHED = backend.BATCHED
_UNBOUND = backend.UNBOUND
_SPIN_MAX = 200e-6
_SPIN_MIN = 5e-6
_yield_cpu = os.sched_yield  # in a spin: another thread on this CPU runs meanwhile


def _next_spin(start: float) -> float:
    """How long a lone caller spins next time, after an answer it waited for since
    ``start``: the longest spin if the answer came within it, else the shortest."""
    took = time.perf_counter() - start
    return _SPIN_MAX if took < _SPIN_MAX else _SPIN_MIN


def current_backend() -> str:
    """``"asyncio"`` or ``"trio"``: the async library running the current task."""
    try:
        import sniffio
    except ImportError:  # pragma: no cover - sniffio comes with trio and anyio's deps
        import asyncio

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return "trio"
        return "asyncio"
    return sniffio.current_async_library()


class ReplyPump:
    """Routes envelopes from the host's reply queue to waiters, by message id.

    ``on_notice`` receives envelopes that answer no waiter (exit notices, crash reports).
    """

    def __init__(self, on_notice: Callable[[tuple[Any, ...]], None]) -> None:
        self.qid = backend.create_queue(0)
        self.fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
        self.on_notice = on_notice
        self.waiters: dict[int, Any] = {}
        self.library = ""
        self._closed = False
        self._loop: Any = None
        self.streak = 0
        self.spin = _SPIN_MAX
        self.asking = 0
        self.lane_spin = _SPIN_MAX
        self._task_group: Any = None
        self.watched: dict[int, object] = {}  # trio: the fds watched, and their watch
        self.tells = Coalescer()  # the host's tells of one turn of the loop
        self._flusher: Flusher | None = None  # trio: the task that sends them

    # -- lifecycle (called from the system's task) ---------------------------------------

    def start(self, task_group: Any) -> None:
        self.library = current_backend()
        if self.library == "asyncio":
            import asyncio

            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self.fd, self._on_readable)
            self.tells.soon = self._loop.call_soon
            self.tells.later = self._loop.call_later
        else:
            import trio

            self._task_group = task_group
            task_group.start_soon(self._trio_reader)
            self._flusher = Flusher(trio.lowlevel.current_trio_token().run_sync_soon)
            # (protected from Ctrl-C, as run_sync_soon's callbacks are: a batch half sent
            # would be lost, and the KeyboardInterrupt belongs to the main task)
            task_group.start_soon(trio.lowlevel.enable_ki_protection(self._flusher.run))
            self.tells.soon = self._flusher.soon
            self.tells.later = self._trio_later

    def _trio_later(self, delay: float, fn: Callable[[], None]) -> None:
        async def later() -> None:
            import trio

            await trio.sleep(delay)
            fn()

        self._task_group.start_soon(later)

    async def _trio_reader(self) -> None:
        import trio

        while not self._closed:
            try:
                await trio.lowlevel.wait_readable(self.fd)
            except trio.ClosedResourceError:
                return
            self._on_readable()

    def watch(self, fd: int, on_readable: Callable[[], bool]) -> None:
        """Call ``on_readable`` on the loop's thread whenever ``fd`` is readable, until it
        returns False or :meth:`unwatch` (call that before closing ``fd``)."""
        if self._loop is not None:
            loop = self._loop

            def readable() -> None:
                if not on_readable():
                    loop.remove_reader(fd)

            loop.add_reader(fd, readable)
        elif self._task_group is not None:
            token = self.watched[fd] = object()
            self._task_group.start_soon(self._trio_watch, fd, on_readable, token)

    def unwatch(self, fd: int) -> None:
        if self._loop is not None:
            with contextlib.suppress(Exception):  # (the loop may be closing)
                self._loop.remove_reader(fd)
        elif self.watched.pop(fd, None) is not None:
            import trio

            trio.lowlevel.notify_closing(fd)

    async def _trio_watch(self, fd: int, on_readable: Callable[[], bool], token: object) -> None:
        import trio

        while self.watched.get(fd) is token:
            try:
                await trio.lowlevel.wait_readable(fd)
            except trio.BusyResourceError:  # the watch of an earlier fd of that number
                await trio.sleep(0.001)
                continue
            except (trio.ClosedResourceError, OSError):
                return
            if self.watched.get(fd) is not token:
                return
            if not on_readable():
                self.watched.pop(fd, None)
                return

    def deliver(self, envelope: tuple[Any, ...]) -> None:
        """Resolve the waiter of a reply that did not come through the queue."""
        waiter = self.waiters.pop(envelope[1], None)
        if waiter is not None:
            waiter.resolve(envelope)

    def _on_readable(self) -> None:
        if self._closed:
            return
        with contextlib.suppress(BlockingIOError):
            os.eventfd_read(self.fd)
        self.drain()

    def drain(self, envelope: Any = None) -> None:
        """Resolve the waiters of every answer queued, and handle the notices;
        ``envelope``: one already taken from the queue, handled first."""
        qid, waiters = self.qid, self.waiters
        count, get, unbound = backend.count, backend.get, backend.UNBOUND
        while True:
            if envelope is None:
                if not count(qid):
                    return
                envelope = get(qid)
            if envelope is not unbound:
                kind = envelope[0]
                if kind == _BATCHED:  # the answers to asks of one batch (_inside/batches.py)
                    self._resolve_all(envelope[1])
                elif kind < _EXITED:
                    waiter = waiters.pop(envelope[1], None)
                    if waiter is not None:
                        waiter.resolve(envelope)
                else:
                    self.on_notice(envelope)
            envelope = None

    def _resolve_all(self, item: int) -> None:
        answers = backend.batch_envelopes(item) or ()  # (none if the actor is gone)
        backend.free_batch(item)
        waiters = self.waiters
        for envelope in answers:
            waiter = waiters.pop(envelope[1], None)
            if waiter is not None:
                waiter.resolve(envelope)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.tells.close()  # (the loop may be gone: tells are put at once from now on)
        if self._flusher is not None:
            self._flusher.close()
        if self._loop is not None:
            self._loop.remove_reader(self.fd)
        elif self.library == "trio":
            import trio

            trio.lowlevel.notify_closing(self.fd)
        os.close(self.fd)
        backend.destroy_queue(self.qid)

    # -- waiting ---------------------------------------------------------------------------

    def waiter(self, msg_id: int) -> Any:
        """Register interest in the reply to ``msg_id`` (before sending the message)."""
        waiter = _AsyncioWaiter(self._loop) if self._loop is not None else TrioWaiter()
        self.waiters[msg_id] = waiter
        return waiter

    def fail(self, msg_id: int, envelope: tuple[Any, ...]) -> None:
        """Resolve ``msg_id``'s waiter with a synthesized envelope (e.g. the actor died)."""
        waiter = self.waiters.pop(msg_id, None)
        if waiter is not None:
            waiter.resolve(envelope)

    async def wait(self, msg_id: int, waiter: Any, batched: bool = False) -> tuple[Any, ...]:
        """The reply to ``msg_id``. On cancellation the waiter is dropped, not the actor's work.

        ``batched``: the ask leaves with the turn's batch, so its answer cannot be there yet
        (the caller does not look for it before it suspends)."""
        self.asking += 1
        alone = self.asking == 1
        start = time.perf_counter() if alone else 0.0  # (only a lone caller's spin adapts)
        try:
            envelope = None
            if batched:
                pass
            elif self.streak < _INLINE_STREAK:
                envelope = self._inline(waiter, msg_id)
            else:  # the loop runs once: a lone caller then looks, others wait their turn
                self.streak = 0
                if alone:
                    await anyio.lowlevel.checkpoint()
                    # The loop's reader may have drained the answer meanwhile: then the
                    # queue is empty and a spin on it would wait its whole bound.
                    envelope = waiter.take() or self._inline(waiter, msg_id)
            if envelope is not None:
                return envelope
            result: tuple[Any, ...] = await waiter.wait()
            if alone:
                self.spin = _next_spin(start)
            return result
        finally:
            self.asking -= 1
            self.waiters.pop(msg_id, None)

    async def wait_direct(
        self,
        msg_id: int,
        waiter: Any,
        poll: Callable[[], bool],
        sleeping: Callable[[int], None],
    ) -> tuple[Any, ...]:
        """The reply to an ask sent on a process actor's lane, which ``poll`` reads.

        A lone caller polls for it a little longer than :meth:`_inline` spins (the answer
        crosses two processes). Then it tells the lane that it sleeps (``sleeping``: the
        child then wakes the loop's reader), looks once more, and waits."""
        self.asking += 1
        perf = time.perf_counter
        start = perf()
        try:
            if self.asking == 1:
                if self.streak >= _INLINE_STREAK:  # let the loop run, then look again
                    self.streak = 0
                    await anyio.lowlevel.checkpoint()
                deadline = perf() + self.lane_spin
                while True:
                    poll()
                    envelope: tuple[Any, ...] | None = waiter.take()
                    if envelope is not None:
                        self.streak += 1
                        return envelope
                    if perf() >= deadline:
                        break
                    _yield_cpu()  # (as in _inline)
            self.streak = 0
            sleeping(1)
            try:
                fence()  # the flag is visible before the lane is looked at again
                poll()
                envelope = waiter.take()
                if envelope is None:
                    envelope = await waiter.wait()
            finally:
                sleeping(-1)
            self.lane_spin = _next_spin(start)
            return envelope
        finally:
            self.asking -= 1
            self.waiters.pop(msg_id, None)

    def _inline(self, waiter: Any, msg_id: int) -> tuple[Any, ...] | None:
        """Take the reply without suspending when it is (nearly) there already.

        A quick actor answers within tens of microseconds, while suspending and resuming a
        task costs more than the whole round trip. A lone caller spins for its reply for
        up to ``_SPIN_MAX`` (``_SPIN_MIN`` while its last awaited answer took longer than
        that), yielding the CPU at each look: on a busy machine the actor's thread may be
        waiting for this very CPU, and a spin that kept it would hold it for a whole time
        slice. While other tasks wait for replies (``asking`` counts them until they
        resume) it only looks, so callers keep pipelining. After ``_INLINE_STREAK``
        answers taken in a row, :meth:`wait` yields to the loop once.
        """
        qid, count = self.qid, backend.count
        if not count(qid) and self.asking == 1:
            deadline = time.perf_counter() + self.spin
            while not count(qid) and time.perf_counter() < deadline:
                _yield_cpu()
        if count(qid):
            envelope: Any = backend.get(qid)
            if (
                envelope is not _UNBOUND
                and envelope[1] == msg_id
                and _BATCHED < envelope[0] < _EXITED
            ):  # its own answer came first: no waiter to resolve and take it from
                self.streak += 1
                return envelope  # type: ignore[no-any-return]
            self.drain(envelope)
            taken: tuple[Any, ...] | None = waiter.take()
            if taken is not None:
                self.streak += 1
                return taken
        self.streak = 0
        return None


class _AsyncioWaiter:
    __slots__ = ("future",)

    def __init__(self, loop: Any) -> None:
        self.future = loop.create_future()

    def resolve(self, envelope: tuple[Any, ...]) -> None:
        if not self.future.done():
            self.future.set_result(envelope)

    def take(self) -> tuple[Any, ...] | None:
        future = self.future
        if future.done() and not future.cancelled():
            result: tuple[Any, ...] = future.result()
            return result
        return None

    def wait(self) -> Any:
        """The future itself: awaiting it costs no coroutine of its own."""
        return self.future
