"""Actors embedded in services: the ASGI example under a real uvicorn, the trio TCP server
over loopback, and BlockingActorSystem for synchronous code."""

from __future__ import annotations

import concurrent.futures
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn

import interactors
from interactors import BlockingActorRef, BlockingActorSystem, SystemClosed

ROOT = Path(__file__).parent.parent
if str(ROOT) not in sys.path:
    # The examples package; actors' interpreters copy sys.path, so they find it too.
    sys.path.insert(0, str(ROOT))

from examples import asgi_app, trio_server  # noqa: E402
from examples.primes import count_primes  # noqa: E402

TIMEOUT = 30.0


# -- ASGI under uvicorn ---------------------------------------------------------------------


@pytest.fixture
def asgi_server() -> Iterator[str]:
    """The ASGI example served by uvicorn on 127.0.0.1 (ephemeral port) in a thread."""
    config = uvicorn.Config(asgi_app.app, host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn")
    thread.start()
    try:
        for _ in range(int(TIMEOUT / 0.02)):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(TIMEOUT)
    assert not thread.is_alive(), "uvicorn did not shut down"


@pytest.mark.anyio
async def test_asgi_requests_run_on_actors_in_parallel(asgi_server: str) -> None:
    limits = [100_000 + 10_000 * i for i in range(6)]
    answers: dict[int, dict[str, object]] = {}
    with anyio.fail_after(TIMEOUT):
        async with httpx.AsyncClient(base_url=asgi_server) as client:

            async def ask(below: int) -> None:
                response = await client.get("/primes", params={"below": below})
                assert response.status_code == 200
                answers[below] = response.json()

            async with anyio.create_task_group() as tg:
                for below in limits:
                    tg.start_soon(ask, below)
            stats = (await client.get("/stats")).json()
            bad = await client.get("/primes", params={"below": "many"})
            too_big = await client.get("/primes", params={"below": 10**9})
    for below in limits:
        assert answers[below]["primes"] == count_primes(below)
    # Spread over every actor, and every request counted by the actor that answered it.
    assert len(stats) >= 2
    assert {answer["actor"] for answer in answers.values()} == set(stats)
    assert sum(stats.values()) == len(limits)
    assert bad.status_code == 400
    assert bad.json() == {"error": "below must be an integer"}
    assert too_big.status_code == 400


# -- the trio TCP server -------------------------------------------------------------------


async def _request(port: int, line: bytes) -> bytes:
    import trio

    async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
        await stream.send_all(line)
        reply = b""
        while not reply.endswith(b"\n"):
            data = await stream.receive_some()
            if not data:
                break
            reply += data
    return reply


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_trio_server_over_loopback(anyio_backend: str) -> None:
    import trio

    limits = [50_000, 120_000, 180_000, 240_000]
    replies: dict[int, bytes] = {}
    with anyio.fail_after(TIMEOUT):
        async with interactors.ActorSystem() as system, trio.open_nursery() as nursery:
            listeners = await nursery.start(trio_server.serve, system, 0)
            port = listeners[0].socket.getsockname()[1]

            async def ask(below: int) -> None:
                replies[below] = await _request(port, b"primes %d\n" % below)

            async with trio.open_nursery() as clients:
                for below in limits:
                    clients.start_soon(ask, below)
            error = await _request(port, b"factor 12\n")
            handled = {a.name: a.messages_handled for a in system.statistics().actors}
            nursery.cancel_scope.cancel()
    assert replies == {below: b"%d\n" % count_primes(below) for below in limits}
    assert error.startswith(b"error: send 'primes N'")
    assert sum(handled.values()) == len(limits)
    assert all(count > 0 for count in handled.values())


def test_trio_server_through_the_launcher() -> None:
    command = [sys.executable, "-m", "interactors", "run", "--backend", "trio"]
    command.append("examples.trio_server:main")
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, "PORT": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], TIMEOUT)
        line = process.stdout.readline() if ready else ""
        if not line.startswith("serving on 127.0.0.1:"):
            process.kill()
            pytest.fail(f"no 'serving on' line: {line!r} {process.communicate(timeout=TIMEOUT)}")
        port = int(line.split()[2].split(":")[1].rstrip(";"))
        reply = anyio.run(_request, port, b"primes 1000\n", backend="trio")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=TIMEOUT)
    assert reply == b"168\n"
    assert process.returncode == 0, err
    assert "all actors stopped" in err


# -- synchronous code ----------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_blocking_actor_system(backend: str) -> None:
    from actors import Counter, Failing, Forwarder

    with BlockingActorSystem(backend=backend) as system:
        counter = system.spawn(Counter, 10, name="counter")
        assert isinstance(counter, BlockingActorRef)
        future = counter.ask.add(5)
        assert isinstance(future, concurrent.futures.Future)
        assert future.result(timeout=TIMEOUT) == 15
        assert counter.tell.add(1) is None
        counter.tell_nowait.add(1)
        assert counter.ask.get().result(timeout=TIMEOUT) == 17
        # Futures from many asks, answered while this thread does other things.
        futures = [counter.ask.add(1) for _ in range(100)]
        assert [f.result(timeout=TIMEOUT) for f in futures] == list(range(18, 118))
        # A blocking ref travels to other actors like an ActorRef.
        forwarder = system.spawn(Forwarder, counter)
        assert forwarder.ask.forward_add(3).result(timeout=TIMEOUT) == 120
        failing = system.spawn(Failing)
        with pytest.raises(interactors.ActorError, match="no luck"):
            failing.ask.fail("no luck").result(timeout=TIMEOUT)
        with pytest.raises(interactors.UnknownMethodError):
            _ = counter.ask.no_such_method
        assert system.lookup("counter") == counter
        assert system.actors()[0].name == "counter"
        assert counter.statistics().messages_handled >= 100
        counter.stop()
        assert not counter.is_alive()
        assert system.lookup("counter") is None
        with pytest.raises(interactors.SpawnError):
            system.spawn("actors:NoSuchActor")


def test_blocking_actor_system_lets_errors_through_and_stops() -> None:
    from actors import Counter

    systems: list[BlockingActorSystem] = []

    def fail_inside() -> None:
        with BlockingActorSystem() as system:
            systems.append(system)
            system.spawn(Counter)
            raise KeyError("raised in the block")

    with pytest.raises(KeyError, match="raised in the block"):
        fail_inside()
    with pytest.raises(SystemClosed, match="use it as `with BlockingActorSystem"):
        systems[0].spawn(Counter)


def test_blocking_client_example() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.blocking_client"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "primes below 200,000: 17,984" in result.stdout
