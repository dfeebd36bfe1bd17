"""Test-suite guards: every async test runs on asyncio and trio, and no test may leak an
interpreter, a thread, a file descriptor, a child process or a shared-memory segment (the
leak check of interactors' pytest plugin)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Actor classes used by the tests live in tests/actors.py, a stdlib-only module that the
# actors' interpreters import.
sys.path.insert(0, str(Path(__file__).parent))

# Test this checkout's sources whatever is installed (a second checkout of the project,
# sharing one virtualenv), here and in the subprocesses the tests start.
_SRC = str(Path(__file__).parent.parent / "src")
# (pyproject.toml's `pythonpath` puts it first before pytest loads plugins, which import
# interactors.)
if sys.path[1:2] != [_SRC]:
    sys.path.insert(1, _SRC)
if os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] != _SRC:
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, os.environ.get("PYTHONPATH")) if p)

# The leak check and the `actor_system` / `actor_faults` fixtures come from the project's
# pytest plugin, which pytest loads through its entry point where this checkout is installed;
# an older install of the project in the virtualenv may lack it: load it from here then.
if "interactors.pytest_plugin" not in sys.modules:
    pytest_plugins = ["interactors.pytest_plugin"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_leaks: this test may leave resources behind")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test runs under the plugin's leak check (`interactors_leak_check` in
    # pyproject.toml); `allow_leaks` is this suite's short name for its opt-out.
    for item in items:
        if item.get_closest_marker("allow_leaks"):
            item.add_marker(pytest.mark.interactors_allow_leaks)
