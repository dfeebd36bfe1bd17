"""Ctrl-C in scripts that use actors, run for real as subprocesses sent real SIGINTs.

The first Ctrl-C stops every actor gracefully; a second one, while actors are still
stopping, ends the process at once with exit code 130 and one line, never a hang nor an
InterpreterError. An actor that does not stop is abandoned, and never makes the exit hang.
"""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

APP = Path(__file__).parent / "apps" / "ctrl_c.py"
TIMEOUT = 45.0

pytestmark = pytest.mark.timeout(90)


def start(how: str, backend: str, actor: str, shutdown: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(APP), how, backend, actor, str(shutdown)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        pytest.fail(f"the app did not start: {line!r} {process.communicate(timeout=TIMEOUT)}")
    return process


def second_ctrl_c(process: subprocess.Popen[str]) -> float:
    """Press Ctrl-C again once the script says it took the first one; return when.

    Two SIGINTs sent close together can reach Python as one (its handler runs once for
    a signal that arrived twice before it ran), so the second waits for ``stopping``.
    """
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if line.strip() != "stopping":
        process.kill()
        pytest.fail(f"the first Ctrl-C was not taken: {line!r}")
    time.sleep(0.2)  # well into the graceful stop
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    return started


def finish(process: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        return process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the process hung after Ctrl-C:\n{out}\n{err}")


def assert_clean(err: str) -> None:
    assert "InterpreterError" not in err, err
    assert "interpreter running" not in err, err
    assert "ExceptionGroup" not in err, err


@pytest.mark.parametrize("how", ["run", "blocking"])
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_second_ctrl_c_forces_the_exit_at_once(how: str, backend: str) -> None:
    with start(how, backend, "nap", shutdown=30.0) as process:
        process.send_signal(signal.SIGINT)
        started = second_ctrl_c(process)
        _, err = finish(process)
    assert time.monotonic() - started < 5  # not the 30 s of the shutdown timeout
    assert process.returncode == 130, err
    assert_clean(err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "SIGINT" in lines[0]
    assert "forced exit" in lines[0]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_second_ctrl_c_without_interactors_run_never_destroys_a_running_interpreter(
    backend: str,
) -> None:
    # The event loop's own Ctrl-C handling cuts the shutdown short: the actor still
    # running is abandoned (never destroyed) and the exit does not wait for it.
    with start("plain", backend, "nap", shutdown=30.0) as process:
        process.send_signal(signal.SIGINT)
        started = second_ctrl_c(process)
        _, err = finish(process)
    assert time.monotonic() - started < 10
    assert process.returncode == 130, err
    assert "Looper-1 did not stop and were abandoned" in err
    assert_clean(err)


def test_ctrl_c_in_run_stops_actors_then_raises_keyboard_interrupt() -> None:
    # (trio already raised a clean KeyboardInterrupt; asyncio chained a CancelledError)
    with start("run", "asyncio", "idle", shutdown=5.0) as process:
        process.send_signal(signal.SIGINT)
        out, err = finish(process)
    assert "on_stop ran" in out
    assert process.returncode == -signal.SIGINT, err  # an uncaught KeyboardInterrupt
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert "Cancelled" not in err  # the user's own KeyboardInterrupt, not a cancellation
    assert "During handling" not in err
    assert_clean(err)


@pytest.mark.parametrize("how", ["run", "blocking"])
def test_ctrl_c_with_an_actor_that_does_not_stop_exits_130(how: str) -> None:
    with start(how, "asyncio", "nap", shutdown=1.0) as process:
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = finish(process)
    assert time.monotonic() - started < 10
    assert process.returncode == 130, err
    assert "did not stop" in err
    assert "leaving with exit code 130" in err
    assert_clean(err)


@pytest.mark.parametrize("how", ["run", "blocking"])
def test_ctrl_c_with_a_python_loop_never_blames_c_code(how: str) -> None:
    with start(how, "trio", "spin", shutdown=1.0) as process:
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = finish(process)
    assert time.monotonic() - started < 10
    assert process.returncode in (130, -signal.SIGINT), err  # abandoned, or interrupted
    assert "stuck in C code" not in err
    assert_clean(err)


@pytest.mark.parametrize("wait", ["isolated", "process", "call"])
def test_a_ctrl_c_handled_while_a_wait_begins_still_ends_the_wait(wait: str) -> None:
    # The signal lands in another thread: the main thread, asleep in result() (of an ask
    # to an actor in an interpreter, one in a process) or in system.call(), is not woken
    # by it (as when it lands just before the main thread sleeps).
    app = Path(__file__).parent / "apps" / "ctrl_c_elsewhere.py"
    process = subprocess.run(
        [sys.executable, str(app), wait], capture_output=True, text=True, timeout=TIMEOUT
    )
    lines = process.stdout.splitlines()
    assert lines[:1] == ["waiting"], process.stderr
    assert len(lines) == 2, process.stderr
    assert lines[1].startswith("interrupted after "), process.stderr
    assert float(lines[1].split()[2]) < 30  # not when the nap ends (600 s)
    if wait == "call":  # the interrupted call's task was cancelled: a clean exit
        assert process.returncode == 0, process.stderr
    assert_clean(process.stderr)
