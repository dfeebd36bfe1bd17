"""Test-suite guards: every async test runs on asyncio and trio, and no test may leak an
interpreter, a thread, a file descriptor, a child process or a shared-memory segment."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Actor classes used by the tests live in tests/actors.py, a stdlib-only module that the
# actors' interpreters import.
sys.path.insert(0, str(Path(__file__).parent))

# Test this checkout's sources whatever is installed (a second checkout of the project,
# sharing one virtualenv), here and in the subprocesses the tests start.
_SRC = str(Path(__file__).parent.parent / "src")
if sys.path[1:2] != [_SRC]:
    sys.path.insert(1, _SRC)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH")) if p)

from interactors import _backend as backend  # noqa: E402  (once the path is set)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# Idle worker threads cached by the event-loop libraries themselves (trio's thread cache,
# anyio's to_thread pool) are theirs, not leaks of ours.
_LIBRARY_THREAD_PREFIXES = ("Trio thread", "AnyIO worker thread")


def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith(_LIBRARY_THREAD_PREFIXES)}


def _open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


def _children() -> set[int]:
    """Child processes of this process, zombies included (they are leaks too)."""
    me = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'
        if stat.rpartition(")")[2].split()[1] == me:
            found.add(int(entry))
    return found


def _shm_segments() -> set[str]:
    try:
        return {name for name in os.listdir("/dev/shm") if name.startswith("interactors")}
    except OSError:
        return set()


def _settle(check: object, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():  # type: ignore[operator]
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves an interpreter, a thread, a file descriptor, a child process
    or a shared-memory segment behind."""
    if request.node.get_closest_marker("allow_leaks"):
        yield
        return
    interpreters = set(backend.interpreter_ids())
    threads = _threads()
    fds = _open_fds()
    children = _children()
    segments = _shm_segments()
    yield
    _settle(lambda: _children() <= children)
    leaked_children = sorted(_children() - children)
    leaked_segments = sorted(_shm_segments() - segments)
    _settle(lambda: set(backend.interpreter_ids()) <= interpreters)
    _settle(lambda: _threads() <= threads)
    leaked_interpreters = set(backend.interpreter_ids()) - interpreters
    leaked_threads = [t.name for t in _threads() - threads]
    # The asyncio/trio runners may lazily create a few fds that live for the process
    # (e.g. trio's wakeup socketpair is per run and closed): compare after settling.
    _settle(lambda: _open_fds() <= fds)
    leaked_fds = sorted(_open_fds() - fds)
    problems = []
    if leaked_interpreters:
        problems.append(f"interpreters {sorted(leaked_interpreters)}")
    if leaked_threads:
        problems.append(f"threads {leaked_threads}")
    if leaked_children:
        problems.append(f"child processes {leaked_children}")
    if leaked_segments:
        problems.append(f"shared-memory segments {leaked_segments}")
    if leaked_fds:
        targets = []
        for fd in leaked_fds:
            try:
                targets.append(f"{fd}->{os.readlink(f'/proc/self/fd/{fd}')}")
            except OSError:
                targets.append(str(fd))
        problems.append(f"fds {targets}")
    if problems:
        pytest.fail("test leaked " + "; ".join(problems), pytrace=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_leaks: this test may leave resources behind")
