"""Typed refs: ``ref.ask(Counter.add, 5)`` is checked by mypy and pyright, and works on both
event loops (the attribute form ``ref.ask.add(5)`` still works, untyped)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

import interactors
from typed_actors import Adder, Counter, Other

ROOT = Path(__file__).parent.parent
CASES = ROOT / "tests" / "typechecks"
OK = [CASES / "typed_ok.py", ROOT / "tests" / "typed_actors.py"]
MISTAKES = CASES / "typed_mistakes.py"
EXPECT = re.compile(r"# expect: mypy=(\S+) pyright=(\S+)")


def expected(checker: int) -> set[tuple[int, str]]:
    """``(line, code)`` for each code of the ``# expect:`` comments (1: mypy, 2: pyright)."""
    found = set()
    for number, line in enumerate(MISTAKES.read_text().splitlines(), 1):
        if match := EXPECT.search(line):
            found |= {(number, code) for code in match[checker].split(",")}
    assert found
    return found


def mypy(tmp_path: Path, *files: Path) -> dict[Path, set[tuple[int, str]]]:
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary"]
    command += ["--cache-dir", str(tmp_path / "mypy"), *map(str, files)]
    env = {**os.environ, "MYPYPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    errors: dict[Path, set[tuple[int, str]]] = {}
    for line in result.stdout.splitlines():
        if match := re.match(r"(.+?):(\d+): error: .*\[([\w-]+)\]$", line):
            errors.setdefault(ROOT / match[1], set()).add((int(match[2]), match[3]))
    assert result.returncode == (1 if errors else 0), result.stdout + result.stderr
    return errors


def pyright(tmp_path: Path, *files: Path) -> dict[Path, set[tuple[int, str]]]:
    exe = shutil.which("basedpyright", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("basedpyright is not installed (the `test` extra has it)")
    config = tmp_path / "pyrightconfig.json"
    settings = {"typeCheckingMode": "standard", "pythonVersion": "3.13"}
    config.write_text(
        json.dumps({**settings, "extraPaths": [str(ROOT / "src"), str(ROOT / "tests")]})
    )
    command = [exe, "-p", str(config), "--pythonpath", sys.executable, "--outputjson"]
    result = subprocess.run(
        [*command, *map(str, files)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    errors: dict[Path, set[tuple[int, str]]] = {}
    for diagnostic in json.loads(result.stdout)["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            where = (diagnostic["range"]["start"]["line"] + 1, diagnostic.get("rule", "?"))
            errors.setdefault(Path(diagnostic["file"]), set()).add(where)
    return errors


def test_the_typed_example_passes_mypy_strict(tmp_path: Path) -> None:
    assert mypy(tmp_path, *OK) == {}


def test_each_mistake_is_a_mypy_error(tmp_path: Path) -> None:
    assert mypy(tmp_path, MISTAKES) == {MISTAKES: expected(1)}


def test_the_typed_example_passes_pyright(tmp_path: Path) -> None:
    assert pyright(tmp_path, *OK) == {}


def test_each_mistake_is_a_pyright_error(tmp_path: Path) -> None:
    assert pyright(tmp_path, MISTAKES) == {MISTAKES: expected(2)}


@pytest.mark.anyio
async def test_the_call_form_asks_and_tells() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            counter = await system.spawn(Counter, 10)
            assert await counter.ask(Counter.add, 5) == 15
            assert await counter.ask(Counter.add_later, 1, delay=0) == 16
            await counter.tell(Counter.add, 1)
            counter.tell_nowait(Counter.add, n=1)
            assert await counter.ask.get() == 18  # the attribute form still works
            assert await counter.options(timeout=5).ask(Counter.get) == 18
            with pytest.raises(interactors.UnknownMethodError, match="has no public method"):
                await counter.ask(Other.add, 1)  # same name, another class: refused
            with pytest.raises(interactors.UnknownMethodError, match=r"Other\.shout"):
                counter.tell_nowait(Other.shout, "hi")
            with pytest.raises(interactors.UnknownMethodError, match="__init__"):
                await counter.tell(Counter.__init__, 1)  # not a message handler
            adder = await system.spawn(Adder, counter)  # inside, a typed PeerRef
            assert await adder.ask(Adder.add_twice, 1) == 20
            assert await adder.ask(Adder.add_async, 1) == 21
            with pytest.raises(interactors.ActorError, match="UnknownMethodError"):
                await adder.ask(Adder.shout_at_counter)


@pytest.mark.timeout(30)
def test_the_call_form_of_a_blocking_ref() -> None:
    with interactors.BlockingActorSystem() as system:
        counter = system.spawn(Counter, 10)
        assert counter.ask(Counter.add, 5).result(timeout=5) == 15
        assert counter.ask(Counter.add_later, 1, delay=0).result(timeout=5) == 16
        counter.tell(Counter.add, 1)
        counter.tell_nowait(Counter.add, n=1)
        assert counter.ask.get().result(timeout=5) == 18  # the attribute form still works
        with pytest.raises(interactors.UnknownMethodError, match="has no public method"):
            counter.ask(Other.add, 1)  # same name, another class: refused at once
        with pytest.raises(interactors.UnknownMethodError, match="__init__"):
            counter.tell(Counter.__init__, 1)
    with pytest.raises(interactors.SystemClosed):
        counter.ask(Counter.get)
