"""Spare interpreters: made ahead of spawns, importing ahead what the actors needed."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

import interactors

pytestmark = pytest.mark.anyio

_OWN_LIBRARY = "import sys\nsys.modules['own_library_was_imported'] = sys\n"
_NEEDS = """\
import decimal
import own_library

class NeedsDecimal:
    def half(self, x: str) -> str:
        return str(decimal.Decimal(x) / 2)
"""
_PROBE = """\
import sys

class Probe:
    def loaded(self, *names: str) -> list[bool]:
        return [name in sys.modules for name in names]
"""
_NAMES = ("decimal", "own_library", "own_library_was_imported", "needs_decimal")


def _modules(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (directory / "own_library.py").write_text(_OWN_LIBRARY)
    (directory / "needs_decimal.py").write_text(_NEEDS)
    (directory / "probe_actor.py").write_text(_PROBE)
    monkeypatch.syspath_prepend(str(directory))  # added at run time: actors see it too


async def _probe(system: interactors.ActorSystem) -> list[bool]:
    probe = await system.spawn("probe_actor:Probe")
    try:
        result: list[bool] = await probe.ask.loaded(*_NAMES)
        return result
    finally:
        await probe.stop()


async def test_a_spare_interpreter_imports_the_stdlib_modules_earlier_actors_needed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _modules(tmp_path, monkeypatch)
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            assert await _probe(system) == [False, False, False, False]
            needs = await system.spawn("needs_decimal:NeedsDecimal")
            assert await needs.ask.half("3") == "1.5"
            # The next spares import decimal ahead (a spare made before is updated in
            # the background, shortly after the spawn).
            for _ in range(50):
                seen = await _probe(system)
                if seen[0]:
                    break
                await anyio.sleep(0.05)
            # decimal, but neither the user's own library (it may do anything at import)
            # nor the actor's module.
            assert seen == [True, False, False, False]


async def test_without_spares_nothing_is_imported_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _modules(tmp_path, monkeypatch)
    with anyio.fail_after(30):
        async with interactors.ActorSystem(spare_interpreters=0) as system:
            needs = await system.spawn("needs_decimal:NeedsDecimal")
            assert await needs.ask.half("5") == "2.5"
            await anyio.sleep(0.2)
            assert await _probe(system) == [False, False, False, False]
