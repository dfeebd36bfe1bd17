"""The core issue's side-by-side table: each headline number against its target.

    python -m benchmarks.core [--quick]

Runs only the cells the targets need (interactors, the raw primitives, threads and
processes), or, from the full suite, reads them from its results. Each row gives the value,
the baseline it is compared with, the target ratio, the measured ratio and pass/fail.
Writes ``benchmarks/results/<date>-core.json`` and ``-core.md`` when run on its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .measure import save_json
from .report import fmt, markdown_table, text_table

# (scenario, framework, options) cells the core table needs.
CELLS: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("cpu", "interactors", {"workers": [1, 2]}),
    ("cpu", "threads", {"workers": [1, 2]}),
    ("cpu", "processes", {"workers": [1, 2]}),
    ("ask", "interactors", None),
    ("ask", "raw", None),
    ("ask", "processes", None),
    ("tell", "interactors", None),
    ("payload", "interactors", None),
    ("spawn", "interactors", None),
    ("spawn", "processes", None),
    ("ask", "pykka", None),
    ("tell", "pykka", None),
    ("payload", "raw", None),
    ("supervise", "interactors", None),
    ("supervise", "threads", None),
    ("http_pool", "interactors", None),
    ("http_pool", "threads", None),
    ("http_pool", "processes", None),
)


@dataclass(frozen=True, slots=True)
class Check:
    """One row: ``value`` of interactors against ``baseline`` (another number or none)."""

    name: str
    value: tuple[str, str, str]  # scenario, framework, metric
    baseline: tuple[str, str, str] | None
    ratio: Callable[[float, float], float]  # (value, baseline) -> measured ratio
    target: str  # how the ratio is judged, for people
    passes: Callable[[float], bool]
    why: Callable[[dict[str, Any], Callable[[float], bool]], str] | None = None
    """Why the row fails, from the run's own numbers and the row's ``passes``, where the
    target is out of reach (shown under the table for a failing row; empty when the
    numbers do not show it)."""


def _faster(value: float, baseline: float) -> float:  # times: baseline / value
    return baseline / value


def _more(value: float, baseline: float) -> float:  # rates: value / baseline
    return value / baseline


def _absolute(value: float, _baseline: float) -> float:
    return value


def _value(results: dict[str, Any], where: tuple[str, str, str]) -> float | None:
    found = _find(results, where)
    return None if found is None else found["value"]


def _above_raw(results: dict[str, Any], passes: Callable[[float], bool]) -> str:
    """actor→actor vs the Pipe echo: the raw primitives' own ratio is the ceiling."""
    raw = _value(results, ("ask", "raw", "actor→actor round trips/s"))
    pipe = _value(results, ("ask", "processes", "Pipe echo round trips/s"))
    if not raw or not pipe or passes(raw / pipe):
        return ""
    return (
        f"two interpreters passing a tuple back and forth over bare queues, with no runtime "
        f"at all (the next row's baseline), make {raw / pipe:.1f}x the Pipe echo in this "
        "run: 10x is above the primitives themselves on this machine. The row the runtime "
        "answers for is the next one, against those primitives."
    )


def _spawn_floor(results: dict[str, Any], passes: Callable[[float], bool]) -> str:
    """100 spawns at once: one spawn's own work, times 100, over the cores."""
    one = _value(results, ("spawn", "interactors", "first answer, 1 actor, no spare"))
    found = _find(results, ("spawn", "interactors", "first answer, {n} actors"))
    cores = results.get("machine", {}).get("nproc") or 1
    if not one or found is None:
        return ""
    n = found.get("n", 100)
    floor = n * one / 1000 / cores
    if passes(floor):
        return ""
    return (
        f"a spawn without a spare interpreter takes {one:.1f} ms, nearly all of it CPU in "
        "one thread: creating the interpreter (~8 ms on CPython 3.13.0, a third of it "
        "`site`, which 3.13 offers no way to skip) and importing the worker (~4.5 ms). "
        f"{n} of them on {cores} cores need about {floor:.2f} s even if they "
        "overlapped perfectly. Creations also run one at a time: concurrent creation is racy in "
        "3.13 (static types, cpython#127108; `_interpqueues`, cpython#125716)."
    )


CHECKS: tuple[Check, ...] = (
    Check(
        "CPU: 2 actors vs 1 thread",
        ("cpu", "interactors", "wall, 2 workers"),
        ("cpu", "threads", "wall, 1 workers"),
        _faster,
        "≥ 1.85x",
        lambda r: r >= 1.85,
    ),
    Check(
        "CPU: 2 actors vs 2 threads",
        ("cpu", "interactors", "wall, 2 workers"),
        ("cpu", "threads", "wall, 2 workers"),
        _faster,
        "(no target)",
        lambda r: True,
    ),
    Check(
        "CPU: 2 actors vs 2 processes",
        ("cpu", "interactors", "wall, 2 workers"),
        ("cpu", "processes", "wall, 2 workers"),
        _faster,
        "≥ 0.9x",
        lambda r: r >= 0.9,
    ),
    Check(
        "sequential asks vs Pipe echo",
        ("ask", "interactors", "asks/s, 1 caller"),
        ("ask", "processes", "Pipe echo round trips/s"),
        _more,
        "≥ 3x",
        lambda r: r >= 3,
    ),
    Check(
        "sequential asks with 1 CPU busy vs Pykka",
        ("ask", "interactors", "asks/s, 1 caller, 1 CPU busy"),
        ("ask", "pykka", "asks/s, 1 caller, 1 CPU busy"),
        _more,
        "≥ 1x",
        lambda r: r >= 1,
    ),
    Check(
        "100 callers, asyncio",
        ("ask", "interactors", "asks/s, 100 callers (asyncio)"),
        None,
        _absolute,
        "≥ 150k/s",
        lambda r: r >= 150_000,
    ),
    Check(
        "100 callers, trio",
        ("ask", "interactors", "asks/s, 100 callers (trio)"),
        None,
        _absolute,
        "≥ 100k/s",
        lambda r: r >= 100_000,
    ),
    Check(
        "ask p99, 1 caller",
        ("ask", "interactors", "ask p99, 1 caller"),
        None,
        _absolute,
        "< 1,000 µs",
        lambda r: r < 1000,
    ),
    Check(
        "actor→actor vs Pipe echo",
        ("ask", "interactors", "actor→actor round trips/s"),
        ("ask", "processes", "Pipe echo round trips/s"),
        _more,
        "≥ 10x",
        lambda r: r >= 10,
        _above_raw,
    ),
    Check(
        "actor→actor vs raw spinning ping-pong",
        ("ask", "interactors", "actor→actor round trips/s"),
        ("ask", "raw", "actor→actor round trips/s"),
        _more,
        "≥ 0.5x",
        lambda r: r >= 0.5,
    ),
    Check(
        "tells into one actor",
        ("tell", "interactors", "tells/s into one actor, small"),
        None,
        _absolute,
        "≥ 300k/s",
        lambda r: r >= 300_000,
    ),
    Check(
        "64 MiB round trip: memoryview vs bytes",
        ("payload", "interactors", "64 MiB round trip, memoryview"),
        ("payload", "interactors", "64 MiB round trip, bytes"),
        _faster,
        "≥ 100x",
        lambda r: r >= 100,
    ),
    Check(
        "spawn to first answer (defaults) vs a spawn-method process",
        ("spawn", "interactors", "first answer, 1 actor"),
        ("spawn", "processes", "first answer, 1 actor"),
        _faster,
        "≥ 5x (≤ 1/5 of the time)",
        lambda r: r >= 5,
    ),
    Check(
        "spawn, no spare interpreter, vs a spawn-method process",
        ("spawn", "interactors", "first answer, 1 actor, no spare"),
        ("spawn", "processes", "first answer, 1 actor"),
        _faster,
        "(no target)",
        lambda r: True,
    ),
    Check(
        "idle RSS vs a process worker",
        ("spawn", "interactors", "RSS per idle actor"),
        ("spawn", "processes", "RSS per idle actor"),
        _faster,
        "≥ 3x (≤ 1/3 of the memory)",
        lambda r: r >= 3,
    ),
    Check(
        "N actors spawned vs N processes",
        ("spawn", "interactors", "first answer, {n} actors"),
        ("spawn", "processes", "first answer, {n} actors"),
        _faster,
        "> 1x (faster)",
        lambda r: r > 1,
    ),
    Check(
        "start_child to first answer vs spawn (defaults)",
        ("supervise", "interactors", "start_child → first answer"),
        ("supervise", "interactors", "spawn → first answer"),
        _faster,
        "≥ 0.5x (≤ 2x the time)",
        lambda r: r >= 0.5,
    ),
    Check(
        "CPU: pool of 2 vs one actor",
        ("supervise", "interactors", "CPU wall, pool of 2"),
        ("supervise", "interactors", "CPU wall, 1 worker"),
        _faster,
        "≥ 1.85x",
        lambda r: r >= 1.85,
    ),
    Check(
        "CPU: pool of 2 vs 1 thread",
        ("supervise", "interactors", "CPU wall, pool of 2"),
        ("supervise", "threads", "CPU wall, 1 worker"),
        _faster,
        "≥ 1.85x",
        lambda r: r >= 1.85,
    ),
    Check(
        "mixed work p99: least_busy vs round_robin",
        ("supervise", "interactors", "mixed p99"),
        ("supervise", "interactors", "mixed p99, round_robin"),
        _faster,
        "≥ 1x (lower p99)",
        lambda r: r >= 1,
    ),
    Check(
        "stop a dynamic supervisor of N children",
        ("supervise", "interactors", "stop a dynamic supervisor of {n}"),
        None,
        _absolute,
        "≤ 1 s",
        lambda r: r <= 1,
    ),
    Check(
        "HTTP requests/s: least_busy pool vs thread pool",
        ("http_pool", "interactors", "requests/s"),
        ("http_pool", "threads", "requests/s"),
        _more,
        "(no target)",
        lambda r: True,
    ),
    Check(
        "HTTP p99: least_busy pool vs round_robin pool",
        ("http_pool", "interactors", "latency p99"),
        ("http_pool", "interactors", "latency p99, round_robin"),
        _faster,
        "≥ 1x (lower p99)",
        lambda r: r >= 1,
    ),
    Check(
        "HTTP p99: least_busy pool vs 2-process pool",
        ("http_pool", "interactors", "latency p99"),
        ("http_pool", "processes", "latency p99"),
        _faster,
        "≥ 1x (no worse)",
        lambda r: r >= 1,
    ),
)


# Speed, round two: ratios measured side by side in one run.
SPEED_CHECKS: tuple[Check, ...] = (
    Check(
        "speed: actor→actor, async handler vs sync handler",
        ("ask", "interactors", "actor→actor round trips/s, async handler"),
        ("ask", "interactors", "actor→actor round trips/s"),
        _more,
        "≥ 0.8x",
        lambda r: r >= 0.8,
    ),
    Check(
        "speed: 100 callers (asyncio) vs Pykka",
        ("ask", "interactors", "asks/s, 100 callers (asyncio)"),
        ("ask", "pykka", "asks/s, 100 callers (asyncio)"),
        _more,
        "≥ 1.2x",
        lambda r: r >= 1.2,
    ),
    Check(
        "asks from a plain thread (BlockingActorSystem) vs Pykka",
        ("ask", "interactors", "asks/s, 1 plain thread"),
        ("ask", "pykka", "asks/s, 1 plain thread"),
        _more,
        "(no target)",
        lambda r: True,
    ),
    Check(
        "speed: 100 callers, trio vs asyncio",
        ("ask", "interactors", "asks/s, 100 callers (trio)"),
        ("ask", "interactors", "asks/s, 100 callers (asyncio)"),
        _more,
        "≥ 0.8x",
        lambda r: r >= 0.8,
    ),
    Check(
        "the event loop alone: trio's park+resume vs asyncio's",
        ("ask", "raw", "task park+resume/s, 100 tasks (trio)"),
        ("ask", "raw", "task park+resume/s, 100 tasks (asyncio)"),
        _more,
        "(no target)",
        lambda r: True,
    ),
    Check(
        "speed: fan-in 8→1 tells vs Pykka",
        ("tell", "interactors", "fan-in 8→1 msgs/s, small"),
        ("tell", "pykka", "fan-in 8→1 msgs/s, small"),
        _more,
        "≥ 1x",
        lambda r: r >= 1,
    ),
    Check(
        "speed: tells from one sender",
        ("tell", "interactors", "tells/s into one actor, small"),
        None,
        _absolute,
        "≥ 450k/s",
        lambda r: r >= 450_000,
    ),
    Check(
        "speed: 64 MiB bytes one way vs one bytes copy",
        ("payload", "interactors", "64 MiB one way, bytes"),
        ("payload", "raw", "64 MiB bytes copy"),
        _more,
        "≤ 3x the time",
        lambda r: r <= 3,
    ),
    Check(
        "speed: N actors spawned concurrently",
        ("spawn", "interactors", "first answer, {n} actors"),
        None,
        _absolute,
        "≤ 0.6 s (100 actors)",
        lambda r: r <= 0.6,
        _spawn_floor,
    ),
    Check(
        "speed: sequential spawns, p50",
        ("spawn", "interactors", "first answer, sequential spawns p50"),
        None,
        _absolute,
        "≤ 15 ms",
        lambda r: r <= 15,
    ),
    Check(
        "speed: idle RSS per actor",
        ("spawn", "interactors", "RSS per idle actor"),
        None,
        _absolute,
        "≤ 3 MiB",
        lambda r: r <= 3,
    ),
    Check(
        "speed: ask p99, 1 caller (kept)",
        ("ask", "interactors", "ask p99, 1 caller"),
        None,
        _absolute,
        "< 50 µs",
        lambda r: r < 50,
    ),
    Check(
        "speed: 64 MiB round trip, memoryview vs bytes (kept)",
        ("payload", "interactors", "64 MiB round trip, memoryview"),
        ("payload", "interactors", "64 MiB round trip, bytes"),
        _faster,
        "≥ 400x",
        lambda r: r >= 400,
    ),
    Check(
        "speed: CPU, 2 actors with 10 idle ones vs 1 thread",
        ("cpu", "interactors", "wall, 2 workers, 10 idle actors"),
        ("cpu", "threads", "wall, 1 workers"),
        _faster,
        "≥ 1.85x",
        lambda r: r >= 1.85,
    ),
)
CHECKS += SPEED_CHECKS


def _find(results: dict[str, Any], where: tuple[str, str, str]) -> dict[str, Any] | None:
    scenario, framework, metric = where
    cell = results.get("scenarios", {}).get(scenario, {}).get("cells", {}).get(framework, {})
    for r in cell.get("rows", []):
        if r["metric"] == metric:
            return dict(r)
        if "{n}" in metric and r.get("n", 1) > 1:
            head, tail = metric.split("{n}")
            if r["metric"].startswith(head) and r["metric"].endswith(tail):
                return dict(r)
    return None


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The core rows computed from a result document (missing numbers give no verdict)."""
    rows = []
    for check in CHECKS:
        value = _find(results, check.value)
        base = _find(results, check.baseline) if check.baseline else None
        entry: dict[str, Any] = {
            "check": check.name,
            "value": value["value"] if value else None,
            "unit": value["unit"] if value else "",
            "metric": value["metric"] if value else check.value[2],
            "baseline": base["value"] if base else None,
            "baseline_metric": (
                f"{check.baseline[1]}: {base['metric'] if base else check.baseline[2]}"
                if check.baseline
                else ""
            ),
            "target": check.target,
            "ratio": None,
            "pass": None,
            "why": "",
        }
        if value and value["value"] is not None and (check.baseline is None or base):
            ratio = check.ratio(value["value"], base["value"] if base else 0.0)
            entry["ratio"] = ratio
            entry["pass"] = bool(check.passes(ratio))
            if not entry["pass"] and check.why is not None:
                entry["why"] = check.why(results, check.passes)
        rows.append(entry)
    return rows


def grid(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    header = ["check", "interactors", "baseline", "target", "measured", "result"]
    lines = []
    for r in rows:
        base = ""
        if r["baseline"] is not None:
            base = f"{fmt(r['baseline'], r['unit'])} ({r['baseline_metric']})"
        elif r["baseline_metric"]:
            base = f"missing ({r['baseline_metric']})"
        absolute = not r["baseline_metric"]
        measured = "—"
        if r["ratio"] is not None:
            measured = fmt(r["ratio"], r["unit"]) if absolute else f"{r['ratio']:.2f}x"
        result = {True: "pass", False: "FAIL", None: "no data"}[r["pass"]]
        lines.append(
            [r["check"], fmt(r["value"], r["unit"]), base or "—", r["target"], measured, result]
        )
    return header, lines


def print_core(rows: list[dict[str, Any]]) -> None:
    header, lines = grid(rows)
    print("\n== Core targets ==")
    print(text_table(header, lines))
    for line in failures(rows):
        print(f"  {line}")


def failures(rows: list[dict[str, Any]]) -> list[str]:
    """One line per failing row whose target the run's own numbers show out of reach."""
    return [f"{r['check']}: {r['why']}" for r in rows if r["pass"] is False and r.get("why")]


def markdown(rows: list[dict[str, Any]]) -> str:
    header, lines = grid(rows)
    why = failures(rows)
    if not why:
        return markdown_table(header, lines)
    notes = "\n".join(f"- {line}" for line in why)
    return f"{markdown_table(header, lines)}\n\nRows that fail, and why:\n\n{notes}"


def run(size: str, echo: bool = True) -> dict[str, Any]:
    """Measure the cells the core table needs; return a result document with ``core``."""
    from .suite import framework_info, machine_info, run_cell

    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "size": size,
        "machine": machine_info(),
        "frameworks": framework_info(),
        "scenarios": {},
    }
    for scenario, framework, options in CELLS:
        if echo:
            print(f"  {scenario:<8} {framework:<12}", end="", flush=True)
        cell = run_cell(scenario, framework, size, options)
        if echo:
            print(f" {cell.get('seconds', '')} s" if "rows" in cell else f" {cell}", flush=True)
        cells = results["scenarios"].setdefault(scenario, {"cells": {}})["cells"]
        cells[framework] = cell
    results["core"] = evaluate(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The core issue's targets, measured.")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    options = parser.parse_args(argv)
    results = run("quick" if options.quick else "full")
    print_core(results["core"])
    options.out.mkdir(parents=True, exist_ok=True)
    stem = options.out / f"{results['date']}-core"
    save_json(stem.with_suffix(".json"), results)
    stem.with_suffix(".md").write_text(
        f"# Core targets ({results['size']} run, {results['date']})\n\n"
        + markdown(results["core"])
        + "\n",
        encoding="utf-8",
    )
    print(f"\nwrote {stem}.json and {stem}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
