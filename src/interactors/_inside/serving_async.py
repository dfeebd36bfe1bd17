"""Serving an incarnation whose handlers are ``async def``: on the actor's own event loop.

:class:`AsyncServer` adds to :class:`~.serving.Server` the loop-side receive and dispatch:
one handler at a time, or up to ``max_concurrency`` as tasks; a stop that interrupts the
actor cancels the running handler tasks (see :mod:`.watchdog`).

Stdlib only (no typing at run time): runs inside actors' interpreters.
"""

from __future__ import annotations

import os

from .. import _backend as backend
from .._exceptions import ActorInterrupted, HandlerTimeout
from .._wire import envelope as P
from .._wire import slots as S
from .log_shipping import before_park
from .serving import Leave, Server, _count, _get

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any

__all__ = ("AsyncServer",)


class AsyncServer(Server):
    """A :class:`~.serving.Server` that also serves ``async def`` handlers."""

    async def handle_async(self, envelope: tuple[Any, ...]) -> None:
        """Handle one ASK/TELL whose method is ``async def``, on the actor's loop.

        With a ``handler_timeout``, the handler is cancelled at its deadline (an
        ``asyncio.timeout``), which counts as a hang like the watchdog's interruption.
        """
        import asyncio

        self.begin(envelope)
        deadline = asyncio.timeout(self.handler_timeout or None)
        task = asyncio.current_task()
        self.handler_tasks.add(task)
        self.running_handlers += 1
        asks, key = self.asks_running, id(envelope)
        if envelope[0] == P.ASK:
            asks[key] = envelope
        reply = None
        try:
            try:
                fn, args, kwargs = self.prepare(envelope)
                async with deadline:
                    result = await (fn(*args, **kwargs) if kwargs else fn(*args))
                if envelope[0] == P.ASK:
                    reply = self.result_envelope(envelope, result)
            finally:
                self.running_handlers -= 1
                self.handler_tasks.discard(task)
                if envelope[0] == P.ASK and asks.pop(key, None) is None:
                    # Answered by the watchdog: this incarnation was abandoned while the
                    # handler waited (another one blocked the loop). Leave.
                    raise Leave("abandoned")
        except Leave:
            raise
        except (SystemExit, KeyboardInterrupt) as exc:
            self.ending = _described(exc)
            raise
        except (ActorInterrupted, asyncio.CancelledError) as exc:
            if not self.fields[self.base + S.INTERRUPT] and isinstance(exc, asyncio.CancelledError):
                # Not ours: the incarnation ends under this handler (another one crashed,
                # say) and its loop is shutting down. Its asker must not wait forever.
                if envelope[0] == P.ASK:
                    self.reply(envelope, self.died_with(envelope))
                raise
            if task is not None and task.cancelling():
                task.uncancel()
            self.end(True)
            self.interrupted(envelope, exc)
            return
        except BaseException as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                exc = HandlerTimeout()
            self.end(True)
            self.failed(envelope, exc)
            return
        self.end(False)
        if reply is not None:
            self.reply(envelope, reply)

    def died_with(self, envelope: tuple[Any, ...]) -> tuple[Any, ...]:
        """The ActorCrashed answer to an ask whose handler the incarnation's end cut off."""
        return P.died_handling(self.name, envelope[1], self.ending or "its incarnation ended")

    async def serve_async(self) -> None:
        import asyncio

        loop = self.loop
        wake = asyncio.Event()

        def on_mail() -> None:
            os.eventfd_read(self.mbox_fd)
            wake.set()

        loop.add_reader(self.mbox_fd, on_mail)
        limit = asyncio.Semaphore(max(1, self.max_concurrency))
        tasks: set[Any] = set()

        async def run_limited(envelope: tuple[Any, ...]) -> None:
            # A stop that interrupts handlers ends the incarnation (Leave), whichever
            # task it lands in.
            try:
                await self.handle_async(envelope)
            except Leave as leave:
                self.leaving = leave
                wake.set()
            finally:
                limit.release()

        concurrent = self.max_concurrency > 1
        self.ending = ""
        try:
            while True:
                if self.leaving is not None:
                    raise self.leaving
                if concurrent and limit.locked():
                    # Room for one more handler first: a message taken from the mailbox
                    # while the others run could be lost if one of them ends the
                    # incarnation meanwhile (queued messages outlive a restart).
                    await limit.acquire()
                    limit.release()
                    continue
                self.check_owner()
                while _count(self.ctl_q):
                    self.control(_get(self.ctl_q))  # type: ignore[arg-type]
                envelope: Any = None
                if self.fields[self.base + S.BATCH_ITEM]:
                    envelope = self.batch_next()
                    if envelope is None:
                        continue
                elif not _count(self.mbox_q):
                    wake.clear()
                    before_park(self)
                    self.fields[self.base + S.PARKED] = 1
                    if not _count(self.mbox_q) and not _count(self.ctl_q):
                        await wake.wait()
                    self.fields[self.base + S.PARKED] = 0
                    continue
                else:
                    while _count(self.ctl_q):  # one put before this message comes first
                        self.control(_get(self.ctl_q))  # type: ignore[arg-type]
                    envelope = _get(self.mbox_q)
                if envelope is backend.UNBOUND:
                    continue
                if envelope[0] == P.BATCH:
                    self.take_batch(envelope[1])
                    continue
                if envelope[0] == P.STOP:
                    if tasks:
                        await asyncio.gather(*tasks, return_exceptions=True)
                    self.control(envelope)
                if envelope[2] not in self.async_methods:
                    self.handle(envelope)
                elif self.max_concurrency <= 1:
                    await self.handle_async(envelope)
                else:
                    await limit.acquire()
                    task = loop.create_task(run_limited(envelope))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        except (SystemExit, KeyboardInterrupt) as exc:  # (from a plain handler too)
            self.ending = self.ending or _described(exc)
            raise
        finally:
            loop.remove_reader(self.mbox_fd)
            for task in tasks:
                task.cancel()
            self.leaving = None


def _described(exc: BaseException) -> str:
    return P.cause(type(exc).__name__, str(exc))
