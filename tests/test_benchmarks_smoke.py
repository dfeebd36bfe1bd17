"""The benchmark suite runs: tiny ("smoke") sizes, no timings asserted.

Benchmarks are not tests; this only proves that the scenario code and the suite's runner
work with the current runtime, without leaking interpreters, threads or fds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level package beside `tests`
    sys.path.insert(0, str(ROOT))

from benchmarks import ask, core, tell, where  # noqa: E402
from benchmarks.measure import SMOKE  # noqa: E402


def _check_rows(rows: list[dict[str, object]], *metrics: str) -> None:
    by_metric = {row["metric"]: row["value"] for row in rows}
    for metric in metrics:
        value = by_metric.get(metric)
        assert isinstance(value, float), f"{metric}: {value!r}"
        assert value > 0, metric


def test_ask_scenario_runs_on_interactors_in_process() -> None:
    rows = ask.interactors(SMOKE)
    _check_rows(
        rows,
        "ask p50, 1 caller",
        "asks/s, 100 callers (asyncio)",
        "asks/s, 100 callers (trio)",
        "actor→actor round trips/s",
        "actor→actor round trips/s, async handler",
        "asks/s, 1 caller, 1 CPU busy",
    )


def test_tell_scenario_runs_on_threads_in_process() -> None:
    rows = tell.threads(SMOKE)
    _check_rows(rows, "tells/s into one actor, small", "fan-in 8→1 msgs/s, small")


def test_ask_scenario_runs_on_pykka_in_process() -> None:
    pytest.importorskip("pykka")
    rows = ask.pykka(SMOKE)
    _check_rows(
        rows, "ask p99, 1 caller", "actor→actor round trips/s", "asks/s, 1 caller, 1 CPU busy"
    )


def test_suite_writes_results(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--size",
            "smoke",
            "--only",
            "tell",
            "--frameworks",
            "interactors,raw,threads",
            "--out",
            str(tmp_path),
            "--no-docs",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (result,) = tmp_path.glob("*-smoke.json")
    data = json.loads(result.read_text(encoding="utf-8"))
    cells = data["scenarios"]["tell"]["cells"]
    assert set(cells) == {"interactors", "raw", "threads"}
    assert all("rows" in cell for cell in cells.values()), cells
    assert (tmp_path / result.name.replace(".json", ".md")).exists()
    assert "Tell throughput" in done.stdout


def _documented_commands() -> list[str]:
    text = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    block = text.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_documented_commands_exist() -> None:
    """Each command of docs/performance.md's "Reproduce" block names a real target/entry."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    commands = _documented_commands()
    assert commands
    for command in commands:
        words = command.split()
        if words[0] == "make":
            assert f"\n{words[1]}:" in makefile, command
            continue
        assert words[:2] == ["python", "-m"], command
        done = subprocess.run(
            [sys.executable, "-m", words[2], "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, (command, done.stderr[-1000:])
        for option in (w.split("=")[0] for w in words[3:] if w.startswith("--")):
            assert option in done.stdout, (command, option)


def _a2a_results(raw: float, pipe: float) -> dict[str, object]:
    def cell(metric: str, value: float) -> dict[str, object]:
        return {"rows": [{"metric": metric, "value": value, "unit": "/s"}]}

    return {
        "machine": {"nproc": 2},
        "scenarios": {
            "ask": {
                "cells": {
                    "interactors": cell("actor→actor round trips/s", 90_000.0),
                    "raw": cell("actor→actor round trips/s", raw),
                    "processes": cell("Pipe echo round trips/s", pipe),
                }
            }
        },
    }


def test_a_failing_row_says_why_only_when_the_runs_numbers_show_it() -> None:
    """The core table explains a failed target from the run's own numbers, or not at all."""
    out_of_reach = core.evaluate(_a2a_results(raw=150_000.0, pipe=30_000.0))
    row = next(r for r in out_of_reach if r["check"] == "actor→actor vs Pipe echo")
    assert row["pass"] is False
    assert "5.0x the Pipe echo" in row["why"]
    assert "Rows that fail, and why:" in core.markdown(out_of_reach)
    # raw primitives that reach 10x: the runtime's failure is its own, nothing excuses it
    reachable = core.evaluate(_a2a_results(raw=400_000.0, pipe=30_000.0))
    row = next(r for r in reachable if r["check"] == "actor→actor vs Pipe echo")
    assert row["pass"] is False
    assert row["why"] == ""
    assert "Rows that fail, and why:" not in core.markdown(reachable)


@pytest.mark.timeout(120)
def test_where_the_time_goes_profiles_every_message_path() -> None:
    paths = where.measure(300)
    names = [p["path"] for p in paths]
    assert names == [
        "ask from the host, 1 caller",
        "ask from the host, 100 callers",
        "tell from the host, one sender",
        "64 MiB bytes, one way",
        "actor→actor, sync handler (.result())",
        "actor→actor, async handler (await)",
    ]
    for path in paths:
        assert path["us_per_message"] > 0
        for side, steps in path["sides"].items():
            assert steps, (path["path"], side)
    # the sending side of a tell spends its time in interactors' own code (the batch)
    tell_steps = " ".join(s["step"] for s in paths[2]["sides"]["host"])
    assert "mailbox.py" in tell_steps
    text = where.markdown(paths)
    assert text.count("### ") == 6
    assert "| step | µs/msg | calls/msg |" in text


def test_supervise_scenario_runs_on_interactors_in_process() -> None:
    from benchmarks import supervise

    rows = supervise.interactors(SMOKE)
    _check_rows(
        rows,
        "start_child → first answer",
        "spawn → first answer",
        "CPU speedup, pool of 2",
        "mixed p99",
        "mixed p99, round_robin",
        "stop a dynamic supervisor of 4",
    )


def test_http_pool_scenario_serves_the_asgi_example_under_wrk(tmp_path: Path) -> None:
    from benchmarks import http_pool

    why = http_pool.unavailable()
    if why:
        pytest.skip(why)
    args = ["--size", "smoke", "--only", "http_pool", "--frameworks", "threads", "--no-docs"]
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", *args, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (result,) = tmp_path.glob("*-smoke.json")
    cell = json.loads(result.read_text(encoding="utf-8"))["scenarios"]["http_pool"]["cells"]
    _check_rows(cell["threads"]["rows"], "requests/s", "latency p99", "mixed latency p99")
