"""Measurement primitives shared by the scenarios: sizes, timers, statistics, memory.

A scenario function returns a list of :class:`Row` dicts (plain data, JSON-ready). Times are
best-of-N for rates and wall times (the least disturbed run on a noisy machine) and
percentiles over every sample for latencies.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

Better = Literal["higher", "lower"]


@dataclass(frozen=True, slots=True)
class Size:
    """How much work each scenario does: ``smoke`` proves the code runs, ``quick`` < 2 min."""

    name: str
    repeat: int  # best-of
    cpu_steps: int  # total pure-Python steps of the CPU scenario
    asks: int  # sequential asks for latency
    concurrent_asks: int  # asks in total across the 100 callers
    tells: int
    big_tells: int  # 64 KiB tells
    payload_repeat: int  # round trips for 1 MiB
    spawn_many: int  # actors for "spawn N"
    idle_actors: int  # for RSS per idle actor
    scale_actors: int  # for the "many idle actors" scenario
    ring_actors: int
    ring_laps: int
    restarts: int


SMOKE = Size("smoke", 1, 200_000, 200, 1_000, 1_000, 50, 2, 3, 2, 4, 4, 2, 3)
QUICK = Size("quick", 3, 3_000_000, 3_000, 10_000, 20_000, 1_000, 5, 20, 10, 100, 20, 5, 20)
FULL = Size("full", 3, 12_000_000, 20_000, 60_000, 100_000, 5_000, 20, 100, 20, 1000, 100, 20, 200)
SIZES = {size.name: size for size in (SMOKE, QUICK, FULL)}


def row(
    metric: str,
    value: float | None,
    unit: str,
    better: Better,
    note: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """One measured number, as plain data."""
    return {"metric": metric, "value": value, "unit": unit, "better": better, "note": note, **extra}


@dataclass(frozen=True, slots=True)
class Latency:
    """Per-call samples (ns) of one or more runs, and the best run's rate (calls/s)."""

    samples: list[int]
    rate: float

    def percentile_us(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] / 1e3

    @staticmethod
    def merge(runs: list[Latency]) -> Latency:
        """All runs' samples together; the best run's rate."""
        return Latency([s for run in runs for s in run.samples], max(run.rate for run in runs))


def sequential_latency(call: Callable[[int], Any], n: int) -> Latency:
    """Per-call latency of ``n`` blocking calls made one after the other."""
    samples = [0] * n
    now = time.perf_counter_ns
    gc.disable()
    try:
        begin = time.perf_counter()
        for i in range(n):
            t0 = now()
            call(i)
            samples[i] = now() - t0
        elapsed = time.perf_counter() - begin
    finally:
        gc.enable()
    return Latency(samples, n / elapsed)


async def sequential_latency_async(call: Callable[[int], Awaitable[Any]], n: int) -> Latency:
    """Per-call latency of ``n`` awaited calls made one after the other."""
    samples = [0] * n
    now = time.perf_counter_ns
    gc.disable()
    try:
        begin = time.perf_counter()
        for i in range(n):
            t0 = now()
            await call(i)
            samples[i] = now() - t0
        elapsed = time.perf_counter() - begin
    finally:
        gc.enable()
    return Latency(samples, n / elapsed)


def latency_rows(lat: Latency, what: str = "ask") -> list[dict[str, Any]]:
    return [
        row(f"{what} p50, 1 caller", lat.percentile_us(0.5), "µs", "lower"),
        row(f"{what} p99, 1 caller", lat.percentile_us(0.99), "µs", "lower"),
        row(f"{what}s/s, 1 caller", lat.rate, "/s", "higher"),
    ]


# -- memory ------------------------------------------------------------------------------


def rss_kib(pid: int | None = None) -> int:
    """Resident set size (VmRSS) of a process, in KiB."""
    return _status_field(pid, "VmRSS:")


def pss_kib(pid: int) -> int:
    """Proportional set size of a process (shared pages split between sharers), in KiB."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise RuntimeError(f"no Pss for pid {pid}")


def _status_field(pid: int | None, field: str) -> int:
    with open(f"/proc/{pid or os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def settle_memory() -> None:
    """Collect garbage and give freed arenas back before reading RSS."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
