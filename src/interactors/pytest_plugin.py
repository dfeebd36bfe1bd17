"""The pytest plugin for testing your own actors: fixtures and an opt-in leak check.

pytest loads it through the ``pytest11`` entry point ``interactors`` wherever interactors is
installed (``-p no:interactors`` turns it off). It adds:

- ``actor_system``: an entered :class:`~interactors.ActorSystem` for one ``@pytest.mark.anyio``
  test, on the backend that anyio's ``anyio_backend`` fixture selects (yours to override or
  parametrise); override ``actor_system_options`` to pass it keyword arguments;
- ``actor_faults``: :class:`ActorFaults`, the fault injectors of :mod:`interactors.testing`;
- a leak check, off unless a test is marked ``@pytest.mark.interactors_leak_check`` or the
  ini option ``interactors_leak_check = true`` is set: a test that leaves an actor's
  interpreter, a thread or a file descriptor behind fails. ``@pytest.mark.interactors_allow_leaks``
  exempts one test;
- a safe stack dump for pytest-timeout: when a test times out, pytest-timeout prints every
  thread's stack with ``sys._current_frames()``, which on CPython 3.13 also walks the actors'
  interpreters and aborts the process (``free(): invalid pointer``). With this plugin loaded,
  the dump comes from :mod:`faulthandler` instead and shows the host's threads; the test
  then fails as a timeout, and the run goes on.

Loaded by every pytest run in such an environment, this module imports only pytest and the
stdlib at import time (the package's own import is stdlib-only); the host side (anyio and
the system) is imported when a fixture first runs.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from . import ActorError, ActorRef, ActorSystem

__all__ = ("ActorFaults",)

LEAK_CHECK = "interactors_leak_check"
ALLOW_LEAKS = "interactors_allow_leaks"

# Idle worker threads cached by the event-loop libraries themselves (trio's thread cache,
# anyio's to_thread pool) belong to them and live for the process: not leaks.
_LIBRARY_THREAD_PREFIXES = ("Trio thread", "AnyIO worker thread")
_SETTLE_SECONDS = 2.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        LEAK_CHECK,
        type="bool",
        default=False,
        help="interactors: fail tests that leak an interpreter, a thread or a file descriptor",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{LEAK_CHECK}: fail this test if it leaks an interpreter, a thread or an fd",
    )
    config.addinivalue_line(
        "markers", f"{ALLOW_LEAKS}: skip the interactors leak check for this test"
    )
    timeout_plugin = sys.modules.get("pytest_timeout")
    if timeout_plugin is not None and callable(getattr(timeout_plugin, "dump_stacks", None)):
        setattr(timeout_plugin, "dump_stacks", dump_host_stacks)  # noqa: B010 (untyped module)


def dump_host_stacks(terminal: Any) -> None:
    """Write the stacks of this interpreter's threads to pytest's ``terminal`` writer.

    ``sys._current_frames()`` cannot be used while actors run: on CPython 3.13 it builds
    frame objects for the threads of every interpreter, with the wrong interpreter's
    allocator, and the process aborts a moment later. :mod:`faulthandler` reads only the
    current interpreter's threads, from C."""
    with tempfile.TemporaryFile("w+") as dump:
        faulthandler.dump_traceback(dump, all_threads=True)
        dump.seek(0)
        stacks = dump.read()
    terminal.sep("~", title="Stacks of the host's threads (from faulthandler)")
    terminal.write(stacks)
    if tasks := _event_loop_tasks():
        terminal.sep("~", title="Where the event loop's tasks wait")
        terminal.write(tasks)


def _event_loop_tasks() -> str:
    """Each task of the running asyncio loop or trio run and the frames it awaits in: the
    thread stacks show only the loop polling. (pytest-timeout's signal fires in the main
    thread, inside the run; anything else finds no loop and gets "".)"""
    lines: list[str] = []
    trio = sys.modules.get("trio")
    root = None
    if trio is not None:
        with contextlib.suppress(RuntimeError):
            root = trio.lowlevel.current_root_task()
    todo = [root] if root is not None else []
    while todo:
        task = todo.pop()
        lines.append(f"task {task.name}:")
        lines.extend(_frame_line(frame, line) for frame, line in task.iter_await_frames())
        todo.extend(child for nursery in task.child_nurseries for child in nursery.child_tasks)
    asyncio = sys.modules.get("asyncio")
    running: Any = ()
    if asyncio is not None:
        with contextlib.suppress(RuntimeError):
            running = asyncio.all_tasks(asyncio.get_running_loop())
    for task in running:
        lines.append(f"task {task.get_name()}:")
        awaited: Any = task.get_coro()
        while awaited is not None:
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is None:
                break
            lines.append(_frame_line(frame, frame.f_lineno))
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return "\n".join(lines) + "\n" if lines else ""


def _frame_line(frame: Any, line: int) -> str:
    return f'  File "{frame.f_code.co_filename}", line {line}, in {frame.f_code.co_name}'


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def actor_system_options() -> dict[str, Any]:
    """Keyword arguments for the ``actor_system`` fixture's ``ActorSystem`` (none by
    default); override this fixture to change them."""
    return {}


@pytest.fixture
async def actor_system(
    anyio_backend: Any, actor_system_options: dict[str, Any]
) -> AsyncIterator[ActorSystem]:
    """An entered ``ActorSystem`` for one test, shut down (every actor stopped, every
    interpreter destroyed) when the test ends. Needs an async test run by anyio
    (``@pytest.mark.anyio``) on the backend that ``anyio_backend`` selects."""
    from . import ActorSystem

    system = ActorSystem(**actor_system_options)
    # A root supervisor giving up cannot cancel the test from here (the system is entered
    # around the fixture's yield, not around the test): its asks fail saying why, and the
    # teardown raises SupervisorGaveUp.
    system._cancels_body = False
    async with system:
        yield system


class ActorFaults:
    """The fault injectors of :mod:`interactors.testing` as the ``actor_faults`` fixture:
    each runs a real fault inside the actor's interpreter, so its ``on_error`` policy,
    watchdog and supervisor react as they would in production."""

    async def crash(self, ref: ActorRef, message: str = "injected crash") -> ActorError:
        """Make a handler raise ``InjectedFault``; return the error the caller saw."""
        from . import testing

        return await testing.crash(ref, message)

    async def exit_actor(self, ref: ActorRef, code: int = 1) -> ActorError:
        """Raise ``SystemExit(code)`` in the actor's thread."""
        from . import testing

        return await testing.exit_actor(ref, code)

    async def hang(self, ref: ActorRef, seconds: float, in_c: bool = False) -> None:
        """Keep the actor busy for ``seconds`` (in C with ``in_c=True``), without waiting."""
        from . import testing

        await testing.hang(ref, seconds, in_c)

    async def fail_next_start(self, ref: ActorRef, times: int = 1) -> None:
        """Make the actor's next ``times`` starts or restarts raise in ``__init__``."""
        from . import testing

        await testing.fail_next_start(ref, times)

    async def wait_restarts(self, ref: ActorRef, count: int, timeout: float = 10.0) -> None:
        """Wait until the actor has restarted ``count`` times (``TimeoutError`` after
        ``timeout`` seconds)."""
        from . import testing

        await testing.wait_restarts(ref, count, timeout)


@pytest.fixture
def actor_faults() -> ActorFaults:
    """Fault injection for your actors: ``crash``, ``exit_actor``, ``hang``,
    ``fail_next_start`` and ``wait_restarts`` (see :mod:`interactors.testing`)."""
    return ActorFaults()


# -- the leak check ------------------------------------------------------------------------


def _interpreters() -> set[int]:
    from . import _backend

    return set(_backend.interpreter_ids())


def _threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith(_LIBRARY_THREAD_PREFIXES)}


def _open_fds() -> set[int]:
    """Open fds, without the listing's own (which a leaked fd would then reuse unseen).
    (Imported here: the backend is loaded only where the leak check runs.)"""
    from ._backend._lifecycle import open_fds

    return {int(name) for name in open_fds()}


def _children() -> set[int]:
    """Child processes of this process, zombies included (they are leaks too)."""
    if sys.platform != "linux":
        return set()
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


def _settle(check: Callable[[], bool]) -> None:
    # Threads exit and fds close a moment after the system's shutdown returns.
    deadline = time.monotonic() + _SETTLE_SECONDS
    while time.monotonic() < deadline and not check():
        time.sleep(0.01)


def _describe_fd(fd: int) -> str:
    try:
        return f"{fd}->{os.readlink(f'/proc/self/fd/{fd}')}"
    except OSError:
        return str(fd)


def _leak_check_wanted(request: pytest.FixtureRequest) -> bool:
    node = request.node
    if node.get_closest_marker(ALLOW_LEAKS):
        return False
    return bool(node.get_closest_marker(LEAK_CHECK) or request.config.getini(LEAK_CHECK))


@pytest.fixture(autouse=True)
def _interactors_leak_check(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves an interpreter, a thread, a file descriptor, a child process
    or a shared-memory segment behind (only where the leak check is on)."""
    if not _leak_check_wanted(request):
        yield
        return
    interpreters, threads, fds = _interpreters(), _threads(), _open_fds()
    children, segments = _children(), _shm_segments()
    yield
    _settle(lambda: _children() <= children)
    _settle(lambda: _interpreters() <= interpreters)
    _settle(lambda: _threads() <= threads)
    _settle(lambda: _open_fds() <= fds)
    problems = []
    if leaked := sorted(_interpreters() - interpreters):
        problems.append(f"interpreters {leaked}")
    if leaked_threads := sorted(t.name for t in _threads() - threads):
        problems.append(f"threads {leaked_threads}")
    if leaked_children := sorted(_children() - children):
        problems.append(f"child processes {leaked_children}")
    if leaked_segments := sorted(_shm_segments() - segments):
        problems.append(f"shared-memory segments {leaked_segments}")
    if leaked_fds := sorted(_open_fds() - fds):
        problems.append(f"fds {[_describe_fd(fd) for fd in leaked_fds]}")
    if problems:
        pytest.fail("test leaked " + "; ".join(problems), pytrace=False)
