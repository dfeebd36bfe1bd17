"""A BlockingActorSystem's messages to interpreter actors, sent by the calling thread.

Through the system's event loop, an ask from a plain thread costs two thread hand-offs
before it is even sent, and as many for its answer (about 4k asks/s from one thread).
Here the calling thread puts the envelope on the actor's mailbox itself, as an actor's
:class:`~interactors.PeerRef` does, and the answer comes back on a reply queue of the
BlockingActorSystem, whose own thread resolves the caller's future. The actor treats such
an ask as another actor's: if it dies handling it, or stops for good with it queued, the
ask is answered all the same (``ActorCrashed``, ``ActorStopped``).

One thread's tells and asks all go this way, so they keep their order. Process actors keep
the loop's way (the host's lane to their worker is faster than their bridge), as do refs
made with ``options(timeout=...)``.
"""

from __future__ import annotations

import os
import select
import threading
import time
from concurrent.futures import Future, InvalidStateError
from typing import TYPE_CHECKING, Any, Final

from .. import _backend as backend
from .._exceptions import ActorStopped, SystemClosed
from .._wire import envelope as P
from .._wire import slots as S
from .messaging import _SENDING
from .ref import ref_wrapper
from .slot_area import SlotArea

if TYPE_CHECKING:
    from collections.abc import Callable

    from anyio.from_thread import BlockingPortal

    from .cell import ActorCell

__all__ = ("AnswerFuture", "ThreadSends", "answer_of", "call_on")

_SPIN: Final = 50e-6  # how long the answers' thread looks before it sleeps
_SLICE: Final = 0.05  # an AnswerFuture's longest sleep before it looks for a signal


class AnswerFuture[T](Future[T]):
    """The future of a BlockingActorSystem's ask: its waits never outlast a Ctrl-C.

    CPython runs a signal's handler in the main thread, but the signal can land in
    another thread, or in the main thread just before it sleeps on a lock: the handler
    is then pending while the thread sleeps on in ``sem_wait``, and ``result()`` of an
    answer that never comes would hang through the Ctrl-C (one script in 60, pressed
    Ctrl-C as it began to wait on a busy machine). These futures sleep at most 50 ms at
    a time, so a pending KeyboardInterrupt is raised within that.
    """

    def result(self, timeout: float | None = None) -> T:
        self.exception(timeout)  # the wait: TimeoutError and CancelledError as result's
        return super().result(0)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                return super().exception(_slice(deadline))
            except TimeoutError:  # (an answer's TimeoutError is returned, not raised)
                if deadline is not None and time.monotonic() >= deadline:
                    raise
            # (the interpreter looks for signals between two slices)


def _slice(deadline: float | None) -> float:
    """How long the next sleep of a wait until ``deadline`` (None: no end) may last."""
    return _SLICE if deadline is None else max(0.0, min(_SLICE, deadline - time.monotonic()))


def call_on(portal: BlockingPortal, func: Callable[..., Any], *args: Any) -> Any:
    """``portal.call(func, *args)``, waiting for it as an :class:`AnswerFuture` does; a
    wait that a Ctrl-C (or any exception) ends cancels the call's task."""
    future = answer_of(portal.start_task_soon(func, *args))
    try:
        return future.result()
    except BaseException:
        future.cancel()  # (done already: nothing happens)
        raise


def answer_of[T](source: Future[T]) -> AnswerFuture[T]:
    """An :class:`AnswerFuture` with the outcome of ``source`` (one of the portal's);
    cancelling it cancels ``source``."""
    target: AnswerFuture[T] = AnswerFuture()

    def settle(done: Future[T]) -> None:
        try:
            if done.cancelled():
                target.cancel()
            elif (error := done.exception()) is not None:
                target.set_exception(error)
            else:
                target.set_result(done.result())
        except InvalidStateError:  # its caller cancelled it meanwhile
            pass

    def cancel(done: Future[T]) -> None:
        if done.cancelled():
            source.cancel()

    target.add_done_callback(cancel)
    source.add_done_callback(settle)
    return target


class ThreadSends:
    """Sends from any thread; one thread of its own delivers the answers."""

    def __init__(self, wrap: Callable[[Any], Any]) -> None:
        self.qid = backend.create_queue(0)
        self.fd = os.eventfd(0, os.EFD_CLOEXEC)
        self._slots = SlotArea()  # one flag: "the answers' thread sleeps, wake it"
        slot_fd, index = self._slots.allocate()
        self._fields = self._slots.view(slot_fd)
        self._sleeping = index * S.FIELDS + S.REPLY_PARKED
        self.flag = S.flag_code(slot_fd, self._sleeping)
        self._next_id = iter(range(1, 1 << 62)).__next__  # atomic: callers in any thread
        self._waiting: dict[int, tuple[Future[Any], ActorCell]] = {}
        self._closing = False
        self._wrap = wrap
        self._thread = threading.Thread(
            target=self._answers, name="interactors-blocking-answers", daemon=True
        )
        self._thread.start()

    def send(
        self, cell: ActorCell, kind: int, method: str, args: tuple[Any, ...], kwargs: Any
    ) -> Future[Any] | None:
        """Ask: a future of the answer, or of the error (as through the loop). Tell: waits
        while the mailbox is full; ``-P.TELL``, tell_nowait: ``MailboxFull``."""
        if kind != P.ASK:
            self._check(cell)
            fmt, payload = P.encode_call(cell.codec, args, kwargs)  # EncodeError: nothing sent
            self._deliver(cell, (P.TELL, 0, method, fmt, payload, 0, 0, -1), kind == P.TELL)
            return None
        future: AnswerFuture[Any] = AnswerFuture()
        msg_id = self._next_id()
        self._waiting[msg_id] = (future, cell)
        try:
            self._check(cell)
            fmt, payload = P.encode_call(cell.codec, args, kwargs)
            envelope = (P.ASK, msg_id, method, fmt, payload, self.qid, self.fd, self.flag)
            self._deliver(cell, envelope, True)
        except Exception as exc:
            self._fail(msg_id, exc)
        if self._closing:  # (closed meanwhile: close() may have missed it)
            self._fail(msg_id, SystemClosed("the BlockingActorSystem has closed"))
        return future

    @staticmethod
    def _check(cell: ActorCell) -> None:
        if cell.state not in _SENDING:
            raise cell._refuse()

    def _deliver(self, cell: ActorCell, envelope: tuple[Any, ...], wait: bool) -> None:
        mailbox = cell.mailbox
        try:
            backend.put_when_room(mailbox.qid, envelope, wait)
        except Exception as exc:  # full (not waiting), or freed: stopped for good
            raise (mailbox._full() if backend.is_full(exc) else cell._refuse()) from None
        if mailbox.fields[S.closed_code(mailbox.parked)]:  # gone meanwhile (see slots)
            raise cell._refuse()
        if mailbox.fields[mailbox.parked]:
            os.eventfd_write(mailbox.fd, 1)

    def _answers(self) -> None:
        ref_wrapper.set(self._wrap)  # refs in answers come back as BlockingActorRefs
        count, get, qid, perf = backend.count, backend.get, self.qid, time.perf_counter
        fields, sleeping = self._fields, self._sleeping
        while not self._closing:
            if count(qid):
                self._resolve(get(qid))
                continue
            spin_until = perf() + _SPIN
            while not count(qid) and perf() < spin_until:
                os.sched_yield()
            if count(qid):
                continue
            fields[sleeping] = 1  # then look once more: an answer put before it is seen
            if not count(qid) and not self._closing:
                select.select([self.fd], [], [])
                os.eventfd_read(self.fd)
            fields[sleeping] = 0

    def _resolve(self, envelope: Any) -> None:
        if envelope is backend.UNBOUND:
            return
        entry = self._waiting.pop(envelope[1], None)
        if entry is None:
            return
        future, cell = entry
        if not future.set_running_or_notify_cancel():
            return  # cancelled by its caller: the answer is dropped
        try:
            value = P.raise_reply(envelope, cell.name, cell.codec.decode)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(value)

    def _fail(self, msg_id: int, error: BaseException) -> None:
        backend.forget_lent(self.qid, msg_id)  # (views lent with it: its answer is not read)
        entry = self._waiting.pop(msg_id, None)
        if entry is not None and entry[0].set_running_or_notify_cancel():
            entry[0].set_exception(error)

    def close(self) -> None:
        """Once the system has stopped: end the thread, fail what is still unanswered."""
        self._closing = True
        os.eventfd_write(self.fd, 1)
        self._thread.join()
        while backend.count(self.qid):  # answered before the thread saw _closing
            self._resolve(backend.get(self.qid))
        for msg_id in list(self._waiting):
            self._fail(msg_id, ActorStopped("the BlockingActorSystem has closed"))
        backend.destroy_queue(self.qid)  # before its fd: see messaging.answer_peer
        os.close(self.fd)
        self._slots.close()


def direct(cell: ActorCell, proxy: Any) -> bool:
    """Whether this ref's messages may take this way (see the module's docstring)."""
    return cell.process is None and getattr(proxy, "_timeout", None) is None
