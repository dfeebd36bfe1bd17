"""Ray local actors for the benchmarks, driven through ``.remote()`` and ``ray.get``.

Ray is imported only when a Ray cell runs: the classes are built by :func:`actor_classes`.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .bench_actors import burn


def init() -> Any:
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
        configure_logging=False,
    )
    return ray


@functools.cache
def actor_classes() -> dict[str, Any]:
    import asyncio

    import ray

    @ray.remote
    class RayEcho:
        def __init__(self) -> None:
            self.received = 0
            self.next: Any = None

        def ping(self, value: Any) -> Any:
            return value

        def length(self, data: Any) -> int:
            return len(data)

        def burn(self, n: int) -> int:
            return burn(n)

        def put(self, data: Any) -> None:
            self.received += 1

        def count(self) -> int:
            return self.received

        def pid(self) -> int:
            return os.getpid()

        def ping_many(self, target: Any, n: int) -> int:
            for i in range(n):
                ray.get(target.ping.remote(i))
            return n

        def produce(self, target: Any, n: int, size: int) -> int:
            data = b"x" * size if size else 1
            last = None
            for _ in range(n):
                last = target.put.remote(data)
            ray.get(last)  # calls from one caller run in order: all of ours are done
            return n

        def link(self, next_ref: Any) -> None:
            self.next = next_ref

        def token(self, hops: int) -> None:
            self.next.token.remote(hops - 1)

        def crash(self) -> None:
            os._exit(1)

    @ray.remote
    class RayRingHead:
        def __init__(self) -> None:
            self.next: Any = None
            self.done: asyncio.Event | None = None

        async def link(self, next_ref: Any) -> None:
            self.next = next_ref

        async def token(self, hops: int) -> None:
            if hops <= 0:
                if self.done is not None:
                    self.done.set()
                return
            self.next.token.remote(hops - 1)

        async def run(self, hops: int) -> int:
            self.done = asyncio.Event()
            self.next.token.remote(hops - 1)
            await self.done.wait()
            return hops

    return {"echo": RayEcho, "ring_head": RayRingHead}
