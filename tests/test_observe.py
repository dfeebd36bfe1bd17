"""Observing a system from inside its process: statistics fields, the control socket, and
the Prometheus exporter scraped over loopback."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
from pathlib import Path

import anyio
import httpx
import msgspec
import pytest
from prometheus_client.parser import text_string_to_metric_families

import interactors
from actors import Counter, Failing, Sleeper
from interactors._host import control
from interactors._host.snapshot import ProcessSnapshot
from interactors._launcher.top import render
from spawning_actors import Boss, Farm

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def runtime_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_RUNTIME_DIR, so that the tests never meet other processes' sockets."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    return tmp_path


async def _snapshot(request: bytes = b'{"op": "snapshot"}\n') -> dict[str, object]:
    def ask() -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(control.control_path()))
            sock.sendall(request)
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                assert chunk, "the server closed the connection"
                data += chunk
            return data

    result: dict[str, object] = json.loads(await anyio.to_thread.run_sync(ask))
    return result


async def test_statistics_show_asks_in_flight_and_the_thread(anyio_backend: str) -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            sleeper = await system.spawn(Sleeper, name="sleeper")
            async with anyio.create_task_group() as tg:
                tg.start_soon(sleeper.ask.sleep, 0.5)
                while sleeper.statistics().asks_in_flight == 0:  # noqa: ASYNC110 (polls)
                    await anyio.sleep(0.01)
                stats = sleeper.statistics()
            assert stats.asks_in_flight == 1
            assert stats.thread_id is not None
            assert stats.thread_id in {int(tid) for tid in os.listdir("/proc/self/task")}
            assert sleeper.statistics().asks_in_flight == 0


async def test_control_socket_serves_snapshots(anyio_backend: str, runtime_dir: Path) -> None:
    path = runtime_dir / "interactors" / f"{os.getpid()}.sock"
    with anyio.fail_after(20):
        async with interactors.ActorSystem(control=True) as system:
            counter = await system.spawn(Counter, name="counter")
            tree = interactors.Supervisor(
                name="app", children=[interactors.ChildSpec(Failing, name="failing")]
            )
            await system.start(tree)
            for _ in range(7):
                await counter.ask.add(1)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_ISSOCK(path.stat().st_mode)
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            snapshot = await _snapshot()
        assert not path.exists()  # removed at shutdown
    assert snapshot["pid"] == os.getpid()
    assert isinstance(snapshot["rss_bytes"], int)
    assert snapshot["rss_bytes"] > 0
    [system_snapshot] = snapshot["systems"]  # type: ignore[misc]
    rows = {row["name"]: row for row in system_snapshot["actors"]}
    assert set(rows) == {"counter", "failing"}
    assert rows["counter"]["messages_handled"] == 7
    assert rows["counter"]["state"] == "running"
    assert rows["counter"]["cpu_seconds"] >= 0
    assert rows["counter"]["thread_id"] > 0
    assert system_snapshot["tree"] == [
        {
            "name": "root",
            "kind": "supervisor",
            "strategy": "one_for_one",
            "children": [{"name": "counter", "kind": "actor", "restart": "permanent"}],
        },
        {
            "name": "app",
            "kind": "supervisor",
            "strategy": "one_for_one",
            "children": [{"name": "failing", "kind": "actor", "restart": "permanent"}],
        },
    ]


async def test_snapshots_say_which_actor_started_an_actor_or_a_pool(anyio_backend: str) -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem(control=True) as system:
            boss = await system.spawn(Boss, name="boss")
            await boss.ask.hire(7, name="hired")
            await system.spawn(Farm, name="farm")
            snapshot = await _snapshot()
            top = render(msgspec.convert(snapshot, ProcessSnapshot), None, live=False)
    [system_snapshot] = snapshot["systems"]  # type: ignore[misc]
    rows = {row["name"]: row for row in system_snapshot["actors"]}
    workers = sorted(name for name in rows if name.startswith("Worker"))
    assert len(workers) == 2  # Boss's on_start's, besides "hired" and the pool's members
    assert {name: rows[name]["started_by"] for name in [*workers, "hired"]} == dict.fromkeys(
        [*workers, "hired"], "boss"
    )
    assert rows["boss"]["started_by"] is None
    tops = {node["name"]: node for node in system_snapshot["tree"]}
    by_name = {node["name"]: node for node in tops["root"]["children"]}
    assert by_name["hired"]["started_by"] == "boss"
    assert "started_by" not in by_name["boss"]  # (omitted when none)
    assert tops["farm-pool"]["kind"] == "supervisor"  # a pool is a tree of its own
    assert tops["farm-pool"]["started_by"] == "farm"
    # interactors top and stats show it in the tree.
    screen = _text(top)
    assert "hired running [permanent, started by boss]" in screen
    assert "farm-pool (one_for_one, started by farm)" in screen


def _text(renderable: object) -> str:
    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


async def test_control_socket_answers_bad_requests(anyio_backend: str) -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem(control=True):
            reply = await _snapshot(b'{"op": "reboot"}\n')
            assert "unknown request" in str(reply["error"])
            reply = await _snapshot(b"not json\n")
            assert "error" in reply


async def test_control_is_off_by_default(anyio_backend: str, runtime_dir: Path) -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            await system.spawn(Counter)
            assert not (runtime_dir / "interactors").exists()


async def test_control_refuses_a_directory_others_can_enter(
    anyio_backend: str, runtime_dir: Path
) -> None:
    (runtime_dir / "interactors").mkdir(mode=0o755)
    os.chmod(runtime_dir / "interactors", 0o755)
    with anyio.fail_after(20), pytest.raises(PermissionError, match="not a private directory"):
        async with interactors.ActorSystem(control=True):
            pass


def _samples(text: str) -> dict[tuple[str, str], float]:
    """``(sample name, actor label) -> value`` of a scrape."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if "actor" in sample.labels and "le" not in sample.labels:
                found[sample.name, sample.labels["actor"]] = sample.value
    return found


async def test_metrics_scraped_over_loopback(anyio_backend: str) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem(metrics_port=0) as system:
            assert system.metrics_port
            counter = await system.spawn(Counter, name="counter")
            tree = interactors.Supervisor(
                name="app", children=[interactors.ChildSpec(Failing, name="failing")]
            )
            failing = (await system.start(tree)).child("failing")
            for _ in range(12):
                await counter.ask.add(1)
            with pytest.raises(interactors.ActorError):
                await failing.ask.fail("on purpose")
            await counter.tell.add(1)
            await counter.ask.get()
            url = f"http://127.0.0.1:{system.metrics_port}/metrics"
            async with httpx.AsyncClient() as client:
                response = await client.get(url)
                openmetrics = await client.get(
                    url, headers={"Accept": "application/openmetrics-text; version=1.0.0"}
                )
                missing = await client.get(f"http://127.0.0.1:{system.metrics_port}/nope")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples["interactors_messages_total", "counter"] == 14
    assert samples["interactors_messages_total", "failing"] == 1
    assert samples["interactors_errors_total", "failing"] == 1
    assert samples["interactors_errors_total", "counter"] == 0
    assert samples["interactors_restarts_total", "counter"] == 0
    assert samples["interactors_mailbox_depth", "counter"] == 0
    assert samples["interactors_asks_in_flight", "counter"] == 0
    assert samples["interactors_actor_up", "counter"] == 1
    assert samples["interactors_ask_latency_seconds_count", "counter"] == 13  # not the tell
    assert samples["interactors_ask_latency_seconds_count", "failing"] == 1
    assert 0 < samples["interactors_ask_latency_seconds_sum", "counter"] < 13
    assert 'interactors_messages_total{actor="counter",system="' in response.text
    assert "process_resident_memory_bytes" in response.text
    assert 'interactors_ask_latency_seconds_bucket{actor="counter",le="+Inf"' in response.text
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")
    assert missing.status_code == 404


async def test_ask_path_is_untouched_without_metrics(anyio_backend: str) -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as plain:
            ref = await plain.spawn(Counter)
            assert "ask" not in vars(ref._cell)  # the class's own method, not a wrapper
        async with interactors.ActorSystem(metrics_port=0) as measured:
            ref = await measured.spawn(Counter)
            assert "ask" in vars(ref._cell)


async def test_metrics_port_in_use_fails_cleanly(anyio_backend: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with anyio.fail_after(20), pytest.raises(OSError, match="choose another port"):
            async with interactors.ActorSystem(metrics_port=port, control=True):
                pass
    assert not control.control_path().exists()


async def test_control_removes_sockets_of_dead_processes(
    anyio_backend: str, runtime_dir: Path
) -> None:
    import sys

    directory = runtime_dir / "interactors"
    directory.mkdir(mode=0o700)
    with anyio.fail_after(20):
        gone = await anyio.run_process([sys.executable, "-c", "import os; print(os.getpid())"])
        dead = directory / f"{int(gone.stdout)}.sock"  # a process killed before removing it
        live = directory / f"{os.getppid()}.sock"  # a live process's: left alone
        for path in (dead, live):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.bind(str(path))
        async with interactors.ActorSystem(control=True):
            assert not dead.exists()
            assert live.exists()
    live.unlink()
