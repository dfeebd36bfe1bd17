"""The transport under faults: buffers that outlive their actor, queues freed while
interpreters go away, and memory that comes back when actors lag behind their tells.

The crashes these tests guard against kill the process, so each scenario runs in a child
interpreter process: a segfault there fails the test instead of ending pytest.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from interactors import _backend as backend

TESTS = Path(__file__).resolve().parent.parent


def run_child(code: str, timeout: float = 120) -> str:
    """Run ``code`` in a fresh Python; fail with its output unless it exits with 0."""
    result = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"child exited with {result.returncode}:\n{output[-4000:]}"
    return result.stdout


PRELUDE = """
import gc, sys
sys.path.insert(0, ".")
import anyio, interactors
from transport_actors import Buffers
MiB = 1024 * 1024
"""


@pytest.mark.parametrize("method", ["view", "pickle_buffer"])
def test_a_view_from_a_stopped_actor_stays_usable_and_dropping_it_is_safe(method: str) -> None:
    out = run_child(
        PRELUDE
        + f"""
async def main():
    kept = []
    async with interactors.ActorSystem() as system:
        for round in range(5):
            ref = await system.spawn(Buffers)
            view = await ref.ask.{method}(4 * MiB)
            small = await ref.ask.{method}(10)
            await ref.stop()
            await anyio.sleep(0.05)  # the interpreter is destroyed in the background
            assert len(view) == 4 * MiB and bytes(view[:3]) in (b"vvv", b"ppp"), bytes(view[:3])
            assert bytes(small) in (b"v" * 10, b"p" * 10)
            del view, small
            gc.collect()
        for _ in range(3):
            ref = await system.spawn(Buffers)
            kept.append(await ref.ask.{method}(1 * MiB))
    # the system (and every interpreter) is gone; the views are still readable
    assert all(len(view) == MiB for view in kept)
    kept.clear()
    gc.collect()
    ref = None
    print("ok")

anyio.run(main)
"""
    )
    assert out.strip().endswith("ok")


def test_views_held_past_the_end_of_the_program_do_not_crash_it() -> None:
    out = run_child(
        PRELUDE
        + """
held = []

async def main():
    async with interactors.ActorSystem() as system:
        ref = await system.spawn(Buffers)
        held.append(await ref.ask.view(2 * MiB))
        held.append(await ref.ask.echo(memoryview(b"h" * MiB)))
    print("ok")

anyio.run(main)
"""
    )
    assert out.strip().endswith("ok")


def test_a_memoryview_echoed_by_an_actor_arrives_intact() -> None:
    out = run_child(
        PRELUDE
        + """
async def main():
    async with interactors.ActorSystem() as system:
        ref = await system.spawn(Buffers)
        data = memoryview(bytes(range(256)) * 4096)
        back = await ref.ask.echo(data)
        assert bytes(back) == bytes(data)
        assert await ref.ask.length(data) == len(data)
        big = b"b" * (3 * MiB)
        assert await ref.ask.echo(big) == big
        text = "t" * (200 * 1024)
        assert await ref.ask.echo(text) == text
    print("ok")

anyio.run(main)
"""
    )
    assert out.strip().endswith("ok")


def test_a_memoryview_handed_back_is_the_callers_own_memory() -> None:
    """An actor that returns the view it was given answers with the caller's own buffer:
    no copy, the same memory (writes show through), safe to hold after the actor's
    interpreter is gone; a slice of it, or a view of its own, still comes back as a copy."""
    out = run_child(
        PRELUDE
        + """
import gc
from interactors._backend import _lending

async def main():
    async with interactors.ActorSystem() as system:
        ref = await system.spawn(Buffers)
        data = bytearray(b"e" * (4 * MiB))
        back = await ref.ask.echo(memoryview(data))
        assert bytes(back[:3]) == b"eee" and len(back) == len(data)
        data[0:3] = b"new"
        assert bytes(back[:3]) == b"new"  # the caller's own memory, not a copy
        assert await ref.ask.length(memoryview(data)) == len(data)
        assert not _lending._lent  # nothing kept once the answers are read
        await ref.stop()
        gc.collect()
    assert bytes(back[:3]) == b"new"  # the actor's interpreter is gone
    del back
    gc.collect()
    print("ok")

anyio.run(main)
"""
    )
    assert out.strip().endswith("ok")


def test_stopping_actors_with_messages_in_flight_while_the_system_shuts_down() -> None:
    """Queues are freed while interpreters are destroyed in the background: replies and
    tells in flight from actors being destroyed must neither crash the process nor raise
    (the old transport hit SystemError / InterpreterNotFoundError here)."""
    out = run_child(
        PRELUDE
        + """
from interactors._backend import _v313  # noqa: F401  (3.13 only: the racy backend)

async def ask_view(ref):
    try:
        await ref.ask.view(70_000)
    except (interactors.ActorStopped, interactors.ActorCrashed):
        pass  # stopped first: that is fine, a crash of the process is not

async def main():
    for round in range(15):
        async with interactors.ActorSystem() as system:
            refs = [await system.spawn(Buffers) for _ in range(4)]
            for i in range(200):
                for ref in refs:
                    ref.tell_nowait.count(i)
            results = [await ref.ask.count(7) for ref in refs]
            assert results == [7, 7, 7, 7]
            async with anyio.create_task_group() as tg:
                for ref in refs[:2]:
                    for i in range(20):
                        tg.start_soon(ask_view, ref)
                    tg.start_soon(ref.stop)
            for ref in refs[2:]:
                for i in range(100):
                    ref.tell_nowait.echo((i, "x", b"y"))
        gc.collect()
    print("ok")

anyio.run(main)
""",
        timeout=300,
    )
    assert out.strip().endswith("ok")


def test_any_shareable_item_crosses_a_queue_not_only_envelopes() -> None:
    """The backend's interface takes None, scalars and tuples of them, large or small."""
    qid = backend.create_queue(0)
    try:
        items = [None, 7, 2.5, "s", b"b", (1, ("x", None)), b"x" * 100_000, "y" * 70_000]
        for item in items:
            backend.put(qid, item)
        assert [backend.get(qid) for _ in items] == items
    finally:
        backend.destroy_queue(qid)


def test_queues_carry_any_shareable_tuple_not_only_envelopes() -> None:
    # What the transport remembers about asks that lend memoryviews must not trip over
    # other items: short tuples (even one starting like an ask), bare views, ints.
    from interactors import _backend as backend

    qid = backend.create_queue(0)
    try:
        view = memoryview(bytearray(b"v" * 100_000))
        items = [(b"data", view), (1, view), (view,), view, (1, 2), (10, 7), ("x",) * 9, 5]
        for item in items:
            backend.put(qid, item)
        got = [backend.get(qid) for _ in items]
        assert [type(g) for g in got] == [type(i) for i in items]
        assert bytes(got[0][1][:3]) == b"vvv"
        assert bytes(got[1][1][-3:]) == b"vvv"
        assert got[4:6] == [(1, 2), (10, 7)]
    finally:
        backend.destroy_queue(qid)
