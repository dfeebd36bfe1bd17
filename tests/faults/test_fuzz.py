"""A hypothesis fuzz of the message path: what goes in comes back equal, or the sender gets
an EncodeError and the actor carries on."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interactors
from fault_actors import Chaotic

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=50)
    | st.binary(max_size=200)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=10), inner, max_size=5)
        | st.frozensets(st.integers(), max_size=5)
    ),
    max_leaves=30,
)


def same(a: Any, b: Any) -> bool:
    """Equal, of the same types all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@pytest.fixture(params=["asyncio", "trio"])
def echo(request: pytest.FixtureRequest) -> Iterator[interactors.BlockingActorRef]:
    with interactors.BlockingActorSystem(backend=request.param) as system:
        yield system.spawn(Chaotic)


@pytest.mark.timeout(120)
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(value=values)
def test_values_round_trip_through_an_actor(echo: interactors.BlockingActorRef, value: Any) -> None:
    assert same(echo.ask.echo(value).result(10), value)
    assert same(echo.ask.echo(value=value).result(10), value)


def test_unencodable_arguments_raise_encode_error_and_the_actor_carries_on(
    anyio_backend: str,
) -> None:
    deep: Any = []
    for _ in range(20_000):
        deep = [deep]

    async def main() -> None:
        with anyio.fail_after(30):
            async with interactors.ActorSystem() as system:
                actor = await system.spawn(Chaotic)
                for bad in (lambda: None, deep, [memoryview(b"abc")], {"k": memoryview(b"x")}):
                    with pytest.raises(interactors.EncodeError):
                        await actor.ask.echo(bad)
                for big in (2**63, -(2**63) - 1, 2**200):
                    assert await actor.ask.echo(big) == big
                assert await actor.ask.work(4) == 8

    anyio.run(main, backend=anyio_backend)
