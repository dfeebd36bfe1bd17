"""A trio TCP server handing CPU-bound work to actors.

    interactors run --backend trio examples.trio_server:main

Line protocol: send ``primes N`` and read back how many primes are smaller than N (or
``error: ...``). Each connection's requests go to the prime-counting actors in turn, so
clients connected at the same time are served in parallel while the trio loop stays
free. Listens on 127.0.0.1, port ``$PORT`` (default 8765; 0 picks a free one and prints
it).
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterator
from typing import Any

import trio

import interactors
from examples.primes import PrimeCounter

MAX_BELOW = 5_000_000
MAX_LINE = 1024


async def answer(line: bytes, counters: Iterator[interactors.ActorRef]) -> bytes:
    """The reply to one request line."""
    match line.split():
        case [b"primes", number] if number.isdigit() and int(number) <= MAX_BELOW:
            count = await next(counters).ask.count(int(number))
            return b"%d\n" % count
        case _:
            return b"error: send 'primes N' with 0 <= N <= %d\n" % MAX_BELOW


async def handle(stream: trio.SocketStream, counters: Iterator[interactors.ActorRef]) -> None:
    """Answer each line received on ``stream`` until the client closes it."""
    buffer = b""
    async with stream:
        while data := await stream.receive_some():
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                await stream.send_all(await answer(line, counters))
            if len(buffer) > MAX_LINE:
                await stream.send_all(b"error: line too long\n")
                return


async def serve(
    system: interactors.ActorSystem,
    port: int,
    *,
    task_status: Any = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve on 127.0.0.1:``port``; ``nursery.start(serve, ...)`` returns the listeners."""
    counters = [
        await system.spawn(PrimeCounter, name=f"primes-{i}")
        for i in range(1, max(2, os.process_cpu_count() or 2) + 1)
    ]
    handler = functools.partial(handle, counters=itertools.cycle(counters))
    await trio.serve_tcp(handler, port, host="127.0.0.1", task_status=task_status)


async def main(system: interactors.ActorSystem) -> None:
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(serve, system, int(os.environ.get("PORT", "8765")))
        host, port = listeners[0].socket.getsockname()[:2]
        print(f"serving on {host}:{port}; try: echo 'primes 100000' | nc {host} {port}", flush=True)
