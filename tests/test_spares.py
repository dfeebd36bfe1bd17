"""Spare interpreters: made ahead of spawns, importing ahead what the actors needed."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import interactors

pytestmark = pytest.mark.anyio

_OWN_LIBRARY = "VALUE = 2\n"
# What was imported already when the actor's module started: the spare's head start.
_NEEDS = """\
import sys

AHEAD = {name: name in sys.modules for name in ("decimal", "own_library")}

import decimal
import own_library

class NeedsDecimal:
    def half(self, x: str) -> str:
        return str(decimal.Decimal(x) / own_library.VALUE)

    def ahead(self) -> dict[str, bool]:
        return AHEAD
"""
_PLAIN = """\
class Plain:
    def ping(self) -> str:
        return "pong"
"""


@pytest.fixture
def actor_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The actor classes' modules, in a directory put on ``sys.path`` at run time (the
    actors' interpreters see it too)."""
    (tmp_path / "own_library.py").write_text(_OWN_LIBRARY)
    (tmp_path / "needs_decimal.py").write_text(_NEEDS)
    (tmp_path / "plain_actor.py").write_text(_PLAIN)
    monkeypatch.syspath_prepend(str(tmp_path))


async def _next_ahead(system: interactors.ActorSystem, decimal: bool) -> dict[str, bool]:
    """Spawn NeedsDecimal until one finds ``decimal`` imported ahead (or not); the spare
    a spawn takes may predate what the pool learnt, and is updated in the background."""
    for _ in range(60):
        actor = await system.spawn("needs_decimal:NeedsDecimal")
        assert await actor.ask.half("3") == "1.5"
        ahead: dict[str, bool] = await actor.ask.ahead()
        await actor.stop()
        if ahead["decimal"] == decimal:
            return ahead
        await anyio.sleep(0.05)
    raise AssertionError(f"decimal was {'never' if decimal else 'always'} imported ahead")


async def test_spares_import_ahead_the_stdlib_modules_an_actor_class_needed(
    actor_modules: None,
) -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            first = await system.spawn("needs_decimal:NeedsDecimal")
            assert await first.ask.ahead() == {"decimal": False, "own_library": False}
            # decimal, but not the user's own library (it may do anything at import)
            ahead = await _next_ahead(system, decimal=True)
            assert ahead == {"decimal": True, "own_library": False}


async def test_only_what_every_actor_class_needed_is_imported_ahead(actor_modules: None) -> None:
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            await system.spawn("needs_decimal:NeedsDecimal")
            await _next_ahead(system, decimal=True)
            # A class that does not import decimal: later actors need not carry it.
            plain = await system.spawn("plain_actor:Plain")
            assert await plain.ask.ping() == "pong"
            await _next_ahead(system, decimal=False)


async def test_without_spares_nothing_is_imported_ahead(actor_modules: None) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem(spare_interpreters=0) as system:
            for _ in range(3):
                actor = await system.spawn("needs_decimal:NeedsDecimal")
                assert (await actor.ask.ahead())["decimal"] is False


_OWN_IMPORT_HOOK = """\
import builtins

_original = builtins.__import__


def counting(name, *args, **kwargs):
    counting.calls += 1
    return _original(name, *args, **kwargs)


counting.calls = 0
builtins.__import__ = counting


class Hooked:
    def hook_kept(self) -> bool:
        import json  # noqa: F401  (through the module's hook)

        return builtins.__import__ is counting and counting.calls > 0
"""


async def test_an_import_hook_the_actors_module_installs_stays_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While the class loads, the worker notes what it imports (see the pool): that must
    # not undo the module's own replacement of builtins.__import__.
    (tmp_path / "hooked_actor.py").write_text(_OWN_IMPORT_HOOK)
    monkeypatch.syspath_prepend(str(tmp_path))
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn("hooked_actor:Hooked")
            assert await actor.ask.hook_kept() is True
