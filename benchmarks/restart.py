"""Restart latency and memory: how fast a crashed actor answers again, and what it costs.

    python -m benchmarks.restart [--quick]

Each sample times one recovery as a caller sees it, from sending the ask that crashes the
actor (it raises ``ActorCrashed``) to the answer of the next ask, which waits in the
mailbox and is answered by the new incarnation:

- in place: the default; the same interpreter builds a fresh instance;
- fresh interpreter, from the spare pool: ``fresh_interpreter=True`` with
  ``spare_interpreters=1``; the pool is topped up between samples, off the timed path;
- fresh interpreter, no spare: ``spare_interpreters=0``, so each restart creates one;
- multiprocessing (spawn): the worker process dies (``os._exit``) and a replacement is
  started, or (second row) a pre-started spare process takes over.

Then the RSS growth (VmRSS) over 1,000 in-place restarts, and per fresh-interpreter restart.
Prints a table and writes ``benchmarks/results/restart-<date>.json``; :func:`run` returns the
same data for the suite's runner. Targets: p99 <= 1 ms in place, <= 20 ms from the spare pool.

Only the stdlib (and ``measure``, which keeps to light stdlib modules) is imported at module
level: the multiprocessing baseline's spawned workers import this module, and a real worker
module would not pull in an actor runtime.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import multiprocessing
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .measure import RssGrowth, percentile, row, save_json

RESULTS = Path(__file__).parent / "results"
TITLE = "Restart latency"
TARGET_IN_PLACE_MS = 1.0
TARGET_SPARE_MS = 20.0


@dataclass(frozen=True, slots=True)
class Plan:
    """How many samples each case takes."""

    name: str
    in_place: int
    fresh: int
    processes: int
    rss_restarts: int


SMOKE = Plan("smoke", 50, 3, 2, 50)
QUICK = Plan("quick", 1_000, 20, 10, 1_000)
FULL = Plan("full", 5_000, 100, 30, 1_000)
PLANS = {plan.name: plan for plan in (SMOKE, QUICK, FULL)}


def summarize(
    case: str, samples_ns: list[int], target_ms: float | None = None, note: str = ""
) -> dict[str, Any]:
    p99 = percentile(samples_ns, 0.99) / 1e6
    return {
        "case": case,
        "samples": len(samples_ns),
        "p50_ms": round(percentile(samples_ns, 0.5) / 1e6, 4),
        "p99_ms": round(p99, 4),
        "max_ms": round(max(samples_ns) / 1e6, 4),
        "target_p99_ms": target_ms,
        "met": None if target_ms is None else p99 <= target_ms,
        "note": note,
    }


# -- interactors -----------------------------------------------------------------------------


async def _timed_restarts(ref: Any, count: int, between: Callable[[], None]) -> list[int]:
    """Crash ``ref`` ``count`` times; each sample: crashing ask sent -> next ask answered."""
    from interactors import ActorCrashed

    samples = []
    now = time.perf_counter_ns
    for _ in range(count):
        between()
        before = ref.statistics().restarts
        started = now()
        try:
            await ref.ask.crash()
        except ActorCrashed:
            pass
        else:
            raise RuntimeError("the crashing ask returned normally")
        await ref.ask.ping()
        samples.append(now() - started)
        if ref.statistics().restarts != before + 1:
            raise RuntimeError("the answer did not come from a new incarnation")
    return samples


def _tree(fresh: bool) -> Any:
    from benchmarks.restart_actors import Crasher
    from interactors import Backoff, ChildSpec, Supervisor

    # No backoff and an intensity no run reaches: every crash is restarted at once.
    return Supervisor(
        max_restarts=1_000_000,
        within=1.0,
        backoff=Backoff(min=0.0, max=0.0, jitter=0.0),
        children=[ChildSpec(Crasher, name="crasher", fresh_interpreter=fresh)],
    )


async def in_place(count: int) -> list[int]:
    from interactors import ActorSystem

    async with ActorSystem(spare_interpreters=0) as system:
        ref = (await system.start(_tree(fresh=False))).child("crasher")
        await _timed_restarts(ref, max(10, count // 10), lambda: None)  # warm up
        created = system.statistics().interpreters_created
        samples = await _timed_restarts(ref, count, lambda: None)
        if system.statistics().interpreters_created != created:
            raise RuntimeError("an in-place restart created an interpreter")
        if await ref.ask.ping() != count + max(10, count // 10) + 1:
            raise RuntimeError("the restarts did not all happen in the same interpreter")
        return samples


async def rss_growth(count: int) -> dict[str, Any]:
    """VmRSS before and after ``count`` in-place restarts (after 100 to warm up)."""
    from interactors import ActorSystem

    async with ActorSystem(spare_interpreters=0) as system:
        ref = (await system.start(_tree(fresh=False))).child("crasher")
        await _timed_restarts(ref, 100, lambda: None)
        with RssGrowth() as rss:
            await _timed_restarts(ref, count, lambda: None)
    return {
        "restarts": count,
        "before_mib": round(rss.before / 1024, 2),
        "after_mib": round(rss.after / 1024, 2),
        "growth_mib": round((rss.after - rss.before) / 1024, 2),
    }


async def fresh_interpreter(count: int, spares: int) -> dict[str, Any]:
    """Restarts in a new interpreter; with ``spares``, the pool is refilled between samples."""
    from interactors import ActorSystem

    async with ActorSystem(spare_interpreters=spares) as system:
        ref = (await system.start(_tree(fresh=True))).child("crasher")
        pool = system._interpreters

        def refill() -> None:
            if spares:
                pool.refill()  # the runtime refills in the background; wait, off the clock
                pool.settle()

        await _timed_restarts(ref, 2, refill)  # warm up
        with RssGrowth() as rss:
            samples = []
            taken_before = pool.spares_taken
            for _ in range(count):
                samples += await _timed_restarts(ref, 1, refill)
            took_spare = pool.spares_taken - taken_before
    return {
        "samples": samples,
        "took_spare": took_spare,
        "rss_per_restart_mib": round((rss.after - rss.before) / 1024 / count, 2),
    }


# -- multiprocessing baseline ------------------------------------------------------------------


def serve_process(conn: Any) -> None:
    """A worker process: answers ``"ping"``; ``"crash"`` kills it without cleanup."""
    conn.send("ready")
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the parent closed the pipe: stop quietly
            return
        if message == "crash":
            os._exit(1)
        conn.send("pong")


class ProcessWorker:
    """One spawned worker process and the parent's end of its pipe."""

    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve_process, args=(child,))
        self.process.start()
        child.close()

    def ready(self) -> ProcessWorker:
        if self.conn.recv() != "ready":
            raise RuntimeError("the worker process did not start")
        return self

    def crash(self) -> None:
        self.conn.send("crash")
        self.process.join()  # a supervisor notices the death through the process sentinel
        self.process.close()
        self.conn.close()

    def ping(self) -> None:
        self.conn.send("ping")
        if self.conn.recv() != "pong":
            raise RuntimeError("unexpected answer")

    def stop(self) -> None:
        self.conn.close()  # the worker's recv() raises EOFError and it exits
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.process.close()


def process_restarts(count: int, spare: bool) -> list[int]:
    """Crash a worker process ``count`` times; each sample: crash sent -> replacement pings.

    ``spare``: a pre-started process takes over, and the next spare starts off the clock.
    """
    context = multiprocessing.get_context("spawn")
    now = time.perf_counter_ns
    worker = ProcessWorker(context).ready()
    waiting = ProcessWorker(context).ready() if spare else None
    samples = []
    try:
        for _ in range(count):
            started = now()
            worker.crash()
            if waiting is not None:
                worker, waiting = waiting, None
            else:
                worker = ProcessWorker(context).ready()
            worker.ping()
            samples.append(now() - started)
            if spare:
                waiting = ProcessWorker(context).ready()
    finally:
        worker.stop()
        if waiting is not None:
            waiting.stop()
    return samples


# -- running -----------------------------------------------------------------------------------


def _quiet_runtime_logs() -> Callable[[], None]:
    # Every crash logs an error; thousands of them would swamp the table.
    logger = logging.getLogger("interactors")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    return lambda: logger.setLevel(level)


def interactors_cases(plan: Plan, backends: tuple[str, ...] = ("asyncio", "trio")) -> list[Any]:
    """The interactors rows and the RSS measurements: ``(cases, rss)``."""
    import anyio

    restore = _quiet_runtime_logs()
    try:
        cases = []
        for backend in backends:
            try:
                samples = anyio.run(in_place, plan.in_place, backend=backend)
            except ModuleNotFoundError as exc:
                cases.append({"case": f"in place ({backend})", "error": str(exc)})
                continue
            cases.append(summarize(f"in place ({backend})", samples, TARGET_IN_PLACE_MS))
        # Before the fresh-interpreter cases: each of those leaves memory behind.
        rss = anyio.run(rss_growth, plan.rss_restarts)
        spare = anyio.run(fresh_interpreter, plan.fresh, 1)
        no_spare = anyio.run(fresh_interpreter, plan.fresh, 0)
        cases.append(
            summarize(
                "fresh interpreter, from the spare pool",
                spare["samples"],
                TARGET_SPARE_MS,
                f"{spare['took_spare']}/{plan.fresh} took a spare",
            )
        )
        cases.append(summarize("fresh interpreter, no spare", no_spare["samples"]))
        rss["fresh_interpreter_per_restart_mib"] = no_spare["rss_per_restart_mib"]
    finally:
        restore()
    return [cases, rss]


def process_cases(plan: Plan) -> list[dict[str, Any]]:
    return [
        summarize("multiprocessing (spawn), new process", process_restarts(plan.processes, False)),
        summarize("multiprocessing (spawn), spare process", process_restarts(plan.processes, True)),
    ]


def worker_bytecode_cached() -> bool:
    """Whether the actor worker's module has a cached .pyc (else every new interpreter
    compiles it, e.g. under PYTHONDONTWRITEBYTECODE in a fresh checkout)."""
    import importlib.util

    spec = importlib.util.find_spec("interactors._inside.worker")
    if spec is None or spec.origin is None:
        return False
    return Path(importlib.util.cache_from_source(spec.origin)).exists()


def run(quick: bool) -> dict[str, Any]:
    """Measure every case; return the results (what ``main`` prints and writes)."""
    plan = QUICK if quick else FULL
    cases, rss = interactors_cases(plan)
    cases += process_cases(plan)
    return {
        "benchmark": "restart",
        "date": datetime.date.today().isoformat(),
        "size": plan.name,
        "python": sys.version.split()[0],
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "bytecode_cached": worker_bytecode_cached(),
        "cases": cases,
        "rss": rss,
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"{TITLE} (crashing ask sent -> next ask answered), {result['size']} run, "
        f"Python {result['python']}, {result['machine']}",
        "",
        f"{'case':<42}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}  target p99",
    ]
    for case in result["cases"]:
        if "error" in case:
            lines.append(f"{case['case']:<42}  not run: {case['error']}")
            continue
        target = ""
        if case["target_p99_ms"] is not None:
            verdict = "met" if case["met"] else "MISSED"
            target = f"<= {case['target_p99_ms']:g} ms {verdict}"
        lines.append(
            f"{case['case']:<42}{case['samples']:>6}{case['p50_ms']:>10.3f}"
            f"{case['p99_ms']:>10.3f}{case['max_ms']:>10.3f}  {target}"
            + (f"  ({case['note']})" if case["note"] else "")
        )
    rss = result["rss"]
    lines += [
        "",
        f"RSS over {rss['restarts']:,} in-place restarts: {rss['before_mib']:.1f} -> "
        f"{rss['after_mib']:.1f} MiB ({rss['growth_mib']:+.2f} MiB)",
        f"RSS per fresh-interpreter restart: {rss['fresh_interpreter_per_restart_mib']:+.2f} MiB",
    ]
    if not result["bytecode_cached"]:
        lines.append("no cached bytecode for interactors: each fresh interpreter compiles it")
    return "\n".join(lines)


def write_json(result: dict[str, Any], directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return save_json(directory / f"restart-{result['date']}.json", result)


# -- the suite's per-framework cells (benchmarks.child) -----------------------------------------


def _row(case: dict[str, Any], which: str) -> dict[str, Any]:
    return row(f"restart {which}, {case['case']}", case[f"{which}_ms"], "ms", "lower", case["note"])


def _interactors_rows(size: Any) -> list[dict[str, Any]]:
    cases, rss = interactors_cases(PLANS.get(getattr(size, "name", ""), QUICK))
    rows = [_row(case, which) for case in cases if "error" not in case for which in ("p50", "p99")]
    note = f"over {rss['restarts']} in-place restarts"
    rows.append(row("RSS growth", rss["growth_mib"], "MiB", "lower", note))
    return rows


def _process_rows(size: Any) -> list[dict[str, Any]]:
    cases = process_cases(PLANS.get(getattr(size, "name", ""), QUICK))
    return [_row(case, which) for case in cases for which in ("p50", "p99")]


RUNNERS = {"interactors": _interactors_rows, "processes": _process_rows}
NOT_APPLICABLE = dict.fromkeys(
    ("raw", "threads", "pykka", "thespian", "to_interpreter", "ray"),
    "not measured: restarts compare interactors with a multiprocessing worker",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--quick", action="store_true", help="fewer samples (under a minute)")
    options = parser.parse_args(argv)
    result = run(options.quick)
    print(format_table(result))
    print(f"\nwrote {write_json(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
