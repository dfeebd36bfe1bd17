"""The watchdog: a thread in the actor's interpreter that breaks handlers past their deadline.

Stdlib only (no typing at run time): runs inside actors' interpreters.
"""

from __future__ import annotations

import time

from .._exceptions import HandlerTimeout
from .._wire import slots as S

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from .serving import Server

__all__ = ("Watchdog",)

_now_ns = time.monotonic_ns


class Watchdog:
    """A thread in the actor's interpreter that breaks handlers running past their deadline.

    It injects :class:`HandlerTimeout` into the worker thread. That cannot interrupt a call
    blocked in C (``time.sleep``, a lock, a socket): the exception lands when the call
    returns; an actor that still does not come back is abandoned by the host.
    """

    def __init__(self, worker: Server) -> None:
        self.worker = worker
        import threading

        self.stopping = threading.Event()
        self.poll = min(max(worker.handler_timeout / 4, 0.01), 0.5)
        self.thread = threading.Thread(target=self.watch, name=f"watchdog-{worker.name}")
        self.thread.start()

    def watch(self) -> None:
        import ctypes

        worker = self.worker
        fields, base = worker.fields, worker.base
        limit_ns = int(worker.handler_timeout * 1e9)
        target = ctypes.c_ulong(worker.thread_id)
        fired_for = 0
        while not self.stopping.wait(self.poll):
            beat = fields[base + S.HEARTBEAT]
            if beat:
                # An async actor: its loop must keep ticking (async handlers have their
                # own deadline); a stale heartbeat means a call is blocking the loop.
                stuck, since = beat, beat
            else:
                stuck, since = fields[base + S.CURRENT_SEQ], fields[base + S.BUSY_SINCE]
            if not stuck or stuck == fired_for:
                continue
            if _now_ns() - since > limit_ns:
                fired_for = stuck
                ctypes.pythonapi.PyThreadState_SetAsyncExc(target, ctypes.py_object(HandlerTimeout))

    def close(self) -> None:
        self.stopping.set()
        self.thread.join()
