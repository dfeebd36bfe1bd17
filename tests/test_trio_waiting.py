"""Asks awaited on trio: answers, cancellation and late answers, with both ways of parking.

On trio the host parks an asking task with trio's trap yielded in one frame, and resumes
it through the task's runner with the answer as it is, where the installed trio allows
it; otherwise with ``trio.lowlevel.wait_task_rescheduled`` and ``reschedule``
(``_host/on_trio.py``): each test runs with both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
import trio

import interactors
from interactors._host import on_trio

pytestmark = pytest.mark.parametrize("anyio_backend", ["trio"])


@pytest.fixture(params=["trap", "public"])
def park(request: pytest.FixtureRequest) -> Iterator[str]:
    calls = on_trio.api()
    fast = calls.park, calls.wake
    if request.param == "trap":
        # (this trio has what the fast path takes: it is the one under test)
        assert fast == (calls.park, on_trio._wake_direct)
        assert calls.park is not trio.lowlevel.wait_task_rescheduled
    else:
        calls.park, calls.wake = trio.lowlevel.wait_task_rescheduled, on_trio._wake_public
    try:
        yield request.param
    finally:
        calls.park, calls.wake = fast


async def test_concurrent_asks_on_trio_each_get_their_own_answer(
    anyio_backend: str, park: str
) -> None:
    answers: dict[int, Any] = {}
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            echo = await system.spawn("actors:Echo")

            async def caller(n: int) -> None:
                for i in range(20):
                    answers[n * 100 + i] = await echo.ask.echo(n, i)

            async with anyio.create_task_group() as tg:
                for n in range(50):
                    tg.start_soon(caller, n)
    assert answers == {n * 100 + i: (n, i) for n in range(50) for i in range(20)}


async def test_a_cancelled_ask_on_trio_leaves_the_actor_working(
    anyio_backend: str, park: str
) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sleeper = await system.spawn("actors:Sleeper")
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.1):
                    await sleeper.ask.sleep(0.5)  # parked, then cancelled
            # The actor finished the cancelled ask's work; its late answer was dropped.
            assert await sleeper.ask.count() == 1
            assert await sleeper.ask.sleep(0) == 0


async def test_a_trio_cancel_scope_ends_every_parked_ask(anyio_backend: str, park: str) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sleeper = await system.spawn("actors:Sleeper")
            ended: list[str] = []

            async def asker() -> None:
                try:
                    await sleeper.ask.sleep(0.2)
                except trio.Cancelled:
                    ended.append("cancelled")
                    raise

            with trio.move_on_after(0.05):
                async with trio.open_nursery() as nursery:
                    for _ in range(5):
                        nursery.start_soon(asker)
            assert ended == ["cancelled"] * 5
            # The five asks ran, one after the other, and the actor still answers.
            with anyio.fail_after(5):
                while await sleeper.ask.count() < 5:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
