"""Checks that a mutation of the runtime used to pass unnoticed."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import interactors
from fault_actors import AsyncRecorder, Inner, Tally

pytestmark = pytest.mark.anyio


async def test_async_actors_run_on_stop(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(AsyncRecorder, str(log))
            assert await actor.ask.ping() == "pong"
            await actor.stop()
            assert log.read_text() == "stopped\n"
            assert await actor.wait_stopped() == "normal"


async def test_an_inner_tell_nowait_raises_mailbox_full_instead_of_blocking() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            slow = await system.spawn(Tally, 1, 0.05, mailbox_size=4)
            inner = await system.spawn(Inner, slow)
            with anyio.fail_after(5):
                assert await inner.ask.flood(100) == "full"
