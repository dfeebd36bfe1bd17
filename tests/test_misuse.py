"""Using the host API the wrong way: each misuse is refused with an error that says what
happened and what to do, and leaves the system untouched."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

import interactors
from actors import Counter, Forwarder, Greeter
from interactors import ChildSpec

pytestmark = pytest.mark.anyio

APPS = Path(__file__).parent / "apps"


def in_thread(call: Callable[[], Any]) -> BaseException | None:
    """Run ``call`` in a new thread; the exception it raised, if any."""
    caught: list[BaseException] = []

    def target() -> None:
        try:
            call()
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(10)
    return caught[0] if caught else None


async def test_calls_from_another_thread_are_refused_and_the_host_is_untouched() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(Counter, 1)
            attempts: dict[str, Callable[[], Any]] = {
                "spawn": lambda: asyncio.run(system.spawn(Counter)),
                "ask.add": lambda: asyncio.run(counter.ask.add(1)),
                "tell.add": lambda: asyncio.run(counter.tell.add(1)),
                "tell_nowait.add": lambda: counter.tell_nowait.add(1),
                "stop": lambda: asyncio.run(counter.stop()),
                "start": lambda: asyncio.run(system.start(interactors.Supervisor())),
            }
            for what, attempt in attempts.items():
                error = in_thread(attempt)
                assert isinstance(error, RuntimeError), (what, error)
                assert f"{what}() was called from another thread" in str(error)
                assert "anyio.from_thread.run" in str(error)
            # Read-only calls work from anywhere.
            assert in_thread(lambda: system.lookup(counter.name)) is None
            assert in_thread(counter.statistics) is None
            # Nothing was sent, and the host's block was not cancelled.
            assert await counter.ask.get() == 1
            assert len(system.actors()) == 1


async def test_statistics_after_the_system_closed_are_the_last_known() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(Counter)
            await counter.ask.add(2)
            await counter.ask.add(3)
        statistics = counter.statistics()
    assert statistics.state == "stopped"
    assert statistics.messages_handled >= 2
    assert not counter.is_alive()


async def test_asking_a_stopped_peer_raises_actor_stopped_naming_it() -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            target = await system.spawn(Counter, name="target")
            forwarder = await system.spawn(Forwarder, target)
            assert await forwarder.ask.forward_add(1) == 1
            await target.stop()
            with pytest.raises(interactors.ActorError) as caught:
                await forwarder.ask.forward_add(1)
    assert caught.value.type_name.endswith("ActorStopped")
    assert "'target'" in caught.value.remote_message
    assert "not found" not in caught.value.remote_message


def test_blocking_refs_after_the_block_raise_system_closed() -> None:
    with interactors.BlockingActorSystem() as system:
        counter = system.spawn(Counter)
        assert counter.ask.add(1).result(10) == 1
    with pytest.raises(interactors.SystemClosed, match="not running"):
        counter.ask.add(1)
    with pytest.raises(interactors.SystemClosed, match="not running"):
        counter.tell_nowait.add(1)
    assert counter.statistics().messages_handled == 1


async def test_blocking_actor_system_inside_an_event_loop_is_refused() -> None:
    system = interactors.BlockingActorSystem()
    with pytest.raises(RuntimeError, match=r"inside a running \w+ event loop, which it would"):
        system.__enter__()


def test_script_without_main_guard_gets_one_sentence(tmp_path: Path) -> None:
    script = tmp_path / "first_script.py"
    script.write_text(
        "import interactors\n\n"
        "class Greeter(interactors.Actor):\n"
        "    def hello(self) -> str:\n"
        "        return 'hello'\n\n"
        "async def main(system):\n"
        "    greeter = await system.spawn(Greeter)\n"
        "    print(await greeter.ask.hello())\n\n"
        "interactors.run(main)\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("interactors.SpawnError: cannot start actor 'Greeter-1': ")
    assert "add `if __name__ == '__main__':`" in last or "under `if __name__ ==" in last
    assert "__mp_main__" not in result.stderr.replace("imported the main script", "")
    assert result.stderr.count("SpawnError") == 1


_OUT_OF_FDS = """
import os, resource, sys
import anyio
import interactors

class Echo:
    def ping(self) -> str:
        return "pong"

async def main() -> None:
    async with interactors.ActorSystem() as system:
        first = await system.spawn(Echo, name="first")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        for spare in range(6):  # each margin runs out at a different step of a spawn
            used = len(os.listdir("/proc/self/fd"))
            resource.setrlimit(resource.RLIMIT_NOFILE, (used + spare, hard))
            try:
                await system.spawn(Echo)
                print("spawned")
            except interactors.SpawnError as exc:
                print("refused:", str(exc).splitlines()[0])
            finally:
                resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        print("first:", await first.ask.ping())
        print("after:", await (await system.spawn(Echo)).ask.ping())

if __name__ == "__main__":
    anyio.run(main)
"""


def test_running_out_of_file_descriptors_refuses_the_spawn_and_nothing_else(
    tmp_path: Path,
) -> None:
    script = tmp_path / "out_of_fds.py"
    script.write_text(_OUT_OF_FDS)
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    refused = [line for line in lines if line.startswith("refused:")]
    assert refused, result.stdout  # a limit at the fds in use cannot let a spawn through
    for line in refused:
        assert "Too many open files" in line, line
        assert "ulimit -n" in line, line
    assert lines[-2:] == ["first: pong", "after: pong"]
    # CPython itself reports the failed interpreter's path setup ("Exception ignored in
    # running getpath"); nothing else may escape, from no thread.
    escaped = result.stderr.replace("ignored in running getpath:\nTraceback", "")
    assert "Traceback" not in escaped
    assert "Exception in thread" not in escaped


async def test_spawning_a_function_by_path_says_it_is_not_a_class() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            with pytest.raises(interactors.SpawnError, match="is a function, not a class"):
                await system.spawn("worker_fault_actors:not_an_actor_class")
            assert await (await system.spawn(Counter)).ask.get() == 0  # the system goes on


async def test_an_init_argument_named_like_a_spawn_option_is_explained() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            with pytest.raises(interactors.SpawnError) as caught:
                await system.spawn(Greeter, name="bob")  # the actor's name, not __init__'s
            assert "missing 1 required positional argument: 'name'" in str(caught.value)
            assert "'name' is a keyword of spawn() and ChildSpec()" in str(caught.value)
            assert "Pass the value positionally (spawn(Class, value))" in str(caught.value)
            greeter = await system.spawn(Greeter, "bob", name="greeter")
            assert (greeter.name, await greeter.ask.hello()) == ("greeter", "hello, bob")


async def test_a_supervisor_sent_to_an_actor_is_refused_with_what_to_send() -> None:
    from interactors import DynamicSupervisor

    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(DynamicSupervisor(child=ChildSpec(Counter), name="dyn"))
            with pytest.raises(interactors.EncodeError, match=r"supervisor 'dyn' cannot be sen"):
                await system.spawn(Forwarder, sup)
            assert system.actors() == []  # nothing left behind
            pool = await system.spawn_pool(Counter, size=2, name="counters")
            forwarder = await system.spawn(Forwarder, pool)  # a pool travels (a PeerPool)
            assert [await forwarder.ask.forward_add(2) for _ in range(4)] == [2, 2, 4, 4]


async def test_a_method_named_like_a_reserved_attribute_is_refused() -> None:
    from worker_fault_actors import NamedMethod

    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            with pytest.raises(TypeError, match=r"NamedMethod\.name is a method.*rename"):
                await system.spawn(NamedMethod)
