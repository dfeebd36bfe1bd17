"""The host's logging levels follow into running actors, and no record is lost on the way."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import anyio
import pytest

import interactors
from log_actors import Chatty

pytestmark = pytest.mark.anyio

LOGGER = "log_actors.chatty"
ISOLATIONS = ["isolated", "process"]


@pytest.fixture
def levels(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture everything, with the host's root at INFO; restore the levels afterwards."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.INFO)
    try:
        yield caplog
    finally:
        logging.getLogger(LOGGER).setLevel(logging.NOTSET)


def _messages(caplog: pytest.LogCaptureFixture, name: str = LOGGER) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name]


async def _debug_shows(
    chatty: interactors.ActorRef[Chatty], caplog: pytest.LogCaptureFixture, tag: str
) -> bool:
    """Log a debug record then an info marker in the actor; did the debug one arrive?
    (Records arrive in order: once the marker is there, so is the debug record.)"""
    await chatty.ask(Chatty.debug, tag)
    await chatty.ask(Chatty.info, tag)
    while f"info: {tag}" not in _messages(caplog):  # noqa: ASYNC110
        await anyio.sleep(0.01)
    return f"debug: {tag}" in _messages(caplog)


@pytest.mark.parametrize("isolation", ISOLATIONS)
async def test_a_running_actor_follows_the_hosts_levels(
    levels: pytest.LogCaptureFixture, isolation: str
) -> None:
    app = logging.getLogger(LOGGER)
    with anyio.fail_after(40):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty, name="chatty", isolation=isolation)
            assert not await _debug_shows(chatty, levels, "at start")

            app.setLevel(logging.DEBUG)  # noticed by the system within about a second
            rounds = 1
            while not await _debug_shows(chatty, levels, f"lowered {rounds}"):
                rounds += 1
                await anyio.sleep(0.05)

            app.setLevel(logging.INFO)
            while await _debug_shows(chatty, levels, f"raised {rounds}"):
                rounds += 1
                await anyio.sleep(0.05)

            app.setLevel(logging.NOTSET)  # the root decides again: also followed
            logging.getLogger().setLevel(logging.DEBUG)
            interactors.refresh_log_levels()  # at once, before the next message
            assert await _debug_shows(chatty, levels, "root lowered")
            logging.getLogger().setLevel(logging.INFO)
            interactors.refresh_log_levels()
            assert not await _debug_shows(chatty, levels, "root raised")
    (shown,) = [r for r in levels.records if r.getMessage() == "debug: root lowered"]
    assert shown.funcName == "debug"  # the actor's method, not a frame of interactors
    assert shown.pathname.endswith("log_actors.py")
    assert shown.actor == "chatty"  # type: ignore[attr-defined]


async def test_a_level_the_actors_code_sets_stays(levels: pytest.LogCaptureFixture) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            quiet = await system.spawn("level_actors:SetsItsOwnLevel")
            logging.getLogger().setLevel(logging.DEBUG)
            interactors.refresh_log_levels()
            assert await quiet.ask.log() == ["warning"]  # its own WARNING level holds


@pytest.mark.parametrize("isolation", ISOLATIONS)
async def test_twenty_thousand_records_all_arrive(
    caplog: pytest.LogCaptureFixture, isolation: str
) -> None:
    caplog.set_level(logging.INFO)
    count = 20_000
    with anyio.fail_after(40):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty, isolation=isolation)
            await chatty.ask(Chatty.many, count)
            while len(_messages(caplog)) < count:  # noqa: ASYNC110
                await anyio.sleep(0.01)
            await chatty.ask(Chatty.info, "last")
            while "info: last" not in _messages(caplog):  # noqa: ASYNC110
                await anyio.sleep(0.01)
    assert _messages(caplog) == [f"record {i}" for i in range(count)] + ["info: last"]


@pytest.mark.parametrize("isolation", ISOLATIONS)
async def test_records_logged_while_the_module_is_imported_arrive(
    caplog: pytest.LogCaptureFixture, isolation: str
) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(
                "import_log_actors:Imported", name="importer", isolation=isolation
            )
            assert await actor.ask.ping() == "pong"
            while not _messages(caplog, "import_log_actors"):  # noqa: ASYNC110
                await anyio.sleep(0.01)
    (record,) = [r for r in caplog.records if r.name == "import_log_actors"]
    assert record.getMessage() == "module imported"
    assert record.actor == "importer"  # type: ignore[attr-defined]


async def test_records_with_fields_of_subclassed_types_arrive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            chatty = await system.spawn(Chatty)
            await chatty.ask.notice("enum level")
            while "after" not in _messages(caplog):  # noqa: ASYNC110
                await anyio.sleep(0.01)
    assert _messages(caplog) == ["before", "notice: enum level", "after"]
    assert [r.levelno for r in caplog.records if r.name == LOGGER] == [20, 25, 20]
