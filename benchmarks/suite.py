"""Runs the scenarios for every framework, each cell in a fresh process, and collects results.

A cell is one scenario for one framework. It runs as ``benchmarks.child`` in a new Python
process with a timeout, so a peer that hangs or crashes costs its cell only. Missing peers
are recorded as "not installed" without starting a process.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .child import MARK, SCENARIOS
from .frameworks import BY_NAME, FRAMEWORKS, version

ROOT = Path(__file__).resolve().parent.parent
# Per-cell time limits (seconds) by size.
CELL_TIMEOUT = {"smoke": 60, "quick": 90, "full": 300}
# Cells too slow for --quick: Ray starts a local cluster per cell (~4 s) and its actors are
# worker processes that take seconds to start; Thespian moves 64 MiB over TCP in ~2.5 s.
SLOW_IN_QUICK = {
    ("ray", "spawn"),
    ("ray", "scale"),
    ("ray", "restart"),
    ("ray", "payload"),
    ("thespian", "payload"),
}
_LAUNCH = "import sys; from benchmarks.child import main; sys.exit(main(sys.argv[1:]))"


def run_cell(
    scenario: str,
    framework: str,
    size: str,
    options: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Run one cell in a child process; the child's result, or what went wrong."""
    args = [sys.executable, "-c", _LAUNCH, scenario, framework, size]
    if options:
        args.append(json.dumps(options))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: see docs/performance.md
    env.setdefault("RAY_AUTH_MODE", "disabled")  # a local, throwaway cluster
    env.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    begin = time.perf_counter()
    try:
        done = subprocess.run(
            args,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout or CELL_TIMEOUT[size],
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout or CELL_TIMEOUT[size]} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARK):
            result: dict[str, Any] = json.loads(line[len(MARK) :])
            result.setdefault("seconds", round(time.perf_counter() - begin, 2))
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    return {"error": f"exit code {done.returncode}: " + " | ".join(tail)}


def framework_info() -> dict[str, dict[str, Any]]:
    return {f.name: {"label": f.label, "version": version(f), "how": f.how} for f in FRAMEWORKS}


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        model = platform.processor()
    mem_gib = None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            mem_gib = round(int(meminfo.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "nproc": len(os.sched_getaffinity(0)),
        "memory_gib": mem_gib,
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run_suite(
    size: str,
    scenarios: tuple[str, ...] = SCENARIOS,
    frameworks: tuple[str, ...] | None = None,
    echo: bool = True,
) -> dict[str, Any]:
    """Every requested cell; returns the whole result document (see ``report``)."""
    info = framework_info()
    names = frameworks or tuple(f.name for f in FRAMEWORKS)
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "size": size,
        "machine": machine_info(),
        "frameworks": {name: info[name] for name in names},
        "scenarios": {},
    }
    started = time.perf_counter()
    for scenario in scenarios:
        cells: dict[str, Any] = {}
        for name in names:
            if info[name]["version"] is None:
                cells[name] = {"missing": True}
            elif size == "quick" and (name, scenario) in SLOW_IN_QUICK:
                cells[name] = {"skipped": "skipped in --quick (slow to start); see a full run"}
            else:
                if echo:
                    print(f"  {scenario:<8} {BY_NAME[name].label:<22}", end="", flush=True)
                cells[name] = run_cell(scenario, name, size)
                if echo:
                    print(_cell_status(cells[name]), flush=True)
        results["scenarios"][scenario] = {"cells": cells}
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def _cell_status(cell: dict[str, Any]) -> str:
    if "rows" in cell:
        return f" {cell.get('seconds', 0):6.1f} s"
    if "skipped" in cell:
        return f" skipped: {cell['skipped']}"
    return f" ERROR {cell.get('error', '')[:200]}"
