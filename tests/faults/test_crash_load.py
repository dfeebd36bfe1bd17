"""Crash during load: 8 actors, 20 callers, random crashes, exits, hangs and raising tells.

Every ask must end — with its result or a typed interactors error, never a hang or a bare
cancellation — and the system must shut down cleanly afterwards.
"""

from __future__ import annotations

import random

import anyio
import pytest

import interactors
from fault_actors import Chaotic
from interactors import Backoff, ChildSpec, Supervisor

pytestmark = pytest.mark.anyio

SECONDS = 4.0


async def test_every_ask_ends_while_actors_crash_exit_and_hang() -> None:
    names = [f"w{i}" for i in range(8)]
    tree = Supervisor(
        max_restarts=10_000,
        within=1.0,
        backoff=Backoff(min=0.0, max=0.0, jitter=0.0),
        children=[
            ChildSpec(Chaotic, name=name, on_error="restart", handler_timeout=0.3) for name in names
        ],
    )
    outcomes: dict[str, int] = {}

    async def caller(index: int, actors: list[interactors.ActorRef]) -> None:
        local = random.Random(index)
        deadline = anyio.current_time() + SECONDS
        while anyio.current_time() < deadline:
            actor = local.choice(actors)
            roll = local.random()
            try:
                with anyio.fail_after(10):  # an ask that hangs fails the test
                    if roll < 0.70:
                        assert await actor.ask.work(index) == index * 2
                        kind = "ok"
                    elif roll < 0.80:
                        await actor.ask.boom("bad request")
                        kind = "no error?"
                    elif roll < 0.87:
                        actor.tell_nowait.boom("bad tell")
                        kind = "told"
                    elif roll < 0.94:
                        await actor.ask.leave(1)
                        kind = "no exit?"
                    else:
                        # Far past handler_timeout, so that the watchdog has time to
                        # break it even when the machine is busy: interrupted at ~0.3 s.
                        await actor.ask.spin(5.0)
                        kind = "no hang?"
            except interactors.InteractorsError as error:
                kind = type(error).__name__
            outcomes[kind] = outcomes.get(kind, 0) + 1

    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            root = await system.start(tree)
            actors = [root.child(name) for name in names]
            async with anyio.create_task_group() as group:
                for index in range(20):
                    group.start_soon(caller, index, actors)
            # the system still serves after the storm
            for actor in actors:
                assert await actor.ask.work(21) == 42
            events = system.statistics().events
    assert outcomes.get("ok", 0) > 100
    assert "no error?" not in outcomes
    assert "no exit?" not in outcomes
    assert "no hang?" not in outcomes
    assert outcomes.get("ActorCrashed", 0) > 0
    assert events.get("restarted", 0) > 0
