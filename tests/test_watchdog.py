"""The watchdog's deadline check, run on a thread of this interpreter.

An actor's watchdog injects HandlerTimeout into the worker's thread when the handler named
by the slot's CURRENT_SEQ has run past ``handler_timeout``. Each handler is interrupted at
most once; a handler that reuses the number of an interrupted one (an incarnation that
ended between a handler's last line and its count) must still be interrupted.
"""

from __future__ import annotations

import array
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from interactors import HandlerTimeout
from interactors._inside.watchdog import Watchdog
from interactors._wire import slots as S


class _Worker:
    """What the watchdog reads of a worker: its slot, its thread and its fds."""

    def __init__(self, thread_id: int) -> None:
        self.handler_timeout = 0.05
        self.fields = array.array("Q", bytes(8 * S.FIELDS))
        self.base = 0
        self.token = 7
        self.fields[S.OWNER] = self.token
        self.interrupt_fd = os.eventfd(0, os.EFD_NONBLOCK)
        self.thread_id = thread_id
        self.loop: Any = None


def _spin(seconds: float) -> None:
    """A CPU loop. (Called, not inlined in a ``try``: an exception injected at a loop's
    backward jump can skip a ``try`` of the same function, cpython#108214. The worker
    calls handlers from its own ``try``, as here.)"""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def _handler(worker: _Worker, seq: int, outcome: list[str]) -> None:
    """Run a CPU loop as handler ``seq`` until interrupted, at most 5 s."""
    worker.fields[S.BUSY_SINCE] = time.monotonic_ns()
    worker.fields[S.CURRENT_SEQ] = seq
    try:
        _spin(5.0)
        outcome.append("ran to the end")
    except HandlerTimeout:
        outcome.append("interrupted")
    finally:
        worker.fields[S.CURRENT_SEQ] = 0


def _run_watched(serve: Callable[[_Worker], None]) -> None:
    """Run ``serve(worker)`` on a thread that a watchdog watches, until it returns."""
    ready = threading.Event()
    workers: list[_Worker] = []

    def run() -> None:
        ready.wait(5)
        serve(workers[0])

    thread = threading.Thread(target=run)
    thread.start()
    assert thread.ident is not None
    worker = _Worker(thread.ident)
    workers.append(worker)
    watchdog = Watchdog(worker)  # type: ignore[arg-type]
    try:
        ready.set()
        thread.join(12)
        assert not thread.is_alive()
    finally:
        watchdog.close()
        os.close(worker.interrupt_fd)


def test_a_handler_reusing_an_interrupted_handlers_number_is_interrupted_too() -> None:
    outcome: list[str] = []

    def serve(worker: _Worker) -> None:
        _handler(worker, 41, outcome)
        _handler(worker, 41, outcome)  # the same number, a later start

    _run_watched(serve)
    assert outcome == ["interrupted", "interrupted"]


def test_a_handler_is_interrupted_once() -> None:
    """After its injection, the same handler (same number and start) is left alone: a
    handler that catches HandlerTimeout and goes on is not interrupted again."""
    outcome: list[str] = []

    def serve(worker: _Worker) -> None:
        worker.fields[S.BUSY_SINCE] = time.monotonic_ns()
        worker.fields[S.CURRENT_SEQ] = 9
        try:
            _spin(5.0)
        except HandlerTimeout:
            outcome.append("interrupted")
        try:
            _spin(0.5)  # ten deadlines more in the same handler
            outcome.append("left alone")
        except HandlerTimeout:
            outcome.append("interrupted again")
        worker.fields[S.CURRENT_SEQ] = 0

    _run_watched(serve)
    assert outcome == ["interrupted", "left alone"]


class _EndsDuringInjection:
    """A slot whose handler ends while the watchdog injects: its CURRENT_SEQ reads ``seq``
    once, then 0 (every other field as the real slot has it)."""

    def __init__(self, fields: array.array[int], seq: int) -> None:
        self.fields, self.seq = fields, seq

    def __getitem__(self, index: int) -> int:
        if index != S.CURRENT_SEQ:
            return self.fields[index]
        seq, self.seq = self.seq, 0
        return seq


def _until(stop: threading.Event) -> None:
    while not stop.is_set():
        pass


def test_an_injection_for_a_handler_that_ended_meanwhile_is_taken_back() -> None:
    """The watchdog looked at the slot, then the handler ended before the injection: the
    exception must not break what the worker runs next (it is taken back while pending)."""
    for ends in (False, True):
        outcome: list[str] = []
        stop = threading.Event()

        def serve(
            worker: _Worker, outcome: list[str] = outcome, stop: threading.Event = stop
        ) -> None:
            try:
                _until(stop)
                outcome.append("left alone")
            except HandlerTimeout:
                outcome.append("interrupted")

        thread = threading.Thread(target=serve, args=(None,))
        thread.start()
        assert thread.ident is not None
        worker = _Worker(thread.ident)
        worker.handler_timeout = 0  # (its loop stays out of it: only the injection here)
        watchdog = Watchdog(worker)  # type: ignore[arg-type]
        real = worker.fields
        try:
            worker.fields = _EndsDuringInjection(real, 5) if ends else real  # type: ignore[assignment]
            real[S.CURRENT_SEQ] = 5
            previous = sys.getswitchinterval()
            sys.setswitchinterval(1.0)  # (the worker thread cannot run between the two reads)
            try:
                watchdog.inject(HandlerTimeout, (S.CURRENT_SEQ, 5))
            finally:
                sys.setswitchinterval(previous)
            time.sleep(0.2)
            stop.set()
            thread.join(5)
            assert not thread.is_alive()
        finally:
            worker.fields = real
            real[S.CURRENT_SEQ] = 0
            watchdog.close()
            os.close(worker.interrupt_fd)
        assert outcome == (["left alone"] if ends else ["interrupted"])
