"""Process actors (``isolation="process"``) side by side with multiprocessing and Ray.

    python -m benchmarks.process [--quick]

Rows (each interactors row next to its peers, measured in the same run):

- ask, 1 caller: sequential asks to a process actor vs a ``multiprocessing`` Pipe echo
  (spawned child) vs ``ProcessPoolExecutor.submit().result()`` vs a Ray actor (if
  installed); round trips per second; and the same with another process spinning on a
  CPU (process actor vs Pipe echo);
- numpy work: 2 process actors computing in parallel vs the same work on one thread (one
  BLAS thread each; warmed up, the spare process settled; median of the repeats), next to
  the same work in 2 ProcessPoolExecutor workers, timed in alternation with the actors;
- 64 MiB numpy array round trip: to a process actor (memfd buffers) vs pickled through a Pipe;
- spawn to first answer: a process actor vs a ProcessPoolExecutor's first result;
- RSS of an idle process actor (its child process's VmRSS);
- crash -> restarted and answering: SIGKILL the child, time until an ask is answered by
  the replacement (p50/p99); samples 1 s apart, so that the warm spare process is booted
  again off the timed path (as the restart benchmark tops up its spare interpreters).

The machine is shared and noisy: medians of a few repeats. Prints a table and writes
``benchmarks/results/process-<date>.json``. numpy is required (the ``test`` extra has it).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import multiprocessing
import os
import platform
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from .measure import busy_cpu, fresh_bytecode

RESULTS = Path(__file__).parent / "results"
ARRAY_MIB = 64


def _echo_loop(conn: Any) -> None:
    while True:
        item = conn.recv()
        if item is None:
            return
        conn.send(item)


def _identity(value: Any) -> Any:
    return value


def _numpy_work(n: int, rounds: int) -> float:
    import numpy as np

    a = np.arange(n * n, dtype=np.float64).reshape(n, n) / (n * n)
    total = 0.0
    for _ in range(rounds):
        total += float((a @ a).sum())
    return total


def _rate(count: int, fn: Any) -> float:
    start = time.perf_counter()
    for _ in range(count):
        fn()
    return count / (time.perf_counter() - start)


def _rss_mib(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in text.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _median(repeats: int, fn: Any) -> float:
    return statistics.median(fn() for _ in range(repeats))


# -- peers -----------------------------------------------------------------------------------


def pipe_echo_rate(asks: int, repeats: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    child = ctx.Process(target=_echo_loop, args=(there,))
    child.start()
    try:

        def one() -> None:
            here.send(1)
            here.recv()

        one()
        return _median(repeats, lambda: _rate(asks, one))
    finally:
        here.send(None)
        child.join()
        here.close()
        there.close()


def pool_rate(asks: int, repeats: int) -> float:
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        pool.submit(_identity, 1).result()
        return _median(repeats, lambda: _rate(asks, lambda: pool.submit(_identity, 1).result()))


def ray_rate(asks: int, repeats: int) -> float | None:
    try:
        import ray
    except ImportError:
        return None
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:

        @ray.remote
        class Echo:
            def echo(self, value: Any) -> Any:
                return value

        actor = Echo.remote()  # type: ignore[attr-defined]
        ray.get(actor.echo.remote(1))
        return _median(repeats, lambda: _rate(asks, lambda: ray.get(actor.echo.remote(1))))
    finally:
        ray.shutdown()


def pipe_array_round_trip(repeats: int) -> float:
    import numpy as np

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    child = ctx.Process(target=_echo_loop, args=(there,))
    child.start()
    array = np.random.default_rng(0).random(ARRAY_MIB * 1024 * 1024 // 8)
    try:

        def one() -> float:
            start = time.perf_counter()
            here.send(array)
            here.recv()
            return time.perf_counter() - start

        one()
        return _median(repeats, one)
    finally:
        here.send(None)
        child.join()
        here.close()
        there.close()


def _numpy_sum(n: int) -> float:
    import numpy as np

    return float(np.arange(n).sum())


def pool_first_result() -> tuple[float, float, float]:
    """Seconds to a ProcessPoolExecutor's first result: spawn and (Linux default) fork, and
    spawn for a task that imports numpy (as the numpy actor's cold spawn does)."""
    times = []
    for method, task, arg in (
        ("spawn", _identity, 1),
        ("fork", _identity, 1),
        ("spawn", _numpy_sum, 10),
    ):
        start = time.perf_counter()
        ctx = multiprocessing.get_context(method)
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
            pool.submit(task, arg).result()
            times.append(time.perf_counter() - start)
    return times[0], times[1], times[2]


# -- interactors -----------------------------------------------------------------------------


async def interactors_rows(plan: dict[str, int]) -> dict[str, Any]:
    import anyio
    import anyio.lowlevel
    import numpy as np

    import interactors

    out: dict[str, Any] = {}
    # The crash row kills one actor over and over: a root that tolerates it.
    async with interactors.ActorSystem(max_restarts=1000, within=1.0) as system:
        start = time.perf_counter()
        echo = await system.spawn("benchmarks.process_actors:Numeric", isolation="process")
        await echo.ask.ping()
        out["spawn_first_answer_s"] = time.perf_counter() - start
        await anyio.sleep(0.5)  # the spare process boots
        start = time.perf_counter()
        plain = await system.spawn("actors:SyncCounter", isolation="process")
        await plain.ask.get()
        out["spawn_plain_first_answer_s"] = time.perf_counter() - start
        await anyio.sleep(1.0)  # the next spare boots (it imports numpy): not measured

        async def ask_rate() -> float:
            start = time.perf_counter()
            for _ in range(plan["asks"]):
                await echo.ask.ping()
            return plan["asks"] / (time.perf_counter() - start)

        out["ask_rate"] = statistics.median([await ask_rate() for _ in range(plan["repeats"])])
        with busy_cpu():
            rates = [await ask_rate() for _ in range(plan["repeats"])]
        out["ask_rate_busy"] = statistics.median(rates)

        array = np.random.default_rng(0).random(ARRAY_MIB * 1024 * 1024 // 8)
        await echo.ask.echo(array)
        samples = []
        for _ in range(plan["repeats"]):
            start = time.perf_counter()
            await echo.ask.echo(array)
            samples.append(time.perf_counter() - start)
        out["array_round_trip_s"] = statistics.median(samples)

        second = await system.spawn("benchmarks.process_actors:Numeric", isolation="process")
        n, rounds = plan["matrix"], plan["rounds"]
        # The peer: the same work in 2 ProcessPoolExecutor workers, timed in alternation
        # with the actors against the same one-thread time (this VM's speed drifts).
        ctx = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as pool:
            # Warm every side up (first BLAS calls), and let the spare process that the
            # spawn started finish importing numpy: it would share the 2 CPUs.
            list(pool.map(_numpy_work, [n, n], [1, 1]))
            _numpy_work(n, 1)
            for actor in (echo, second):
                await actor.ask.work(n, 1)
            await anyio.sleep(1.0)
            speedups, pool_speedups = [], []
            for _ in range(plan["repeats"]):
                start = time.perf_counter()
                _numpy_work(n, rounds * 2)
                one_thread = time.perf_counter() - start
                start = time.perf_counter()
                async with anyio.create_task_group() as tg:
                    for actor in (echo, second):
                        tg.start_soon(actor.ask.work, n, rounds)
                speedups.append(one_thread / (time.perf_counter() - start))
                start = time.perf_counter()
                list(pool.map(_numpy_work, [n, n], [rounds, rounds]))
                pool_speedups.append(one_thread / (time.perf_counter() - start))
        out["numpy_speedup"] = statistics.median(speedups)
        out["pool_numpy_speedup"] = statistics.median(pool_speedups)

        idle = [plain] + [
            await system.spawn("actors:SyncCounter", isolation="process") for _ in range(2)
        ]
        rss = []
        for ref in idle:
            await ref.ask.get()
            pid = ref.statistics().process_id
            assert pid is not None
            rss.append(_rss_mib(pid))
        out["idle_rss_mib"] = statistics.median(rss)

        victim = idle[0]
        restarts = []
        for _ in range(plan["crashes"]):
            await anyio.sleep(1.0)  # the spare process boots again, off the timed path
            pid = victim.statistics().process_id
            assert pid is not None
            start = time.perf_counter()
            os.kill(pid, signal.SIGKILL)
            while True:
                try:
                    await victim.ask.get()
                except interactors.ActorCrashed:
                    continue
                if victim.statistics().process_id != pid:
                    break
                await anyio.lowlevel.checkpoint()
            restarts.append(time.perf_counter() - start)
        restarts.sort()
        out["restart_p50_ms"] = restarts[len(restarts) // 2] * 1e3
        out["restart_p99_ms"] = restarts[min(len(restarts) - 1, int(len(restarts) * 0.99))] * 1e3
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    quick = parser.parse_args().quick
    plan = {
        "asks": 300 if quick else 3000,
        "repeats": 2 if quick else 5,
        "matrix": 120 if quick else 300,
        "rounds": 20 if quick else 200,  # ~0.3 s per actor: longer than the noise
        "crashes": 3 if quick else 30,
    }
    sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # children compile once, like users'
    fresh_bytecode()
    # One BLAS thread per process: "2 actors vs 1 thread" then measures the actors.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import anyio

    ours = anyio.run(interactors_rows, plan)
    pipe = pipe_echo_rate(plan["asks"], plan["repeats"])
    with busy_cpu():
        pipe_busy = pipe_echo_rate(plan["asks"], plan["repeats"])
    pool = pool_rate(plan["asks"] // 3, plan["repeats"])
    ray = ray_rate(plan["asks"] // 3, plan["repeats"])
    pipe_array = pipe_array_round_trip(plan["repeats"])
    pool_spawn, pool_fork, pool_numpy = pool_first_result()
    rows = [
        ("ask, 1 caller (round trips/s)", f"{ours['ask_rate']:,.0f}", "process actor"),
        ("", f"{pipe:,.0f}", "multiprocessing Pipe echo"),
        ("", f"{pool:,.0f}", "ProcessPoolExecutor submit+result"),
        ("", "not installed" if ray is None else f"{ray:,.0f}", "Ray actor"),
        ("  ratio to Pipe (target >= 1.5)", f"{ours['ask_rate'] / pipe:.2f}x", ""),
        ("ask, 1 caller, 1 CPU busy", f"{ours['ask_rate_busy']:,.0f}", "process actor"),
        ("", f"{pipe_busy:,.0f}", "multiprocessing Pipe echo"),
        ("numpy work, 2 actors vs 1 thread", f"{ours['numpy_speedup']:.2f}x", "target >= 1.8"),
        ("", f"{ours['pool_numpy_speedup']:.2f}x", "2 ProcessPoolExecutor workers vs 1 thread"),
        (
            f"{ARRAY_MIB} MiB array round trip (ms)",
            f"{ours['array_round_trip_s'] * 1e3:.0f}",
            "process actor",
        ),
        ("", f"{pipe_array * 1e3:.0f}", "pickled through a Pipe"),
        ("  speed-up (target >= 10)", f"{pipe_array / ours['array_round_trip_s']:.1f}x", ""),
        (
            "spawn to first answer (ms)",
            f"{ours['spawn_plain_first_answer_s'] * 1e3:.0f}",
            "process actor (stdlib actor, warm spare)",
        ),
        ("", f"{ours['spawn_first_answer_s'] * 1e3:.0f}", "process actor (numpy, cold)"),
        ("", f"{pool_spawn * 1e3:.0f}", "ProcessPoolExecutor first result (spawn)"),
        ("", f"{pool_fork * 1e3:.0f}", "ProcessPoolExecutor first result (fork)"),
        ("", f"{pool_numpy * 1e3:.0f}", "ProcessPoolExecutor first result (spawn, numpy task)"),
        ("idle process actor RSS (MiB)", f"{ours['idle_rss_mib']:.1f}", "VmRSS of the child"),
        (
            "crash -> answering again (ms)",
            f"p50 {ours['restart_p50_ms']:.1f}",
            f"p99 {ours['restart_p99_ms']:.1f} (target p99 <= 100)",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"Process actors ({platform.python_version()}, {os.cpu_count()} CPUs)")
    for label, value, note in rows:
        print(f"{label:<{width}}  {value:>14}  {note}")
    RESULTS.mkdir(exist_ok=True)
    data = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "quick": quick,
        "interactors": ours,
        "pipe_echo_rate": pipe,
        "pipe_echo_rate_busy": pipe_busy,
        "pool_rate": pool,
        "ray_rate": ray,
        "pipe_array_round_trip_s": pipe_array,
        "pool_first_result_spawn_s": pool_spawn,
        "pool_first_result_fork_s": pool_fork,
        "pool_first_result_numpy_s": pool_numpy,
    }
    path = RESULTS / f"process-{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
