"""The ``interactors`` command, run for real as a subprocess: exit codes, signals, config."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import interactors

APPS = Path(__file__).parent / "apps"
ROOT = Path(__file__).parent.parent
TIMEOUT = 45.0


@pytest.fixture
def events(tmp_path: Path) -> Path:
    """The file the test apps' actors write their lifecycle events to."""
    path = tmp_path / "events.log"
    path.touch()
    return path


def _env(events: Path | None = None, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    if events is not None:
        env["CLI_APPS_LOG"] = str(events)
    env.update(extra)
    return env


def run_cli(
    *args: str, events: Path | None = None, timeout: float = TIMEOUT, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interactors", *args],
        cwd=ROOT,
        env=_env(events, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_app(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return run_cli("run", "--app-dir", str(APPS), *args, **kwargs)  # type: ignore[arg-type]


def wait_for(events: Path, *lines: str, process: subprocess.Popen[str]) -> list[str]:
    """Wait until every one of ``lines`` is in the events file (the app is ready)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        seen = events.read_text().splitlines()
        if all(line in seen for line in lines):
            return seen
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.kill()
    out, err = process.communicate(timeout=TIMEOUT)
    pytest.fail(f"the app never got ready: events {events.read_text()!r}\n{out}\n{err}")


def start_app(*args: str, events: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "interactors", "run", "--app-dir", str(APPS), *args],
        cwd=ROOT,
        env=_env(events, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# -- usage -------------------------------------------------------------------------------


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"interactors {interactors.__version__}"


def test_run_version() -> None:
    result = run_cli("run", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"interactors {interactors.__version__}"


def test_app_raising_keyboard_interrupt_exits_1_with_its_traceback() -> None:
    result = run_app("cli_apps:interrupts")
    assert result.returncode == 1, result.stderr
    assert "app cli_apps:interrupts raised KeyboardInterrupt" in result.stderr
    assert "raise KeyboardInterrupt" in result.stderr  # its own traceback
    assert "ExceptionGroup" not in result.stderr


def test_help_documents_options_and_exit_codes() -> None:
    result = run_cli("run", "--help")
    assert result.returncode == 0
    for option in ("--backend", "--app-dir", "--config", "--log-level", "--log-format"):
        assert option in result.stdout
    for option in ("--shutdown-timeout", "--reload", "--isolation"):
        assert option in result.stdout
    assert "exit codes:" in result.stdout
    assert "root supervisor gave up" in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "run" in result.stderr


def test_unknown_option_is_a_usage_error() -> None:
    result = run_app("--backend", "curio", "cli_apps:main")
    assert result.returncode == 2
    assert "invalid choice: 'curio'" in result.stderr


# -- apps that run to completion ----------------------------------------------------------


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_app_with_system_exits_0(backend: str) -> None:
    result = run_app("--backend", backend, "cli_apps:main")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello, launcher\n"
    startup = [line for line in result.stderr.splitlines() if "running cli_apps:main" in line]
    assert len(startup) == 1
    assert (
        f"interactors {interactors.__version__} running cli_apps:main on {backend}" in (startup[0])
    )
    assert "isolation isolated, pid " in startup[0]
    assert "stopping 1 actor" in result.stderr
    assert "exit code 0" in result.stderr


def test_app_without_system_exits_0() -> None:
    result = run_app("cli_apps:main_without_system")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello, own system\n"


def test_app_that_raises_exits_1_with_its_traceback() -> None:
    result = run_app("cli_apps:failing")
    assert result.returncode == 1
    assert "Traceback (most recent call last):" in result.stderr
    assert "ValueError: broken on purpose" in result.stderr
    assert 'cli_apps.py", line' in result.stderr


def test_root_supervisor_giving_up_exits_3(events: Path) -> None:
    result = run_app("cli_apps:gives_up", events=events)
    assert result.returncode == 3, result.stderr
    assert "the root supervisor gave up" in result.stderr
    assert "never gave up" not in result.stderr


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_root_supervisor_giving_up_while_the_app_returns_exits_3(backend: str) -> None:
    result = run_app("--backend", backend, "cli_apps:gives_up_while_returning")
    assert result.stdout == "returning\n"
    assert result.returncode == 3, result.stderr
    assert "the root supervisor gave up: supervisor 'late' gave up" in result.stderr
    assert "exit code 0" not in result.stderr


def test_json_logs() -> None:
    result = run_app("--log-format", "json", "cli_apps:failing")
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert records, result.stderr
    assert {"time", "level", "logger", "message"} <= records[0].keys()
    failure = next(r for r in records if r["message"] == "app cli_apps:failing raised")
    assert failure["level"] == "ERROR"
    assert "ValueError: broken on purpose" in failure["traceback"]


def test_log_level_hides_info() -> None:
    result = run_app("--log-level", "warning", "cli_apps:main")
    assert result.returncode == 0
    assert result.stderr == ""


# -- apps that cannot run: exit 2 and one line ----------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module:main", 'cannot find module "no_such_module"'),
        ("cli_apps:no_such_attribute", 'has no attribute "no_such_attribute"'),
        ("cli_apps:answer", '"cli_apps:answer" is an int (42)'),
        ("cli_apps:not_async", "make it `async def`"),
        ("cli_apps:Greeter", '"cli_apps:Greeter" is a class (Greeter); expected'),
        ("cli_apps:too_many", "takes 2 required parameters"),
        ("cli_apps:one_more", "takes 3 required parameters"),
        ("cli_apps:keyword_system", "required keyword-only parameter (system)"),
        ("cli_apps:yields", "is an async generator function (it yields)"),
        ("cli_apps", 'APP must be written "module:attribute"'),
        ("cli_apps:", 'APP must be written "module:attribute"'),
        ("broken_import:main", "RuntimeError: this module fails on import"),
    ],
)
def test_bad_app_exits_2_with_one_line(spec: str, message: str) -> None:
    result = run_app(spec)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert message in result.stderr


def test_module_with_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "typo.py").write_text("async def main(system)\n    pass\n")
    result = run_cli("run", "--app-dir", str(tmp_path), "typo:main")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "syntax error" in result.stderr
    assert "typo.py:1" in result.stderr


# -- config files ---------------------------------------------------------------------------


def test_config_file_is_used(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('backend = "trio"\nisolation = "auto"\nmailbox_size = 50\n')
    result = run_app("--config", str(config), "cli_apps:main")
    assert result.returncode == 0, result.stderr
    assert "on trio (isolation auto, pid " in result.stderr


def test_options_override_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "settings.json"
    config.write_text('{"backend": "trio", "log_format": "json"}')
    result = run_app("--config", str(config), "--backend", "asyncio", "cli_apps:main")
    assert result.returncode == 0, result.stderr
    assert "on asyncio" in json.loads(result.stderr.splitlines()[0])["message"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.toml", 'mailbox_size = "big"', "Expected `int`, got `str` - at `$.mailbox_size`"),
        ("bad.json", '{"shutdown_timeout": -1}', "at `$.shutdown_timeout`"),
        ("bad.toml", 'isolation = "maybe"', "at `$.isolation`"),
        ("bad.toml", "mailbox = 10", "unknown field `mailbox` (known keys: backend"),
        ("bad.toml", "mailbox_size = ", "not valid TOML"),
        ("bad.yaml", "mailbox_size: 3", "name it *.toml or *.json"),
    ],
)
def test_bad_config_exits_2_naming_the_key(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    config = tmp_path / name
    config.write_text(content)
    result = run_app("--config", str(config), "cli_apps:main")
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert str(config) in result.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = run_app("--config", str(tmp_path / "nowhere.toml"), "cli_apps:main")
    assert result.returncode == 2
    assert "cannot read it" in result.stderr


def test_bad_option_value_exits_2_naming_the_option() -> None:
    result = run_app("--shutdown-timeout", "0", "cli_apps:main")
    assert result.returncode == 2
    assert "option --shutdown-timeout: Expected `float` > 0.0" in result.stderr


# -- signals ------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_gracefully(events: Path, backend: str, signum: int) -> None:
    with start_app("--backend", backend, "cli_apps:wait_for_signal", events=events) as process:
        wait_for(events, "first:start", "second:start", process=process)
        # (the app prints "ready" just after its actors start: a signal sent before that
        # would cancel its main before the print, which is fine but not this test)
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], TIMEOUT)
        assert readable
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signum)
        out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert out == ""  # nothing else on stdout
    assert f"received {signal.Signals(signum).name}: shutting down" in err
    # Both on_stop hooks ran, in reverse start order.
    stops = [e for e in events.read_text().splitlines() if e.endswith(":stop")]
    assert stops == ["second:stop", "first:stop"]


def _stderr_until(process: subprocess.Popen[str], text: str) -> str:
    """Read the app's stderr until ``text`` shows; what was read. (Raw reads: a buffered
    readline would keep lines that select() then no longer sees.)"""
    assert process.stderr is not None
    fd = process.stderr.fileno()
    read = b""
    deadline = time.monotonic() + TIMEOUT
    while text.encode() not in read:
        readable, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert readable, f"{text!r} never came: {read.decode()}"
        chunk = os.read(fd, 65536)
        assert chunk, f"the app ended before {text!r}: {read.decode()}"
        read += chunk
    return read.decode()


def _catches(pid: int, signum: int) -> bool:
    status = Path(f"/proc/{pid}/status").read_text()
    caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:"))[7:], 16)
    return bool(caught & (1 << (signum - 1)))


def test_signal_during_start_up_is_graceful(events: Path) -> None:
    with start_app("cli_apps:wait_for_signal", events=events) as process:
        deadline = time.monotonic() + TIMEOUT
        while not _catches(process.pid, signal.SIGTERM) and time.monotonic() < deadline:
            time.sleep(0.001)
        # Handled from the first moment: the app is still importing, or just starting.
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert "received SIGTERM" in err


def test_supervision_tree_runs_until_signalled(events: Path) -> None:
    with start_app("tree_app:tree", events=events) as process:
        wait_for(events, "tree-first:start", "tree-second:start", process=process)
        # (the count is logged once start() returned, a moment after the actors' on_start)
        seen = _stderr_until(process, "2 actors running")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=TIMEOUT)
    err = seen + err
    assert process.returncode == 0, err
    assert "running tree_app:tree on asyncio (isolation isolated, pid " in err
    assert "2 actors running" in err
    stops = [e for e in events.read_text().splitlines() if e.endswith(":stop")]
    assert stops == ["tree-second:stop", "tree-first:stop"]


def test_second_signal_forces_exit(events: Path) -> None:
    args = ("--shutdown-timeout", "30", "cli_apps:slow_to_stop")
    with start_app(*args, events=events) as process:
        wait_for(events, "slow:start", process=process)
        process.send_signal(signal.SIGTERM)
        wait_for(events, "slow:stopping", process=process)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert time.monotonic() - started < 10  # not the 30 s the actor would take
    assert "received SIGTERM again: forced exit" in err
    assert "slow:stop" not in events.read_text().splitlines()


def test_actor_stuck_in_c_does_not_hang_the_exit(events: Path) -> None:
    args = ("--shutdown-timeout", "1", "cli_apps:slow_to_stop")
    with start_app(*args, events=events) as process:
        wait_for(events, "slow:start", process=process)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 4, err
    assert time.monotonic() - started < 10
    assert "slow did not stop within the shutdown timeout (1 s) and were abandoned" in err


def test_slow_on_stop_within_the_timeout_exits_0(events: Path) -> None:
    args = ("--shutdown-timeout", "10", "cli_apps:slow_to_stop")
    with start_app(*args, events=events, STOP_DELAY="0.5") as process:
        wait_for(events, "slow:start", process=process)
        # The app prints "ready" once its spawn returned. A signal before that cancels the
        # spawn, whose half-started actor gets 0.5 s to stop: not what this test is about.
        assert process.stdout is not None
        readable, _, _ = select.select([process.stdout], [], [], TIMEOUT)
        assert readable
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert events.read_text().splitlines()[-1] == "slow:stop"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_interrupts_running_handlers(events: Path, signum: int) -> None:
    """Actors inside ``while True: pass`` handlers (a plain one and an ``async def`` one)
    are interrupted, run ``on_stop`` and the launcher exits 0, well within the timeout."""
    args = ("--shutdown-timeout", "6", "busy_app:main")
    with start_app(*args, events=events) as process:
        wait_for(events, "plain:spinning", "coroutine:spinning", process=process)
        started = time.monotonic()
        process.send_signal(signum)
        _, err = process.communicate(timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert process.returncode == 0, err
    assert elapsed < 6, err  # each actor is interrupted half-way through its 6 s
    assert "interrupting its running handlers" in err
    assert "stuck in C" not in err
    stops = [e for e in events.read_text().splitlines() if e.endswith(":stop")]
    assert stops == ["coroutine:stop", "plain:stop"]


# -- reload -------------------------------------------------------------------------------

RELOADABLE = """\
import os

import anyio


async def main():
    with open(os.environ["CLI_APPS_LOG"], "a") as f:
        f.write("started {version}\\n")
    await anyio.sleep_forever()
"""


def test_reload_restarts_the_app_on_change(tmp_path: Path, events: Path) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    source = app_dir / "reloadable.py"
    source.write_text(RELOADABLE.format(version=1))
    command = [sys.executable, "-m", "interactors", "run", "--reload"]
    command += ["--app-dir", str(app_dir), "reloadable:main"]
    with subprocess.Popen(
        command, cwd=ROOT, env=_env(events), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        wait_for(events, "started 1", process=process)  # type: ignore[arg-type]
        source.write_text(RELOADABLE.format(version=2))
        wait_for(events, "started 2", process=process)  # type: ignore[arg-type]
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert b"reloadable.py changed: restarting the app" in err


# -- the demo -----------------------------------------------------------------------------


def test_pipeline_demo_runs_through_the_launcher() -> None:
    # A quarter of the demo's work: the same run, and still quick on a busy machine.
    result = run_cli("run", "examples.pipeline:main", timeout=55, PIPELINE_WORDS="25000")
    assert result.returncode == 0, result.stderr
    assert "crashed on chunk" in result.stdout
    assert "identical on actors and threads" in result.stdout
    assert "speed-up" in result.stdout
