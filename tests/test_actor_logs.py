"""Log records and warnings made inside actors come out of the host's ``logging``."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

import interactors
from late_warning_actors import LateWarner
from log_actors import Chatty

pytestmark = pytest.mark.anyio

LOGGER = "log_actors.chatty"
ROOT = Path(__file__).parent.parent


def _records(caplog: pytest.LogCaptureFixture, name: str = LOGGER) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


async def _wait_for(caplog: pytest.LogCaptureFixture, count: int, name: str = LOGGER) -> None:
    while len(_records(caplog, name)) < count:  # noqa: ASYNC110
        await anyio.sleep(0.01)


@pytest.mark.parametrize("isolation", ["isolated", "process"])
async def test_info_warning_and_exception_reach_the_host(
    caplog: pytest.LogCaptureFixture, isolation: str
) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty, name="chatty", isolation=isolation)
            await chatty.ask.info("hello")
            await chatty.ask.warning("careful")
            await chatty.ask.exception()
            await _wait_for(caplog, 3)
    info, warning, error = _records(caplog)
    assert (info.levelno, info.getMessage()) == (logging.INFO, "info: hello")
    assert (warning.levelno, warning.getMessage()) == (logging.WARNING, "warning: careful")
    assert (error.levelno, error.getMessage()) == (logging.ERROR, "it failed")
    assert error.exc_text is not None
    assert "ZeroDivisionError: division by zero" in error.exc_text
    assert "ZeroDivisionError" in caplog.text
    for record in (info, warning, error):
        assert record.actor == "chatty"  # type: ignore[attr-defined]
        assert record.actor_id == chatty.actor_id  # type: ignore[attr-defined]
        assert record.funcName in ("info", "warning", "exception")
        assert record.pathname.endswith("log_actors.py")
    assert info.created <= warning.created <= error.created


async def test_what_a_handler_logged_comes_out_before_the_callers_next_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An actor's records are out in the host's log by the time its answer arrives: a
    caller logging what it got is not logged before what the actor did to answer it."""
    caplog.set_level(logging.INFO)
    caller = logging.getLogger("caller")
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty, name="chatty")
            for i in range(50):  # both ways in: a lone ask, and asks in the host's batches
                await chatty.ask.info(f"step {i}")
                caller.info("after %d", i)
            async with anyio.create_task_group() as group:
                for i in range(50, 60):
                    group.start_soon(chatty.ask.info, f"step {i}")
            caller.info("after all")
    lines = [r.getMessage() for r in caplog.records if r.name in (LOGGER, "caller")]
    expected = [line for i in range(50) for line in (f"info: step {i}", f"after {i}")]
    assert lines[:100] == expected
    assert sorted(lines[100:110]) == sorted(f"info: step {i}" for i in range(50, 60))
    assert lines[110] == "after all"


async def test_debug_follows_the_host_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty)
            await chatty.ask.debug("hidden")
            await chatty.ask.info("marker")
            await _wait_for(caplog, 1)
    assert [r.getMessage() for r in _records(caplog)] == ["info: marker"]

    caplog.clear()
    caplog.set_level(logging.DEBUG)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty)
            await chatty.ask.debug("shown")
            await _wait_for(caplog, 1)
    assert [r.getMessage() for r in _records(caplog)] == ["debug: shown"]


async def test_warnings_arrive_as_py_warnings_records(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty, name="warner")
            await chatty.ask.warn("old API")
            await _wait_for(caplog, 1, "py.warnings")
    (record,) = _records(caplog, "py.warnings")
    assert record.levelno == logging.WARNING
    assert "UserWarning: old API" in record.getMessage()
    assert record.actor == "warner"  # type: ignore[attr-defined]


async def test_warnings_imported_late_or_by_cpython_still_arrive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The actor's interpreter does not import ``warnings`` for it; once its code does, or
    CPython does to report a coroutine never awaited, warnings still reach the host."""
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            first = await system.spawn(LateWarner, name="late")
            assert await first.ask.warnings_imported() is False
            await first.ask.warn("imported in the handler")
            await _wait_for(caplog, 1, "py.warnings")
            second = await system.spawn(LateWarner, name="sloppy")
            await second.ask.drop_a_coroutine()
            await _wait_for(caplog, 2, "py.warnings")
    late, sloppy = _records(caplog, "py.warnings")
    assert "UserWarning: imported in the handler" in late.getMessage()
    assert late.actor == "late"  # type: ignore[attr-defined]
    assert "RuntimeWarning: coroutine '_never_awaited' was never awaited" in sloppy.getMessage()
    assert sloppy.actor == "sloppy"  # type: ignore[attr-defined]


async def test_ten_thousand_records_arrive_in_order(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty)
            await chatty.ask.many(10_000)
            await _wait_for(caplog, 10_000)
    messages = [r.getMessage() for r in _records(caplog)]
    assert messages == [f"record {i}" for i in range(10_000)]


@pytest.mark.timeout(60)
def test_json_log_lines_name_the_actor() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "interactors",
            "run",
            "--app-dir",
            str(Path(__file__).parent / "apps"),
            "--log-format",
            "json",
            "log_app:main",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=45,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    (warning,) = [line for line in lines if line["logger"] == "log_app.worker"]
    assert warning["level"] == "WARNING"
    assert warning["message"] == "disk almost full"
    assert warning["actor"] == "janitor"
    assert isinstance(warning["actor_id"], int)


async def test_logging_imported_late_by_the_actor(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            late = await system.spawn("late_log_actors:LateLogger", name="late")
            await late.ask.log("first")
            await late.ask.log("second")
            await _wait_for(caplog, 2, "late_log_actors")
    records = _records(caplog, "late_log_actors")
    assert [r.getMessage() for r in records] == ["first", "second"]
    assert {r.actor for r in records} == {"late"}  # type: ignore[attr-defined]


async def test_records_logged_before_a_crash_arrive_before_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty, name="crashy", on_error="restart")
            with pytest.raises(interactors.ActorCrashed):
                await chatty.ask.crash("last words")
            await chatty.ask.info("after the restart")
            await _wait_for(caplog, 2)
    messages = [
        r.getMessage() for r in caplog.records if r.name in (LOGGER, "interactors") and r.levelno
    ]
    crash = next(i for i, m in enumerate(messages) if m.startswith("actor 'crashy' crashed"))
    assert messages.index("warning: last words") < crash < messages.index("info: after the restart")


async def test_a_record_from_an_actors_own_thread_arrives_while_it_idles(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty)
            await chatty.ask.from_thread("hi")
            await _wait_for(caplog, 1)  # the worker is parked meanwhile
            await chatty.ask.join_thread()
    assert [r.getMessage() for r in _records(caplog)] == ["thread: hi"]
