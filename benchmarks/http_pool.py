"""Scenario 9 — An HTTP service under load: the ASGI example behind a pool or an executor.

    python -m benchmarks.http_pool [--quick | --size smoke]

The ASGI example (``examples/asgi_app.py``, served by uvicorn on 127.0.0.1, a free port,
as a subprocess) is loaded by ``wrk`` with ``CONNECTIONS`` connections for a fixed time,
after an untimed warm-up; requests/s and wrk's latency p50/p99. The same app counts primes
on 2 workers: a ``spawn_pool(size=2)`` with ``least_busy`` (as in the example) or
``round_robin``, a ``ThreadPoolExecutor(2)`` or a ``ProcessPoolExecutor(2)`` (see
``benchmarks/http_app.py``). Two loads: every request ``/primes?below=UNIFORM``
(CPU-heavy), and a mixed one: ``below=SHORT``, every fourth request ``below=LONG`` (about
8 times the work). wrk runs
one thread on the same machine, so it takes CPU from the server. Needs ``wrk`` (e.g.
``apt-get install wrk``), uvicorn and starlette; without them the scenario is skipped.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from .measure import SIZES, Size, row, runners, save_json

TITLE = "HTTP service under load (wrk)"
CONNECTIONS = 8
UNIFORM = 10_000  # /primes?below=N: ~5 ms of pure Python on a quiet core
SHORT, LONG = 4_000, 16_000  # mixed load: every fourth request is LONG (~8x the work)
SECONDS = {"smoke": 1, "quick": 3, "full": 10}
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
NOT_APPLICABLE = {"raw": "no raw baseline: an HTTP server is framework code"}
# Every fourth request is the long one (wrk runs this per thread; one thread here).
MIXED_LUA = """
counter = 0
request = function()
  counter = counter + 1
  if counter % 4 == 0 then
    return wrk.format(nil, "/primes?below={long}")
  end
  return wrk.format(nil, "/primes?below={short}")
end
"""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def unavailable() -> str | None:
    """Why this scenario cannot run here (``None``: it can)."""
    if shutil.which("wrk") is None:
        return "skipped: wrk is not installed (apt-get install wrk, brew install wrk)"
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return f"skipped: {exc.name} is not installed (pip install uvicorn starlette)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode} at start")
        try:
            with urllib.request.urlopen(url + "/stats", timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the server did not answer on {url} within {timeout} s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server by its PID: Ctrl-C (its lifespan stops the workers), then kill."""
    if server.poll() is None:
        os.kill(server.pid, signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait(10)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, seconds: int, script: str | None = None) -> dict[str, float]:
    """Run wrk; its requests/s, latency p50/p99 (ms) and errors."""
    args = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "30s"]
    if script:
        args += ["-s", script]
    done = subprocess.run(
        [*args, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if not (rate and p50 and p99):
        raise RuntimeError(f"unexpected wrk output: {out[-500:]}")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rate": float(rate.group(1)),
        "p50": _ms(p50.group(1)),
        "p99": _ms(p99.group(1)),
        "errors": float(errors.group(1)) if errors else 0.0,
    }


def serve_and_load(executor: str, size: Size) -> dict[str, dict[str, float]]:
    """Start the app with ``executor`` as a subprocess, load it (uniform, then mixed), stop it."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, INTERACTORS_BENCH_EXECUTOR=executor)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    app = ["benchmarks.http_app:app", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *app, "--no-access-log", "--log-level", "warning"],
        cwd=ROOT,
        env=env,
    )
    seconds = SECONDS[size.name]
    try:
        _wait_ready(base, server)
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
            lua.write(MIXED_LUA.replace("{short}", str(SHORT)).replace("{long}", str(LONG)))
            lua.flush()
            uniform_url = f"{base}/primes?below={UNIFORM}"
            wrk(uniform_url, 1)  # untimed warm-up: connections open, workers warm
            uniform = wrk(uniform_url, seconds)
            mixed = wrk(base, seconds, lua.name)
    finally:
        _stop(server)
    return {"uniform": uniform, "mixed": mixed}


def _rows(result: dict[str, dict[str, float]], suffix: str, note: str) -> list[dict[str, Any]]:
    rows = []
    for load, label in (("uniform", ""), ("mixed", "mixed ")):
        r = result[load]
        rows += [
            row(f"{label}requests/s{suffix}", r["rate"], "/s", "higher", note if not label else ""),
            row(f"{label}latency p50{suffix}", r["p50"], "ms", "lower"),
            row(f"{label}latency p99{suffix}", r["p99"], "ms", "lower"),
        ]
        if r["errors"]:
            rows[-3]["note"] += f" {r['errors']:.0f} error responses"
    return rows


def interactors(size: Size) -> list[dict[str, Any]]:
    least = serve_and_load("least_busy", size)
    robin = serve_and_load("round_robin", size)
    return _rows(least, "", "spawn_pool(size=2, policy='least_busy')") + _rows(
        robin, ", round_robin", "spawn_pool(size=2, policy='round_robin')"
    )


def threads(size: Size) -> list[dict[str, Any]]:
    return _rows(serve_and_load("threads", size), "", "ThreadPoolExecutor(2)")


def processes(size: Size) -> list[dict[str, Any]]:
    return _rows(serve_and_load("processes", size), "", "ProcessPoolExecutor(2), spawn")


RUNNERS = runners(globals())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per load instead of 10")
    parser.add_argument("--size", choices=tuple(SIZES), help="explicit size (smoke: 1 s)")
    options = parser.parse_args(argv)
    why = unavailable()
    if why:
        print(why)
        return 0
    size = SIZES[options.size or ("quick" if options.quick else "full")]
    load = os.getloadavg()
    cells = {name: {"rows": run(size)} for name, run in RUNNERS.items()}
    results = {"scenarios": {"http_pool": {"cells": cells}}}
    from .report import print_scenario

    print_scenario(results, "http_pool")
    results["size"] = size.name
    results["load_average_at_start"] = [round(x, 2) for x in load]
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    day = datetime.date.today().isoformat()
    print("wrote", save_json(RESULTS / f"http_pool-{day}-{size.name}.json", results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
