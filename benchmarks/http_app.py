"""The ASGI example's app with its counters behind a choice of executor, for ``http_pool``.

    INTERACTORS_BENCH_EXECUTOR=round_robin uvicorn benchmarks.http_app:app

The routes and handlers are those of ``examples/asgi_app.py``; only what
``request.state.counters`` is changes, by ``INTERACTORS_BENCH_EXECUTOR``:

- ``least_busy`` / ``round_robin``: ``system.spawn_pool(PrimeCounter, size=2, policy=...)``
  (the example itself uses ``least_busy``);
- ``threads``: a ``ThreadPoolExecutor(2)``; ``processes``: a ``ProcessPoolExecutor(2)``,
  both through ``loop.run_in_executor`` behind the same ``ask.count_named(below)`` call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import multiprocessing
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

from examples.asgi_app import app as example
from examples.primes import PrimeCounter, count_primes
from starlette.applications import Starlette

import interactors

EXECUTORS = ("least_busy", "round_robin", "threads", "processes")
WORKERS = 2


def count_named(below: int) -> tuple[int, str]:
    """What ``PrimeCounter.count_named`` answers, from an executor's worker."""
    return count_primes(below), f"{os.getpid()}/{threading.current_thread().name}"


class ExecutorCounters:
    """``await counters.ask.count_named(below)`` run on a ``concurrent.futures`` executor."""

    def __init__(self, executor: concurrent.futures.Executor) -> None:
        self.executor = executor
        self.ask = self

    async def count_named(self, below: int) -> tuple[int, str]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, count_named, below)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    kind = os.environ.get("INTERACTORS_BENCH_EXECUTOR", "least_busy")
    if kind not in EXECUTORS:
        raise SystemExit(f"INTERACTORS_BENCH_EXECUTOR must be one of {EXECUTORS}, got {kind!r}")
    async with interactors.ActorSystem() as system:
        if kind in ("threads", "processes"):
            make = (
                concurrent.futures.ThreadPoolExecutor
                if kind == "threads"
                # spawn, not fork: this process already runs threads
                else functools.partial(
                    concurrent.futures.ProcessPoolExecutor,
                    mp_context=multiprocessing.get_context("spawn"),
                )
            )
            with make(WORKERS) as executor:
                counters = ExecutorCounters(executor)
                for _ in range(2 * WORKERS):  # every worker started before the load
                    await counters.count_named(10)
                yield {"system": system, "counters": counters}
        else:
            pool = await system.spawn_pool(PrimeCounter, size=WORKERS, policy=kind)
            yield {"system": system, "counters": pool}


app = Starlette(routes=list(example.routes), lifespan=lifespan)
