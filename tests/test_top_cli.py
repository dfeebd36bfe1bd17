"""``interactors stats``, ``interactors top`` and ``--metrics-port`` against a real
``interactors run`` process; ``top`` is driven in a real terminal through tmux."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from interactors._launcher.cli import build_parser

APPS = Path(__file__).parent / "apps"
ROOT = Path(__file__).parent.parent
TIMEOUT = 45.0


@pytest.fixture
def runtime_dir(tmp_path: Path) -> Path:
    """A private XDG_RUNTIME_DIR for the app and the commands that look at it."""
    path = tmp_path / "run"
    path.mkdir(mode=0o700)
    return path


def _env(runtime_dir: Path) -> dict[str, str]:
    return {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), "COLUMNS": "100"}


@pytest.fixture
def app(request: pytest.FixtureRequest, runtime_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """``interactors run [options] observe_app:steady`` (or as parametrized), once ready."""
    *options, name = getattr(request, "param", ("observe_app:steady",))
    process = subprocess.Popen(
        [sys.executable, "-m", "interactors", "run", "--app-dir", str(APPS), *options, name],
        cwd=ROOT,
        env=_env(runtime_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "ready", or "" if it died
        if line.strip() != "ready":
            process.kill()
            pytest.fail(f"the app did not start: {line!r} {process.communicate()[1]}")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def interactors(runtime_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interactors", *args],
        cwd=ROOT,
        env=_env(runtime_dir),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_stats_json_of_a_running_app(app: subprocess.Popen[str], runtime_dir: Path) -> None:
    socket_path = runtime_dir / "interactors" / f"{app.pid}.sock"
    mode = socket_path.stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(socket_path.parent.stat().st_mode) == 0o700

    done = interactors(runtime_dir, "stats", "--json", str(app.pid))
    assert done.returncode == 0, done.stderr
    snapshot = json.loads(done.stdout)
    assert snapshot["pid"] == app.pid
    [system] = snapshot["systems"]
    rows = {row["name"]: row for row in system["actors"]}
    assert set(rows) == {"counter", "flaky", "store-a", "store-b", "loose"}
    assert rows["counter"]["messages_handled"] == 25
    assert rows["flaky"]["errors"] == 1
    assert rows["flaky"]["restarts"] == 1
    assert all(row["state"] == "running" for row in rows.values())
    assert all(row["cpu_seconds"] is not None for row in rows.values())
    app_tree = next(node for node in system["tree"] if node["name"] == "app")
    storage = app_tree["children"][2]
    assert [child["name"] for child in app_tree["children"]] == ["counter", "flaky", "storage"]
    assert storage["strategy"] == "rest_for_one"
    assert [(c["name"], c["restart"]) for c in storage["children"]] == [
        ("store-a", "permanent"),
        ("store-b", "transient"),
    ]

    # Without PID: the only app of this user. As tables: the same rows.
    table = interactors(runtime_dir, "stats")
    assert table.returncode == 0, table.stderr
    assert "store-b" in table.stdout
    assert "storage (rest_for_one)" in table.stdout

    app.send_signal(signal.SIGTERM)
    assert app.wait(TIMEOUT) == 0
    assert not socket_path.exists()  # removed at exit
    gone = interactors(runtime_dir, "stats", "--json", str(app.pid))
    assert gone.returncode == 2
    assert "has no control socket" in gone.stderr


def test_stats_without_any_app(runtime_dir: Path) -> None:
    done = interactors(runtime_dir, "stats", "--json")
    assert done.returncode == 2
    assert "no running interactors app of this user found" in done.stderr


def test_top_without_rich_says_what_to_install(runtime_dir: Path) -> None:
    code = (
        "import sys; sys.modules['rich'] = None\n"
        "from interactors._launcher.cli import main\n"
        "sys.exit(main(['top', '12345']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(runtime_dir),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 2
    assert "pip install 'interactors[top]'" in done.stderr


def test_top_without_a_terminal_says_to_use_stats(runtime_dir: Path) -> None:
    done = interactors(runtime_dir, "top")  # output captured: not a terminal
    assert done.returncode == 2
    assert "needs a terminal" in done.stderr
    assert "interactors stats" in done.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


PORT = _free_port()


@pytest.mark.parametrize(
    "app", [("--backend", "trio", "--metrics-port", str(PORT), "observe_app:steady")], indirect=True
)
def test_metrics_port_of_a_running_app(app: subprocess.Popen[str]) -> None:
    response = httpx.get(f"http://127.0.0.1:{PORT}/metrics", timeout=10)
    assert response.status_code == 200
    values = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.labels.get("actor") and "le" not in sample.labels:
                values[sample.name, sample.labels["actor"]] = sample.value
    assert values["interactors_messages_total", "counter"] == 25
    assert values["interactors_errors_total", "flaky"] == 1
    assert values["interactors_restarts_total", "flaky"] == 1
    assert values["interactors_restarts_total", "counter"] == 0
    assert values["interactors_actor_up", "store-b"] == 1
    assert values["interactors_mailbox_depth", "loose"] == 0
    assert values["interactors_ask_latency_seconds_count", "counter"] == 25
    # Loopback only, unless told otherwise.
    with socket.socket() as probe:
        probe.settimeout(2)
        outside = _outside_address()
        if outside is not None:
            assert probe.connect_ex((outside, PORT)) != 0


def _outside_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


# -- top, in a real terminal ------------------------------------------------------------

TMUX = shutil.which("tmux")


class Tmux:
    """A tmux server of our own (``-L``), so that the test never touches anyone's sessions."""

    def __init__(self, name: str) -> None:
        self.base = [str(TMUX), "-L", name]

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [*self.base, *args], capture_output=True, text=True, timeout=10, check=True
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "top")

    def wait_for(self, *texts: str, timeout: float = TIMEOUT) -> str:
        return self.wait_until(lambda screen: all(text in screen for text in texts), timeout)

    def wait_until(self, shows: Callable[[str], bool], timeout: float = TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if shows(screen):
                return screen
            time.sleep(0.1)
        pytest.fail(f"the screen never showed what was expected:\n{screen}")


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("app", [("observe_app:busy",)], indirect=True)
def test_top_in_a_terminal(app: subprocess.Popen[str], runtime_dir: Path) -> None:
    tmux = Tmux(f"interactors-test-{os.getpid()}")
    env = _env(runtime_dir)
    command = f"{sys.executable} -m interactors top {app.pid}; echo top-exited-$?; sleep {TIMEOUT}"
    tmux(
        "new-session", "-d", "-s", "top", "-x", "100", "-y", "30",
        "-e", f"XDG_RUNTIME_DIR={env['XDG_RUNTIME_DIR']}",
        "-e", f"PYTHONPATH={env['PYTHONPATH']}",
        "-c", str(ROOT),
        command,
    )  # fmt: skip
    try:
        screen = tmux.wait_for("interactors top", "store-b", "storage (rest_for_one)")
        # The second frame has rates: the busy actors handle messages every second.
        screen = tmux.wait_until(lambda screen: _row(screen, "counter")[4][0].isdigit())
        lines = screen.splitlines()
        header = next(line for line in lines if line.lstrip().startswith("ACTOR"))
        assert header.split() == [
            "ACTOR", "STATE", "ISOLATION", "MAILBOX", "MSG/S", "ASKS", "ERRORS", "RESTARTS",
            "CPU", "%",
        ]  # fmt: skip
        counter, flaky = _row(screen, "counter"), _row(screen, "flaky")
        assert counter[1:3] == ["running", "isolated"]
        assert int(counter[4].replace(",", "")) > 0  # messages per second
        assert counter[8].endswith("%")
        assert flaky[6:8] == ["1", "1"]  # errors, restarts
        assert "├── flaky running [permanent, 1 restart]" in screen
        assert "└── storage (rest_for_one)" in screen
        assert "    └── store-b running [transient]" in screen
        print(screen)  # shown with -s: the screen the docs quote
        tmux("send-keys", "-t", "top", "q")
        tmux.wait_for("top-exited-0", timeout=10)
    finally:
        subprocess.run([*tmux.base, "kill-server"], capture_output=True, timeout=10, check=False)


def _row(screen: str, actor: str) -> list[str]:
    """The table row of ``actor`` on a ``top`` screen, split into cells."""
    for line in screen.splitlines():
        cells = line.split()
        if cells and cells[0] == actor:
            return cells
    return ["", "", "", "", "-"]


# -- docs/operations.md is real ------------------------------------------------------------

OPERATIONS = ROOT / "docs" / "operations.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_operations_doc_blocks_are_real() -> None:
    blocks = FENCE.findall(OPERATIONS.read_text())
    assert {kind for kind, _ in blocks} == {"console", "python", "text"}
    source = (APPS / "observe_app.py").read_text()
    parser = build_parser()
    for kind, code in blocks:
        if kind == "python":
            assert code in source, code
        elif kind == "console":
            for line in code.splitlines():
                words = shlex.split(line.partition("#")[0])
                assert words[0] == "interactors", line
                parser.parse_args(words[1:])


def test_embedded_system_serves_control_and_metrics(runtime_dir: Path) -> None:
    done = interactors(runtime_dir, "run", "--app-dir", str(APPS), "observe_app:embedded")
    assert done.returncode == 0, done.stderr
    assert re.search(r"pid \d+, metrics on port [1-9]\d*", done.stdout), done.stdout
    assert list((runtime_dir / "interactors").iterdir()) == []  # the socket was removed
