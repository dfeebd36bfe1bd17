"""isolation="auto" chooses a process for compiled extensions; shared_gil says its limits."""

from __future__ import annotations

import contextlib
import os
import time

import anyio
import pytest

import interactors

pytestmark = pytest.mark.anyio


async def test_numpy_actors_under_auto_run_in_parallel_processes() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem(isolation="auto") as system:
            with pytest.warns(interactors.IsolationFallbackWarning) as warned:
                first = await system.spawn("numpy_actors:Numeric")
            message = str(warned[0].message)
            assert warned[0].filename == __file__  # it points at the spawn that fell back
            assert "numpy" in message
            assert 'isolation="process"' in message
            # the module is remembered: no second attempt, no second warning
            others = [await system.spawn("numpy_actors:Numeric") for _ in range(2)]
            actors = [first, *others]
            assert {a.statistics().isolation for a in actors} == {"process"}
            pids = {await a.ask.pid() for a in actors}
            assert len(pids) == 3
            assert os.getpid() not in pids
            import numpy as np  # the host itself can still use numpy

            n, rounds = 60, 5
            a = np.arange(n * n, dtype=np.float64).reshape(n, n) / (n * n)
            expected = float((a @ a).sum()) * rounds
            results: list[float] = []

            async def work(actor: interactors.ActorRef) -> None:
                results.append(await actor.ask.work(n, rounds))

            async with anyio.create_task_group() as tg:
                for actor in actors:
                    tg.start_soon(work, actor)
            assert results == pytest.approx([expected] * 3)
            assert float(await first.ask.total(np.ones(10))) == 10.0
            doubled = await first.ask.double(np.arange(4))
            assert doubled.tolist() == [0, 2, 4, 6]
            # pure-stdlib actors in the same system still get their own GIL
            counter = await system.spawn("actors:SyncCounter")
            assert counter.statistics().isolation == "isolated"


async def test_msgspec_codec_actor_in_a_process() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(
                "msgspec_actors:JsonActor", isolation="process", codec="msgspec"
            )
            assert await actor.ask.echo({"k": [1, 2]}) == {"k": [1, 2]}
            assert await actor.ask.encode({"a": 1}) == b'{"a":1}'
            with pytest.raises(interactors.EncodeError, match="msgspec cannot encode"):
                await actor.ask.echo(object())


async def test_shared_gil_says_numpy_loads_in_one_interpreter_per_process() -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem(isolation="shared_gil") as system:
            import numpy  # noqa: F401  (the host holds numpy now: no shared_gil actor can)

            started = time.monotonic()
            with pytest.raises(interactors.SpawnError) as info:
                await system.spawn("numpy_actors:Numeric")
            message = str(info.value)
            assert "one interpreter per process" in message
            assert 'isolation="process"' in message
            assert "sys.path" not in message
            assert time.monotonic() - started < 30


def _backing(array: object) -> object:
    while getattr(array, "base", None) is not None:
        array = array.base  # type: ignore[attr-defined]
    return array


async def test_large_buffers_cross_through_shared_memory_uncopied_by_pickle() -> None:
    import numpy as np

    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn("numpy_actors:Numeric", isolation="process")
            x = np.random.default_rng(1).random((512, 1024))  # 4 MiB
            y = await actor.ask.double(x)
            assert np.array_equal(y, x * 2)
            assert isinstance(_backing(y), memoryview)  # built on the buffer, not on bytes
            y[0, 0] = -1.0  # a normal, writable array
            assert await actor.ask.total(np.asfortranarray(x)) == pytest.approx(float(x.sum()))
            assert await actor.ask.total(x[::2, ::3]) == pytest.approx(float(x[::2, ::3].sum()))
            blob = bytes(range(256)) * 4096  # 1 MiB of bytes stays bytes
            echoed = await actor.ask.echo(blob)
            assert type(echoed) is bytes
            assert echoed == blob
            small = np.arange(10)
            assert (await actor.ask.echo(small)).tolist() == list(range(10))
            # an interpreter actor receives a process actor's large result intact
            echo = await system.spawn("actors:Echo")
            assert await echo.ask.length(blob) == len(blob)


def _buffer_memfds(pid: int) -> int:
    """How many of the runtime's large-buffer memfds ``pid`` has open."""
    count = 0
    for entry in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            count += "interactors-buffer" in os.readlink(f"/proc/{pid}/fd/{entry}")
    return count


def _buffer_maps(pid: int) -> int:
    """How many mappings of those memfds ``pid`` has (objects built on received buffers)."""
    with open(f"/proc/{pid}/maps", encoding="utf-8") as maps:
        return sum("interactors-buffer" in line for line in maps)


async def test_large_buffers_held_stay_intact_while_memory_let_go_of_is_reused() -> None:
    import numpy as np

    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn("numpy_actors:Numeric", isolation="process")
            pid = await actor.ask.pid()
            held = []
            for i in range(15):
                x = np.full(256 * 1024, float(i))  # 2 MiB each way
                doubled = await actor.ask.double(x)  # a new array, from the child
                echoed = await actor.ask.echo(x)  # the child's view of our buffer, back
                assert doubled[0] == 2 * i
                assert echoed[-1] == i
                if i % 4 == 0:
                    held.append((i, doubled, echoed))
            # What is held was never written over by the later messages.
            for i, doubled, echoed in held:
                assert (doubled == 2 * i).all()
                assert (echoed == i).all()
            del held, x, doubled, echoed
            # Memory kept for reuse is given back soon after the last large message:
            # neither side keeps a buffer memfd open.
            deadline = time.monotonic() + 10
            while counts := [
                f(p) for f in (_buffer_memfds, _buffer_maps) for p in (pid, os.getpid())
            ]:
                if not any(counts):
                    break
                assert time.monotonic() < deadline, counts  # fds child/host, maps child/host
                await anyio.sleep(0.1)
            assert await actor.ask.total(np.ones(100_000)) == 100_000.0
