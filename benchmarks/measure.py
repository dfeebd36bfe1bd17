"""Measurement primitives shared by the scenarios: sizes, timers, statistics, memory, rows.

A scenario function returns a list of :func:`row` dicts (plain data, JSON-ready). Times are
best-of-N for rates and wall times (the least disturbed run on a noisy machine), medians
for single calls, and percentiles over every sample for latencies. Everything a scenario
module repeats lives here, so that the scenario modules read as the scenarios only.

Only light stdlib modules are imported at module level (``statistics`` and the framework
list are imported where they are used): ``restart`` imports this module, and its spawned
worker processes import ``restart`` on the clock of the multiprocessing baseline.
"""

from __future__ import annotations

import gc
import json
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Better = Literal["higher", "lower"]
Runner = Callable[..., list[dict[str, Any]]]


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


# -- rows and results ----------------------------------------------------------------------


def fresh_bytecode() -> None:
    """Write the cached bytecode of interactors and of these benchmarks where it is missing
    or stale, as installing a package does: every actor's interpreter imports them, and
    compiling them there instead (an editable install under ``PYTHONDONTWRITEBYTECODE``,
    a source file newer than its cache) would add milliseconds to every spawn."""
    import compileall

    import interactors

    for package in (Path(interactors.__file__).parent, Path(__file__).parent):
        compileall.compile_dir(package, quiet=2)


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


def runners(namespace: dict[str, Any], **named: Runner) -> dict[str, Runner]:
    """A scenario's ``RUNNERS``: its module-level function named after each framework.

    ``named`` gives the runners whose function has another name (``raw=raw_baseline``,
    where ``raw`` is the imported module). Frameworks without one are not applicable.
    """
    from .frameworks import FRAMEWORKS

    found = {f.name: named.get(f.name, namespace.get(f.name)) for f in FRAMEWORKS}
    return {name: run for name, run in found.items() if callable(run)}


def save_json(path: Path, data: Any) -> Path:
    """Write a result document, indented, with a final newline."""
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


# -- timers --------------------------------------------------------------------------------


class Timer:
    """``with Timer() as t: ...``, then ``t.seconds`` (wall time, ``time.perf_counter``)."""

    __slots__ = ("begin", "seconds")

    def __enter__(self) -> Timer:
        self.seconds = 0.0
        self.begin = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.begin


def elapsed(call: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    begin = time.perf_counter()
    call()
    return time.perf_counter() - begin


async def elapsed_async(call: Callable[[], Awaitable[Any]]) -> float:
    """Seconds one awaited call takes."""
    begin = time.perf_counter()
    await call()
    return time.perf_counter() - begin


def best_time(repeat: int, call: Callable[[], Any]) -> float:
    """The shortest of ``repeat`` runs, in seconds."""
    return min(elapsed(call) for _ in range(repeat))


async def best_time_async(repeat: int, call: Callable[[], Awaitable[Any]]) -> float:
    """The shortest of ``repeat`` awaited runs, in seconds."""
    return min([await elapsed_async(call) for _ in range(repeat)])


def best_rate(repeat: int, n: int, call: Callable[[], Any]) -> float:
    """Operations per second of the best of ``repeat`` runs, each doing ``n`` operations."""
    return n / best_time(repeat, call)


async def best_rate_async(repeat: int, n: int, call: Callable[[], Awaitable[Any]]) -> float:
    """Operations per second of the best of ``repeat`` awaited runs of ``n`` operations."""
    return n / await best_time_async(repeat, call)


def _median(samples: list[float]) -> float:
    import statistics

    return statistics.median(samples)


def median_ms(n: int, call: Callable[[], Any]) -> float:
    """Median time of ``n`` calls, in ms, after one untimed warm-up call."""
    call()
    return _median([elapsed(call) for _ in range(n)]) * 1e3


async def median_ms_async(n: int, call: Callable[[], Awaitable[Any]]) -> float:
    """Median time of ``n`` awaited calls, in ms, after one untimed warm-up call."""
    await call()
    return _median([await elapsed_async(call) for _ in range(n)]) * 1e3


def median_ms_of(n: int, once: Callable[[], float]) -> float:
    """Median, in ms, of ``n`` samples that time themselves (``once`` returns seconds)."""
    return _median([once() for _ in range(n)]) * 1e3


# -- latency -------------------------------------------------------------------------------


def percentile(samples: list[int], q: float) -> int:
    """The sample at quantile ``q`` (nearest rank, no interpolation)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@dataclass(frozen=True, slots=True)
class Latency:
    """Per-call samples (ns) of one or more runs, and the best run's rate (calls/s)."""

    samples: list[int]
    rate: float

    def percentile_us(self, q: float) -> float:
        return percentile(self.samples, q) / 1e3

    @staticmethod
    def merge(runs: list[Latency]) -> Latency:
        """All runs' samples together; the best run's rate."""
        return Latency([s for run in runs for s in run.samples], max(run.rate for run in runs))


@contextmanager
def _gc_off() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def sequential_latency(call: Callable[[int], Any], n: int) -> Latency:
    """Per-call latency of ``n`` blocking calls made one after the other."""
    samples = [0] * n
    now = time.perf_counter_ns
    with _gc_off(), Timer() as run:
        for i in range(n):
            t0 = now()
            call(i)
            samples[i] = now() - t0
    return Latency(samples, n / run.seconds)


async def sequential_latency_async(call: Callable[[int], Awaitable[Any]], n: int) -> Latency:
    """Per-call latency of ``n`` awaited calls made one after the other."""
    samples = [0] * n
    now = time.perf_counter_ns
    with _gc_off(), Timer() as run:
        for i in range(n):
            t0 = now()
            await call(i)
            samples[i] = now() - t0
    return Latency(samples, n / run.seconds)


def latency(repeat: int, call: Callable[[int], Any], n: int) -> Latency:
    """``repeat`` runs of ``n`` sequential calls, after a warm-up of a tenth as many."""
    sequential_latency(call, max(1, n // 10))
    return Latency.merge([sequential_latency(call, n) for _ in range(repeat)])


async def latency_async(repeat: int, call: Callable[[int], Awaitable[Any]], n: int) -> Latency:
    """``repeat`` runs of ``n`` sequential awaited calls, after a warm-up of a tenth as many."""
    await sequential_latency_async(call, max(1, n // 10))
    return Latency.merge([await sequential_latency_async(call, n) for _ in range(repeat)])


@contextmanager
def busy_cpu() -> Iterator[None]:
    """Another process spinning on a CPU meanwhile: a busy machine, where the code measured
    shares a CPU (a spin that does not yield it then takes whole time slices)."""
    import subprocess
    import sys

    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.1)  # (running)
        yield
    finally:
        hog.kill()
        hog.wait()


BUSY = "1 CPU busy"


def latency_rows(lat: Latency, what: str = "ask") -> list[dict[str, Any]]:
    return [
        row(f"{what} p50, 1 caller", lat.percentile_us(0.5), "µs", "lower"),
        row(f"{what} p99, 1 caller", lat.percentile_us(0.99), "µs", "lower"),
        row(f"{what}s/s, 1 caller", lat.rate, "/s", "higher"),
    ]


# -- memory --------------------------------------------------------------------------------


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


def mean_mib(read_kib: Callable[[int], int], pids: Iterable[int]) -> float:
    """The mean of ``read_kib`` (``rss_kib`` or ``pss_kib``) over processes, in MiB."""
    import statistics

    return statistics.fmean(read_kib(pid) for pid in pids) / 1024


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


class RssGrowth:
    """``with RssGrowth() as rss: ...``: this process's VmRSS before and after (settled), KiB."""

    __slots__ = ("after", "before")

    def __enter__(self) -> RssGrowth:
        settle_memory()
        self.before = self.after = rss_kib()
        return self

    def __exit__(self, *exc: object) -> None:
        settle_memory()
        self.after = rss_kib()

    def mib_each(self, count: int) -> float:
        """The growth per one of ``count`` things made inside the block, in MiB."""
        return (self.after - self.before) / count / 1024
