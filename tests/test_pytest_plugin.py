"""The pytest plugin (interactors.pytest_plugin) as a user's test suite sees it: its fixtures
here, in this suite (which runs under the plugin's leak check), and in pytest runs of small
test files in a temporary directory."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import anyio
import pytest

import interactors
from actors import Counter, SyncCounter
from interactors import ChildSpec, Supervisor
from interactors.pytest_plugin import ActorFaults

ROOT = Path(__file__).resolve().parent.parent


# -- the fixtures, used by this suite ------------------------------------------------------


@pytest.mark.anyio
async def test_actor_system_fixture_is_an_entered_system(
    actor_system: interactors.ActorSystem,
) -> None:
    with anyio.fail_after(20):
        counter = await actor_system.spawn(Counter, 1)
        assert await counter.ask.add(2) == 3
        assert actor_system.actors() == [counter]


@pytest.mark.anyio
async def test_actor_faults_fixture_injects_real_faults(
    actor_system: interactors.ActorSystem, actor_faults: ActorFaults
) -> None:
    with anyio.fail_after(20):
        root = await actor_system.start(
            Supervisor(children=[ChildSpec(SyncCounter, name="counter", on_error="restart")])
        )
        counter = root.child("counter")
        await counter.ask.add(5)
        error = await actor_faults.crash(counter)
        assert isinstance(error, interactors.ActorCrashed)
        await actor_faults.wait_restarts(counter, 1)
        assert await counter.ask.get() == 0  # a fresh instance
        await actor_faults.fail_next_start(counter, times=1)
        await actor_faults.exit_actor(counter, code=3)
        await actor_faults.wait_restarts(counter, 2)  # after a failed first try
        assert await counter.ask.add(1) == 1
        await actor_faults.hang(counter, seconds=0.2)
        assert await counter.ask.add(1) == 2  # answered once the hang is over


class TestOptions:
    @pytest.fixture
    def actor_system_options(self) -> dict[str, object]:
        return {"mailbox_size": 2}

    @pytest.mark.anyio
    async def test_actor_system_options_reach_the_system(
        self, actor_system: interactors.ActorSystem
    ) -> None:
        assert actor_system.mailbox_size == 2


# -- the plugin in a user's own pytest run -------------------------------------------------


def plugin_options() -> list[str]:
    """Load the plugin explicitly unless its entry point is installed (an install of the
    project from before the plugin): both at once would register it twice."""
    if entry_points(group="pytest11", name="interactors"):
        return []
    return ["-p", "interactors.pytest_plugin"]


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_options(), *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def outcomes(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    last = result.stdout.strip().splitlines()[-1]
    return {word: int(count) for count, word in re.findall(r"(\d+) (\w+)", last)}


LEAKY_TESTS = """
import threading

import pytest

stop = threading.Event()


def test_leaves_a_thread_running():
    threading.Thread(target=stop.wait, name="forgotten", daemon=True).start()


@pytest.mark.interactors_leak_check
def test_leaves_a_thread_running_under_the_marker():
    threading.Thread(target=stop.wait, name="forgotten-2", daemon=True).start()


@pytest.mark.interactors_allow_leaks
def test_allowed_to_leak():
    threading.Thread(target=stop.wait, name="allowed", daemon=True).start()
"""


def test_the_leak_check_is_off_unless_asked_for(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY_TESTS)
    result = run_pytest(tmp_path)
    assert outcomes(result) == {"passed": 3, "error": 1}, result.stdout
    assert "test leaked threads ['forgotten-2']" in result.stdout


def test_the_ini_option_turns_the_leak_check_on(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY_TESTS)
    (tmp_path / "pytest.ini").write_text("[pytest]\ninteractors_leak_check = true\n")
    result = run_pytest(tmp_path, "--strict-config", "--strict-markers")
    assert outcomes(result) == {"passed": 3, "errors": 2}, result.stdout
    assert "test leaked threads ['forgotten']" in result.stdout


def test_the_leak_check_finds_a_leaked_interpreter(tmp_path: Path) -> None:
    (tmp_path / "test_interpreter.py").write_text(
        "import _interpreters, pytest\n\n"
        "@pytest.mark.interactors_leak_check\n"
        "def test_creates_an_interpreter():\n"
        "    _interpreters.create()\n"
    )
    result = run_pytest(tmp_path)
    assert outcomes(result) == {"passed": 1, "error": 1}, result.stdout
    assert "test leaked interpreters [" in result.stdout


def test_a_users_suite_on_both_backends(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(
        "import pytest\n"
        "from actors import Counter\n\n"
        "pytestmark = [pytest.mark.anyio, pytest.mark.interactors_leak_check]\n\n"
        "@pytest.fixture(params=['asyncio', 'trio'])\n"
        "def anyio_backend(request):\n"
        "    return request.param\n\n"
        "async def test_counter(actor_system, anyio_backend):\n"
        "    counter = await actor_system.spawn(Counter, 1)\n"
        "    assert await counter.ask.add(1) == 2\n"
    )
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tests')!r})\n"
    )
    result = run_pytest(tmp_path, "-W", "error", "-vv")
    assert outcomes(result) == {"passed": 2}, result.stdout + result.stderr
    assert "test_counter[asyncio] PASSED" in result.stdout
    assert "test_counter[trio] PASSED" in result.stdout


def test_a_root_giving_up_in_the_fixtures_system_fails_the_test(tmp_path: Path) -> None:
    # The fixture's system cannot cancel the test body: the asks fail saying why, the
    # teardown raises SupervisorGaveUp, and the run ends (it used to hang, bare-cancelled).
    (tmp_path / "test_gives_up.py").write_text(
        "import anyio, pytest\n"
        "from actors import SyncCounter\n"
        "from interactors import ChildSpec, Supervisor\n\n"
        "pytestmark = pytest.mark.anyio\n\n"
        "@pytest.fixture(params=['asyncio', 'trio'])\n"
        "def anyio_backend(request):\n"
        "    return request.param\n\n"
        "async def test_gives_up(actor_system, actor_faults, anyio_backend):\n"
        "    spec = Supervisor(max_restarts=0, children=[\n"
        "        ChildSpec(SyncCounter, name='c', on_error='restart')])\n"
        "    root = await actor_system.start(spec)\n"
        "    await actor_faults.crash(root.child('c'))\n"
        "    await anyio.sleep(0.3)\n"
    )
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tests')!r})\n"
    )
    result = run_pytest(tmp_path)
    assert outcomes(result) == {"passed": 2, "errors": 2}, result.stdout + result.stderr
    assert "SupervisorGaveUp" in result.stdout
    assert "CancelledError" not in result.stdout + result.stderr


def test_a_timeout_while_an_actor_works_fails_the_test_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    # pytest-timeout's own stack dump (sys._current_frames) aborts or segfaults the process
    # on CPython 3.13 while an actor's interpreter runs: the whole run was lost, with
    # "Fatal Python error" and no report. The plugin dumps the host's stacks instead.
    (tmp_path / "test_slow.py").write_text(
        "import time\n"
        "import pytest\n"
        "import interactors\n"
        "from actors import Sleeper\n\n"
        "@pytest.mark.timeout(2)\n"
        "def test_times_out_while_an_actor_works():\n"
        "    with interactors.BlockingActorSystem() as system:\n"
        "        sleeper = system.spawn(Sleeper)\n"
        "        sleeper.tell.sleep(1.5)\n"
        "        time.sleep(30)\n\n"
        "def test_after_it():\n"
        "    pass\n\n"
        "@pytest.fixture(params=['asyncio', 'trio'])\n"
        "def anyio_backend(request):\n"
        "    return request.param\n\n"
        "@pytest.mark.anyio\n"
        "@pytest.mark.timeout(2)\n"
        "async def test_times_out_in_an_ask(actor_system, anyio_backend):\n"
        "    sleeper = await actor_system.spawn(Sleeper)\n"
        "    await sleeper.ask.sleep(3)\n"
    )
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tests')!r})\n"
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert outcomes(result) == {"failed": 3, "passed": 1}, result.stdout + result.stderr
    assert "Failed: Timeout" in result.stdout
    assert "Stacks of the host's threads (from faulthandler)" in result.stdout
    assert "in test_times_out_while_an_actor_works" in result.stdout
    # An async test's thread stack shows only the loop polling; its tasks say where they
    # wait: here, in the ask (on each backend).
    assert result.stdout.count("Where the event loop's tasks wait") == 2, result.stdout
    assert result.stdout.count(", in test_times_out_in_an_ask") == 2, result.stdout
    assert "Fatal Python error" not in result.stdout + result.stderr


def test_an_unrelated_suite_runs_as_before(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_nothing_to_do_with_actors():\n    pass\n")
    result = run_pytest(tmp_path, "-W", "error", "-p", "no:anyio")
    assert outcomes(result) == {"passed": 1}, result.stdout + result.stderr
    assert "interactors" not in result.stdout + result.stderr


def test_the_plugin_imports_neither_anyio_nor_the_host_side() -> None:
    code = (
        "import sys, interactors.pytest_plugin\n"
        "loaded = [m for m in ('anyio', 'msgspec', 'interactors._host.system') "
        "if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_entry_point_is_declared() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points.pytest11]\ninteractors = "interactors.pytest_plugin"' in (
        pyproject
    )
