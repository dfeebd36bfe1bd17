"""The demo ``make run`` launches: a word-statistics pipeline on actors, then on threads.

    interactors run examples.pipeline:main

Chunks of generated text go to analyzer actors, one per CPU, each in its own interpreter
with its own GIL; every analyzer sends its chunk's statistics straight to a ``Totals``
actor. The analyzers run under a supervisor. One of them crashes once, on purpose: its
supervisor restarts it in place, its chunk goes back in the queue, and the run carries
on. Then the same chunks are analyzed on as many threads. Both runs must agree to the
last word; the summary shows how much faster the actors were. ``PIPELINE_WORDS`` sets
the words per chunk (default 100,000).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import anyio

import interactors
from examples.pipeline_actors import Analyzer, Totals, WordTotals, analyze_chunk

CHUNKS = 48
WORDS_PER_CHUNK = int(os.environ.get("PIPELINE_WORDS", "100000"))  # per chunk; try others
CRASH_CHUNK = 5  # the chunk whose first attempt crashes its analyzer
MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    seed: int
    words: int


class Progress:
    """Prints one line each time another quarter of the chunks is done."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.started = time.perf_counter()

    def advance(self) -> None:
        self.done += 1
        if self.done * 4 // self.total > (self.done - 1) * 4 // self.total:
            print(
                f"  {self.label:<8}{self.done:>3}/{self.total} chunks "
                f"({100 * self.done // self.total:>3}%)  {self.elapsed():5.1f} s",
                flush=True,
            )

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class Pipeline:
    """Feeds chunks to supervised analyzer actors; a chunk whose analyzer crashed is queued
    again.

    Each analyzer has a feeding task that takes the next chunk from a shared queue, so a
    free analyzer never waits for a busy one. The analyzers' supervisor restarts a crashed
    one (its ref stays valid); if they crash too often it gives up and the run ends with
    ``SupervisorGaveUp``. A chunk failing ``MAX_ATTEMPTS`` times ends it with
    ``RuntimeError``.
    """

    def __init__(self, system: interactors.ActorSystem, analyzers: int) -> None:
        self.system = system
        self.analyzers = analyzers
        self.crash_pending: int | None = CRASH_CHUNK
        self.attempts: dict[int, int] = {}
        self.handled: dict[str, int] = {}
        self.crashes = 0

    async def run(self, chunks: list[Chunk]) -> dict[str, Any]:
        """Analyze every chunk; return the totals' summary."""
        self.progress = Progress("actors", len(chunks))
        self.totals = await self.system.spawn(Totals, name="totals")
        supervisor = await self.system.start(
            interactors.Supervisor(
                name="analyzers",
                strategy="one_for_one",
                max_restarts=3,
                within=10.0,
                children=[
                    interactors.ChildSpec(Analyzer, self.totals, name=f"analyzer-{i}")
                    for i in range(1, self.analyzers + 1)
                ],
            )
        )
        refs = [supervisor.child(name) for name in supervisor.children()]
        self.queue, receive = anyio.create_memory_object_stream[Chunk](len(chunks))
        for chunk in chunks:
            self.queue.send_nowait(chunk)
        with receive:
            async with anyio.create_task_group() as tg:
                for ref in refs:
                    tg.start_soon(self._feed, ref, receive)
        summary: dict[str, Any] = await self.totals.ask.summary()
        return summary

    async def _feed(self, ref: interactors.ActorRef, receive: Any) -> None:
        async for chunk in receive:
            crash = chunk.index == self.crash_pending
            try:
                await ref.ask.analyze(chunk.index, chunk.seed, chunk.words, crash)
            except interactors.ActorError as exc:
                self._retry(ref, chunk, exc)
                continue
            self.handled[ref.name] = self.handled.get(ref.name, 0) + 1
            self.progress.advance()
            if self.progress.done == self.progress.total:
                self.queue.close()  # ends every feeding task's loop

    def _retry(self, ref: interactors.ActorRef, chunk: Chunk, exc: interactors.ActorError) -> None:
        self.crashes += 1
        if chunk.index == self.crash_pending:
            self.crash_pending = None
        attempts = self.attempts[chunk.index] = self.attempts.get(chunk.index, 0) + 1
        if attempts >= MAX_ATTEMPTS:
            raise RuntimeError(f"chunk {chunk.index} failed {attempts} times") from exc
        print(
            f"  ! {ref.name} crashed on chunk {chunk.index} ({exc.type_name}: "
            f"{exc.remote_message}): its supervisor restarts it, the chunk goes back "
            "in the queue",
            flush=True,
        )
        self.queue.send_nowait(chunk)


async def analyze_on_threads(chunks: list[Chunk], threads: int) -> dict[str, Any]:
    """The baseline: the same chunks and functions on ``threads`` threads of this process."""
    progress = Progress("threads", len(chunks))
    totals = WordTotals()
    limiter = anyio.CapacityLimiter(threads)

    async def analyze(chunk: Chunk) -> None:
        partial = await anyio.to_thread.run_sync(
            analyze_chunk, chunk.seed, chunk.words, limiter=limiter
        )
        totals.add(partial)
        progress.advance()

    async with anyio.create_task_group() as tg:
        for chunk in chunks:
            tg.start_soon(analyze, chunk)
    return totals.summary()


async def main(system: interactors.ActorSystem) -> None:
    workers = max(2, min(8, os.process_cpu_count() or 2))
    chunks = [Chunk(i, 1000 + i, WORDS_PER_CHUNK) for i in range(CHUNKS)]
    print(
        f"word statistics over {CHUNKS} chunks x {WORDS_PER_CHUNK:,} generated words, "
        f"{workers} analyzers",
        flush=True,
    )
    pipeline = Pipeline(system, workers)
    on_actors = await pipeline.run(chunks)
    actors_time = pipeline.progress.elapsed()
    started = time.perf_counter()
    on_threads = await analyze_on_threads(chunks, workers)
    threads_time = time.perf_counter() - started
    if on_actors != on_threads:
        raise RuntimeError(f"actors and threads disagree:\n{on_actors}\n{on_threads}")
    spread = ", ".join(f"{name} {count}" for name, count in sorted(pipeline.handled.items()))
    top = ", ".join(f"{word} ({count:,})" for word, count in on_actors["top"])
    print(
        "summary\n"
        f"  words     {on_actors['words']:,}: {on_actors['distinct']:,} distinct, "
        f"{on_actors['sentences']:,} sentences, {on_actors['vowel_share']:.1%} vowels\n"
        f"  top       {top}\n"
        f"  results   identical on actors and threads (fingerprint {on_actors['fingerprint']})\n"
        f"  actors    {actors_time:.1f} s on {workers} analyzers with their own GIL "
        f"({pipeline.crashes} crashed and restarted; chunks: {spread})\n"
        f"  threads   {threads_time:.1f} s on {workers} threads sharing one GIL\n"
        f"  speed-up  {threads_time / actors_time:.2f}x",
        flush=True,
    )
