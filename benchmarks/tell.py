"""Scenario 3 — one-way messages: tells into one actor, and fan-in from 8 actors into one.

- into one actor: ``size.tells`` small messages (an int) or ``size.big_tells`` 64 KiB
  ``bytes`` from the caller, timed until the actor has handled the last one (an ask for its
  count, which queues behind them). interactors sends with ``tell_nowait`` and falls back
  to ``await tell`` while the mailbox is full;
- fan-in: 8 producer actors each send an eighth of the messages to one sink actor, started
  together; timed until the sink has counted them all.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable
from typing import Any

import anyio

from . import bench_actors, raw
from .bench_actors import Echo, Pinger
from .measure import Size, Timer, best_rate, best_rate_async, row, runners

TITLE = "Tell throughput and fan-in"
BIG = 64 * 1024
PRODUCERS = 8


def _rows(
    one: float, one_big: float, fan: float | None, fan_big: float | None, note: str = ""
) -> list[dict[str, Any]]:
    rows = [
        row("tells/s into one actor, small", one, "/s", "higher", note),
        row("tells/s into one actor, 64 KiB", one_big, "/s", "higher", note),
    ]
    if fan is not None and fan_big is not None:
        rows += [
            row(f"fan-in {PRODUCERS}→1 msgs/s, small", fan, "/s", "higher"),
            row(f"fan-in {PRODUCERS}→1 msgs/s, 64 KiB", fan_big, "/s", "higher"),
        ]
    return rows


def _measure(
    size: Size,
    into_one: Callable[[int, Any], Any],
    fan_in: Callable[[int, Any], Any],
    n: int,
    n_big: int,
    fan_data: tuple[Any, Any] = (0, BIG),
    note: str = "",
) -> list[dict[str, Any]]:
    """The four rates, best of ``size.repeat``: ``into_one(n, data)``, ``fan_in(n, data)``
    with ``n`` small and ``n_big`` 64 KiB messages (``fan_data``: what ``fan_in`` is given)."""
    big = b"x" * BIG
    return _rows(
        best_rate(size.repeat, n, lambda: into_one(n, 1)),
        best_rate(size.repeat, n_big, lambda: into_one(n_big, big)),
        best_rate(size.repeat, n, lambda: fan_in(n, fan_data[0])),
        best_rate(size.repeat, n_big, lambda: fan_in(n_big, fan_data[1])),
        note,
    )


def interactors(size: Size) -> list[dict[str, Any]]:
    import interactors as ia

    async def main() -> list[dict[str, Any]]:
        async with ia.ActorSystem() as system:
            sink = await system.spawn(Echo)
            producers = [await system.spawn(Pinger) for _ in range(PRODUCERS)]

            async def into_one(n: int, data: Any) -> None:
                start = await sink.ask.count()
                put_nowait, put = sink.tell_nowait.put, sink.tell.put
                for _ in range(n):
                    try:
                        put_nowait(data)
                    except ia.MailboxFull:
                        await put(data)
                if await sink.ask.count() != start + n:
                    raise RuntimeError("messages were lost")

            async def fan_in(n: int, payload_size: int) -> None:
                start = await sink.ask.count()
                async with anyio.create_task_group() as tg:
                    for p in producers:
                        tg.start_soon(p.ask.produce, sink, n // PRODUCERS, payload_size)
                if await sink.ask.count() != start + n // PRODUCERS * PRODUCERS:
                    raise RuntimeError("messages were lost")

            big = b"x" * BIG
            tells, big_tells, repeat = size.tells, size.big_tells, size.repeat
            await into_one(tells // 10, 1)
            one = await best_rate_async(repeat, tells, lambda: into_one(tells, 1))
            one_big = await best_rate_async(repeat, big_tells, lambda: into_one(big_tells, big))
            fan = await best_rate_async(repeat, tells, lambda: fan_in(tells, 0))
            fan_big = await best_rate_async(repeat, big_tells, lambda: fan_in(big_tells, BIG))
        return _rows(one, one_big, fan, fan_big)

    return ia.run(main)


def raw_baseline(size: Size) -> list[dict[str, Any]]:
    one = max(raw.one_way(size.tells, 1) for _ in range(size.repeat))
    big = b"x" * BIG
    one_big = max(raw.one_way(size.big_tells, big) for _ in range(size.repeat))
    return _rows(one, one_big, None, None, "queue put + eventfd write, unbounded queue")


def threads(size: Size) -> list[dict[str, Any]]:
    """A consumer thread draining a ``queue.SimpleQueue``; producer threads for fan-in."""
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    done = threading.Semaphore(0)
    counted = [0]

    def consume() -> None:
        while (item := inbox.get()) is not None:
            if item == "mark":
                done.release()
            else:
                counted[0] += 1

    consumer = threading.Thread(target=consume, name="bench-sink")
    consumer.start()

    def into_one(n: int, data: Any) -> None:
        for _ in range(n):
            inbox.put(data)
        inbox.put("mark")
        done.acquire()

    def fan_in(n: int, data: Any) -> None:
        def produce() -> None:
            for _ in range(n // PRODUCERS):
                inbox.put(data)

        team = [threading.Thread(target=produce) for _ in range(PRODUCERS)]
        for t in team:
            t.start()
        for t in team:
            t.join()
        inbox.put("mark")
        done.acquire()

    note = "queue.SimpleQueue + threads"
    try:
        rows = _measure(size, into_one, fan_in, size.tells, size.big_tells, (1, b"x" * BIG), note)
    finally:
        inbox.put(None)
        consumer.join()
    return rows


def processes(size: Size) -> list[dict[str, Any]]:
    """A consumer process draining a ``multiprocessing.Queue``; producer processes for fan-in."""
    context = multiprocessing.get_context("spawn")
    inbox = context.Queue()
    here, there = context.Pipe()
    consumer = context.Process(target=bench_actors.queue_consumer, args=(inbox, there))
    consumer.start()

    def into_one(n: int, data: Any) -> None:
        for _ in range(n):
            inbox.put(data)
        inbox.put("mark")
        here.recv()

    def fan_in(n: int, payload_size: int) -> None:
        gate = context.Event()
        team = [
            context.Process(
                target=bench_actors.queue_producer, args=(inbox, n // PRODUCERS, payload_size, gate)
            )
            for _ in range(PRODUCERS)
        ]
        for p in team:
            p.start()
        with Timer() as fan:  # processes take ~0.1 s each to start: time once all are ready
            gate.set()
            for p in team:
                p.join()
            inbox.put("mark")
            here.recv()
        timings.append(fan.seconds)

    timings: list[float] = []
    big = b"x" * BIG
    try:
        inbox.put("mark")
        here.recv()
        one = best_rate(size.repeat, size.tells // 4, lambda: into_one(size.tells // 4, 1))
        one_big = best_rate(size.repeat, size.big_tells, lambda: into_one(size.big_tells, big))
        fan = _fan_rate(size, timings, size.tells // 4, lambda: fan_in(size.tells // 4, 0))
        fan_big = _fan_rate(size, timings, size.big_tells, lambda: fan_in(size.big_tells, BIG))
    finally:
        inbox.put(None)
        consumer.join(10)
        inbox.close()
        here.close()
        there.close()
    return _rows(one, one_big, fan, fan_big, "multiprocessing.Queue + spawned processes")


def _fan_rate(size: Size, timings: list[float], n: int, run: Callable[[], Any]) -> float:
    timings.clear()
    for _ in range(size.repeat):
        run()
    return n // PRODUCERS * PRODUCERS / min(timings)


def pykka(size: Size) -> list[dict[str, Any]]:
    from .peer_pykka import PykkaEcho

    sink = PykkaEcho.start()
    producers = [PykkaEcho.start() for _ in range(PRODUCERS)]

    def into_one(n: int, data: Any) -> None:
        start = sink.ask(("count",))
        for _ in range(n):
            sink.tell(("put", data))
        if sink.ask(("count",)) != start + n:
            raise RuntimeError("messages were lost")

    def fan_in(n: int, payload_size: int) -> None:
        futures = [
            p.ask(("produce", sink, n // PRODUCERS, payload_size), block=False) for p in producers
        ]
        for future in futures:
            future.get()
        sink.ask(("count",))

    try:
        return _measure(size, into_one, fan_in, size.tells, size.big_tells)
    finally:
        for ref in [sink, *producers]:
            ref.stop()


def thespian(size: Size) -> list[dict[str, Any]]:
    from .peer_thespian import ThespianEcho, start_system

    system = start_system()
    n, n_big = max(1, size.tells // 10), max(1, size.big_tells // 4)
    try:
        sink = system.createActor(ThespianEcho)
        producers = [system.createActor(ThespianEcho) for _ in range(PRODUCERS)]
        received = [0]

        def into_one(count: int, data: Any) -> None:
            for _ in range(count):
                system.tell(sink, ("put", data))
            received[0] += count
            system.ask(sink, ("count_when", received[0]), 60)

        def fan_in(count: int, payload_size: int) -> None:
            for p in producers:
                system.tell(p, ("produce", sink, count // PRODUCERS, payload_size))
            for _ in producers:
                system.listen(60)
            received[0] += count // PRODUCERS * PRODUCERS
            system.ask(sink, ("count_when", received[0]), 60)

        return _measure(size, into_one, fan_in, n, n_big)
    finally:
        system.shutdown()


def ray(size: Size) -> list[dict[str, Any]]:
    from . import peer_ray

    raym = peer_ray.init()
    n, n_big = max(1, size.tells // 20), max(1, size.big_tells // 10)
    try:
        echo = peer_ray.actor_classes()["echo"]
        sink = echo.remote()
        producers = [echo.remote() for _ in range(PRODUCERS)]
        raym.get([a.ping.remote(0) for a in [sink, *producers]])

        def into_one(count: int, data: Any) -> None:
            for _ in range(count):
                sink.put.remote(data)
            raym.get(sink.count.remote())

        def fan_in(count: int, payload_size: int) -> None:
            raym.get([p.produce.remote(sink, count // PRODUCERS, payload_size) for p in producers])
            raym.get(sink.count.remote())

        return _measure(size, into_one, fan_in, n, n_big)
    finally:
        raym.shutdown()


RUNNERS = runners(globals(), raw=raw_baseline)
NOT_APPLICABLE = {"to_interpreter": "no actors or mailboxes: calls only"}
