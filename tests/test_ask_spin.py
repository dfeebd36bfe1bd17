"""A lone caller's ask never spins for an answer it already has.

Every ``_INLINE_STREAK`` answers taken in a row, the caller lets the loop run once before
it looks for the next one. The loop's reader may drain that answer meanwhile and hand it
to the waiter: the queue is then empty, and a spin on the queue would wait its whole bound
(200 µs) with the answer in hand. That stall, every 130 asks or so, was the 1-caller p99.
"""

from __future__ import annotations

import os

import anyio
import anyio.lowlevel
import pytest

import interactors
from interactors._host import pump

pytestmark = pytest.mark.anyio


async def test_an_answer_drained_while_the_loop_ran_ends_the_ask_without_a_spin(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    yields = 0

    def counted_yield() -> None:
        nonlocal yields
        yields += 1
        os.sched_yield()

    checkpoint = anyio.lowlevel.checkpoint

    async def long_turn() -> None:  # the loop runs long enough for the reader to drain
        await anyio.sleep(0.05)

    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            echo = await system.spawn("actors:Echo")
            assert await echo.ask.echo(0) == (0,)
            replies = system._pump  # the system's reply pump: its streak is ours to set
            monkeypatch.setattr(pump, "_yield_cpu", counted_yield)
            for i in range(5):
                replies.streak = pump._INLINE_STREAK  # this ask lets the loop run first
                monkeypatch.setattr(anyio.lowlevel, "checkpoint", long_turn)
                try:
                    assert await echo.ask.echo(i) == (i,)
                finally:
                    monkeypatch.setattr(anyio.lowlevel, "checkpoint", checkpoint)
                assert yields == 0, f"ask {i} spun {yields} times with its answer in hand"
