"""Raw baselines: the same jobs done directly with the interpreter and queue primitives.

They give the "framework / raw" overhead columns: what interactors costs on top of the
cross-interpreter queues and eventfds it is built on. Each baseline runs small loops in
fresh own-GIL interpreters driven by host threads, and cleans up everything it creates.

- ``pipe_echo``: a ``multiprocessing`` Pipe echo to a worker process (the issue's yardstick);
- ``spinning_ping_pong``: two interpreters bouncing a message, both spinning on the queue;
- ``RawServer``: an interpreter that answers requests (spins, then parks on an eventfd), with
  an asyncio host (``loop.add_reader`` on the reply eventfd) or a trio host
  (``trio.lowlevel.wait_readable``) — the primitive form of an ask;
- ``one_way``: puts into a queue that an interpreter drains (the primitive form of a tell).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from interactors import _backend as backend

from . import bench_actors
from .measure import Timer

# Runs inside an interpreter: answer each request (tag, payload) with (tag, payload or its
# length), spinning 50 µs on the queue before parking on the eventfd. None stops it.
_SERVER = """
import os, sys, time
sys.path[:] = list(path)
import _interpreters  # lets memoryviews arrive here
from interactors import _backend as b
count, get, put, wake = b.count, b.get, b.put, os.eventfd_write
perf, pause = time.perf_counter, os.sched_yield
running = True
while running:
    n = count(inbox)
    if n:
        for _ in range(n):
            msg = get(inbox)
            if msg is None:
                running = False
                break
            tag, data = msg
            if tag >= 0:
                put(outbox, (tag, len(data) if measure_len and data is not None else data))
                wake(out_fd, 1)
        continue
    deadline = perf() + 50e-6
    while not count(inbox) and perf() < deadline:
        pause()
    if not count(inbox):
        os.eventfd_read(in_fd)
"""

# Runs inside an interpreter: one end of the spinning ping-pong.
_PING = """
import os, sys, time
sys.path[:] = list(path)
from interactors import _backend as b
count, get, put, pause = b.count, b.get, b.put, os.sched_yield
if first:
    begin = time.perf_counter()
    for i in range(n):
        put(out_q, i)
        while not count(in_q):
            pause()
        get(in_q)
    put(result_q, time.perf_counter() - begin)
else:
    for i in range(n):
        while not count(in_q):
            pause()
        put(out_q, get(in_q))
"""


@contextmanager
def _interpreters(count: int) -> Iterator[list[int]]:
    iids = [backend.new_interpreter(True) for _ in range(count)]
    try:
        yield iids
    finally:
        for iid in iids:
            backend.destroy_interpreter(iid)


@contextmanager
def _queues(count: int) -> Iterator[list[int]]:
    qids = [backend.create_queue(0) for _ in range(count)]
    try:
        yield qids
    finally:
        for qid in qids:
            backend.destroy_queue(qid)


def _run_in(iid: int, code: str, shared: dict[str, Any]) -> threading.Thread:
    def target() -> None:
        failure = backend.run(iid, code, shared)
        if failure is not None:
            print(f"raw baseline failed: {failure.type_name}: {failure.message}", file=sys.stderr)

    thread = threading.Thread(target=target, name=f"raw-interpreter-{iid}")
    thread.start()
    return thread


def spinning_ping_pong(n: int) -> float:
    """Round trips per second between two interpreters that spin on their queues."""
    with _interpreters(2) as (a, b), _queues(3) as (q1, q2, result_q):
        path = tuple(sys.path)
        threads = [
            _run_in(b, _PING, {"path": path, "first": False, "n": n, "in_q": q1, "out_q": q2}),
            _run_in(
                a,
                _PING,
                {
                    "path": path,
                    "first": True,
                    "n": n,
                    "in_q": q2,
                    "out_q": q1,
                    "result_q": result_q,
                },
            ),
        ]
        for thread in threads:
            thread.join()
        elapsed = float(backend.get(result_q))  # type: ignore[arg-type]
    return n / elapsed


def pipe_echo(n: int) -> float:
    """Round trips per second of a ``multiprocessing`` Pipe echo to a worker process."""
    context = multiprocessing.get_context("spawn")
    here, there = context.Pipe()
    worker = context.Process(target=bench_actors.pipe_echo_worker, args=(there,))
    worker.start()
    try:
        here.send(0)
        here.recv()
        with Timer() as run:
            for i in range(n):
                here.send(i)
                here.recv()
        here.send(None)
    finally:
        worker.join(10)
        here.close()
        there.close()
    return n / run.seconds


class RawServer:
    """An interpreter answering requests over raw queues + eventfds (see the module doc)."""

    def __init__(self, measure_len: bool = False) -> None:
        self.iid = backend.new_interpreter(True)
        self.inbox = backend.create_queue(0)
        self.outbox = backend.create_queue(0)
        self.in_fd = os.eventfd(0, os.EFD_CLOEXEC)
        self.out_fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
        self._tags = itertools.count(1)
        self.waiters: dict[int, Any] = {}
        shared = {
            "path": tuple(sys.path),
            "inbox": self.inbox,
            "outbox": self.outbox,
            "in_fd": self.in_fd,
            "out_fd": self.out_fd,
            "measure_len": measure_len,
        }
        self.thread = _run_in(self.iid, _SERVER, shared)

    def close(self) -> None:
        backend.put(self.inbox, None)
        os.eventfd_write(self.in_fd, 1)
        self.thread.join()
        backend.destroy_interpreter(self.iid)
        backend.destroy_queue(self.inbox)
        backend.destroy_queue(self.outbox)
        os.close(self.in_fd)
        os.close(self.out_fd)

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- blocking use (the host thread spins for the reply) -------------------------------

    def call_blocking(self, data: Any) -> Any:
        tag = next(self._tags)
        backend.put(self.inbox, (tag, data))
        os.eventfd_write(self.in_fd, 1)
        while not backend.count(self.outbox):
            os.sched_yield()
        return backend.get(self.outbox)[1]  # type: ignore[index]

    def send_nowait(self, data: Any) -> None:
        """Fire and forget (a negative tag is never answered)."""
        backend.put(self.inbox, (-1, data))
        os.eventfd_write(self.in_fd, 1)

    # -- asyncio host ---------------------------------------------------------------------

    def _drain(self) -> None:
        with suppress(BlockingIOError):
            os.eventfd_read(self.out_fd)
        count, get, waiters = backend.count, backend.get, self.waiters
        while count(self.outbox):
            tag, data = get(self.outbox)  # type: ignore[misc]
            waiter = waiters.pop(tag, None)
            if waiter is not None:
                waiter.set_result(data)

    async def call_asyncio(self, data: Any) -> Any:
        import asyncio

        loop = asyncio.get_running_loop()
        future = loop.create_future()
        tag = next(self._tags)
        self.waiters[tag] = future
        backend.put(self.inbox, (tag, data))
        os.eventfd_write(self.in_fd, 1)
        return await future

    def attach_asyncio(self) -> None:
        import asyncio

        asyncio.get_running_loop().add_reader(self.out_fd, self._drain)

    def detach_asyncio(self) -> None:
        import asyncio

        asyncio.get_running_loop().remove_reader(self.out_fd)

    # -- trio host ------------------------------------------------------------------------

    async def trio_reader(self) -> None:
        import trio

        while True:
            await trio.lowlevel.wait_readable(self.out_fd)
            self._drain()

    async def call_trio(self, data: Any) -> Any:
        import trio

        tag = next(self._tags)
        self.waiters[tag] = _TrioWaiter(trio.lowlevel.current_task())
        backend.put(self.inbox, (tag, data))
        os.eventfd_write(self.in_fd, 1)
        return await trio.lowlevel.wait_task_rescheduled(lambda _: trio.lowlevel.Abort.SUCCEEDED)


class _TrioWaiter:
    __slots__ = ("task",)

    def __init__(self, task: Any) -> None:
        self.task = task

    def set_result(self, value: Any) -> None:
        import outcome
        import trio

        trio.lowlevel.reschedule(self.task, outcome.Value(value))


def one_way(n: int, payload: Any) -> float:
    """Messages per second put into a queue and drained by an interpreter (no replies)."""
    with RawServer() as server:
        server.call_blocking(None)  # warm up
        with Timer() as run:
            for _ in range(n):
                server.send_nowait(payload)
            server.call_blocking(None)  # every earlier message has been taken by now
    return n / run.seconds
