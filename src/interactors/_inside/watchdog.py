"""The watchdog: a thread in the actor's interpreter that breaks running handlers.

Only a thread inside an interpreter can inject an exception into another thread of that
interpreter, so every actor has one. It breaks a handler in two cases:

* past its ``handler_timeout`` (it then polls the handler's start time coarsely), by
  injecting :class:`HandlerTimeout`;
* when the host stops or terminates the actor and the handler does not return in time: the
  host sets the INTERRUPT field of the actor's slot and writes the cell's interrupt eventfd;
  the watchdog cancels the running async handlers (on the actor's loop) and, when that does
  not reach a handler (plain code, or a CPU loop inside a coroutine), injects
  :class:`ActorInterrupted`.

When the host abandons the worker (a handler stuck in C past its patience), the watchdog
answers the asks the worker's other async handlers were running (``ActorCrashed``), then
leaves: the stuck loop may never come back to answer them.

With no ``handler_timeout`` it blocks on the eventfd: no CPU while idle. An injection cannot
interrupt a call blocked in C (``time.sleep``, a lock, a socket): it lands when the call
returns; an actor that still does not come back is abandoned by the host.

Stdlib only (no typing at run time): runs inside actors' interpreters.
"""

from __future__ import annotations

import _thread
import os
import select
import sys
import time

from .. import _backend as backend
from .._exceptions import ActorInterrupted, HandlerTimeout
from .._wire import envelope as P
from .._wire import slots as S
from .waiting import take_wakeup

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from .serving import Server

__all__ = ("Watchdog",)

_now_ns = time.monotonic_ns

# How long the actor's loop gets to cancel its async handlers before the exception is
# injected instead (the loop may be stuck in a CPU loop inside a coroutine).
_LOOP_GRACE = 0.1

# The GIL's switch interval while the watchdog injects (seconds; see Watchdog.inject).
_SWITCH_WHILE_INJECTING = 50e-6


class Watchdog:
    """The thread that breaks the worker's handlers (see the module docstring)."""

    def __init__(self, worker: Server) -> None:
        self.worker = worker
        self.poll = (
            min(max(worker.handler_timeout / 4, 0.01), 0.5) if worker.handler_timeout else None
        )
        self.closing = False
        self.done = _thread.allocate_lock()
        self.done.acquire()
        # Joinable where it can be (3.13+): close() then waits until the thread's state is
        # gone from the interpreter, which may be destroyed next ("not the last thread").
        start = getattr(_thread, "start_joinable_thread", None)
        self.handle = start(self.watch) if start is not None else None
        if self.handle is None:
            _thread.start_new_thread(self.watch, ())

    def watch(self) -> None:
        try:
            self.loop()
        finally:
            self.done.release()

    def loop(self) -> None:
        worker = self.worker
        fields, base = worker.fields, worker.base
        interrupt_fd = worker.interrupt_fd
        limit_ns = int(worker.handler_timeout * 1e9)
        fired_for = (0, 0)  # the handler last interrupted: (sequence number, start)
        watched = [interrupt_fd]
        while True:
            ready, _, _ = select.select(watched, [], [], self.poll)
            if self.closing:
                return
            if ready:
                take_wakeup(interrupt_fd)  # (an abandoned watchdog of this actor may read it)
                if fields[base + S.OWNER] != worker.token:
                    # Abandoned: the wake-up was for the worker that replaced this one.
                    os.eventfd_write(interrupt_fd, 1)
                    self.abandoned()
                    return
                if fields[base + S.INTERRUPT]:
                    self.interrupt()
            elif fields[base + S.OWNER] != worker.token:
                self.abandoned()
                return
            if not limit_ns:
                continue
            beat = fields[base + S.HEARTBEAT]
            if beat:
                # An async actor: its loop must keep ticking (async handlers have their
                # own deadline); a stale heartbeat means a call is blocking the loop.
                stuck, since = beat, beat
            else:
                stuck, since = fields[base + S.CURRENT_SEQ], fields[base + S.BUSY_SINCE]
            # (A number alone is not enough: a handler that ends between its last line and
            # the count, by an injection landing late, leaves its number to the next one.)
            if not stuck or (stuck, since) == fired_for:
                continue
            if _now_ns() - since > limit_ns:
                fired_for = (stuck, since)
                self.inject(
                    HandlerTimeout, (base + (S.HEARTBEAT if beat else S.CURRENT_SEQ), stuck)
                )

    def abandoned(self) -> None:
        """The host gave up on this worker (a handler blocked it past its patience) and
        answered the ask in its slot. Answer the asks of the other async handlers too:
        they wait on the stuck loop, which may never come back. (This thread can, while
        the stuck call holds no GIL; a handler that comes back leaves without answering.)"""
        worker = self.worker
        why = "its incarnation was abandoned while another handler blocked its event loop"
        for key in list(worker.asks_running):
            envelope = worker.asks_running.pop(key, None)
            if envelope is not None:
                worker.reply(envelope, P.died_handling(worker.name, envelope[1], why))

    def interrupt(self) -> None:
        """Break the running handlers for a stop (see the module docstring)."""
        worker = self.worker
        loop = worker.loop
        if loop is not None:
            worker.cancel_acked = False
            try:
                loop.call_soon_threadsafe(worker.cancel_handlers)
            except RuntimeError:  # the loop is closed: the incarnation is ending anyway
                return
            deadline = time.monotonic() + _LOOP_GRACE
            while not worker.cancel_acked and time.monotonic() < deadline:
                time.sleep(0.005)
            busy = worker.running_handlers or worker.fields[worker.base + S.CURRENT_SEQ]
            if worker.cancel_acked or not busy:
                return
        else:
            # A plain handler: interrupted only while it runs (between handlers the worker
            # reaches the STOP by itself, and an injection there could lose a message).
            current = worker.base + S.CURRENT_SEQ
            seq = worker.fields[current]
            if seq:
                self.inject(ActorInterrupted, (current, seq))
            return
        why = worker.base + S.INTERRUPT
        self.inject(ActorInterrupted, (why, worker.fields[why]))

    def inject(self, exception: type[BaseException], guard: tuple[int, int]) -> None:
        """Raise ``exception`` in the worker's thread. ``guard``: the slot field and the
        value it must still hold for the exception to be wanted.

        The handler may end between the watchdog's look at the slot and the injection (the
        watchdog can lose the GIL in between, when the machine is busy). The guard is read
        again on both sides of the injection, and an exception that is no longer wanted is
        taken back before it is raised: it would break the *next* handler, or the worker
        between handlers, instead of the one that ran too long.

        The first injection imports ctypes. A handler spinning in Python holds the GIL, and
        takes it back for a whole switch interval (5 ms) after each file read of that
        import: about 100 ms. The interval is shortened meanwhile, where the GIL is the
        actor's own (a shared one's interval is the host's, and other actors')."""
        if not backend.own_gil():
            self._inject(exception, guard)
            return
        interval = sys.getswitchinterval()
        sys.setswitchinterval(_SWITCH_WHILE_INJECTING)
        try:
            self._inject(exception, guard)
        finally:
            sys.setswitchinterval(interval)

    def _inject(self, exception: type[BaseException], guard: tuple[int, int]) -> None:
        import ctypes

        field, value = guard
        fields = self.worker.fields
        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
        thread_id = ctypes.c_ulong(self.worker.thread_id)
        if fields[field] != value:
            return
        set_async_exc(thread_id, ctypes.py_object(exception))
        if fields[field] != value:
            set_async_exc(thread_id, None)  # (NULL: clears it if it is still pending)

    def close(self) -> None:
        """Stop the thread. It is woken through the cell's interrupt fd, which an abandoned
        worker's watchdog may also be reading (it passes wake-ups on): write until it is
        gone. A spurious wake-up costs the other watchdog one look at the flags."""
        self.closing = True
        fd = self.worker.interrupt_fd
        while True:
            os.eventfd_write(fd, 1)
            if self.done.acquire(timeout=0.05):
                break
        if self.handle is not None:
            self.handle.join()  # (it has returned: only its thread state is left to go)
