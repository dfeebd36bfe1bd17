"""The supervision guide (docs/supervision.md) and its example, checked against the runtime.

The HTML comment just above each code block of the guide says how it is checked:

- ``snippet: PATH``: an excerpt of that file, copied verbatim;
- ``commands``: the commands that run the example; each one is run here;
- ``output: COMMAND``: what the example prints, compared line by line (numbers may vary);
- ``run: python [exit=N] [launcher]``: a program run here as a script (and, with
  ``launcher``, by ``interactors run``), which must exit with status N (default 0);
- ``run: pytest``: a test module, run here by pytest;
- ``diagram``: a drawing, not code.

The restart table (restart types vs how an incarnation ended) is checked cell by cell
against real actors.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest

import interactors
from interactors import Backoff, ChildSpec, Supervisor, testing

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `examples` and `benchmarks` are packages beside `tests`
    sys.path.insert(0, str(ROOT))

from examples.supervision_actors import Cache  # noqa: E402

DOC = ROOT / "docs" / "supervision.md"
TIMEOUT = 90.0
BLOCK = re.compile(
    r"(?:^<!-- (?P<marker>[^\n]*?) -->\n)?^```(?P<language>\w*)\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
LANGUAGES = {
    "snippet": "python",
    "run": "python",
    "commands": "console",
    "output": "text",
    "diagram": "text",
}


@dataclass(frozen=True)
class Block:
    line: int
    kind: str
    argument: str
    language: str
    code: str


def guide_blocks() -> list[Block]:
    text = DOC.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        kind, _, argument = (match["marker"] or "").partition(":")
        line = text.count("\n", 0, match.start("language")) + 1
        found.append(Block(line, kind.strip(), argument.strip(), match["language"], match["code"]))
    return found


def blocks_of(kind: str) -> list[Any]:
    found = [pytest.param(b, id=f"line-{b.line}") for b in guide_blocks() if b.kind == kind]
    assert found, f"the guide has no {kind!r} block"
    return found


def command_line(line: str) -> list[str]:
    """A command as the guide writes it, run with this test's Python."""
    words = shlex.split(line)
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    if words[0] == "interactors":
        return [sys.executable, "-m", "interactors", *words[1:]]
    raise AssertionError(f"unknown command in the guide: {line}")


def run(args: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    # This checkout's sources first, whatever the virtualenv has installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT)))}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def normalized(text: str) -> list[str]:
    """Lines with numbers replaced and spaces collapsed: runs differ only in those."""
    return [" ".join(re.sub(r"\d+(\.\d+)?", "N", line).split()) for line in text.splitlines()]


# -- code blocks -----------------------------------------------------------------------------


def test_every_code_block_is_accounted_for() -> None:
    blocks = guide_blocks()
    assert len(blocks) >= 10
    for block in blocks:
        assert block.kind in LANGUAGES, f"line {block.line}: block without a known marker"
        assert block.language == LANGUAGES[block.kind], f"line {block.line}: {block.language}"


@pytest.mark.parametrize("block", blocks_of("snippet"))
def test_snippet_is_copied_from_its_file(block: Block) -> None:
    source = ROOT / block.argument
    assert source.parent.name == "examples", "snippets come from examples/"
    assert block.code in source.read_text(encoding="utf-8"), f"not in {block.argument}"


EXAMPLE_LINES = (
    "started tree 'app': cache, workers, reporter",
    "cache crashed: KeyError: 'missing'",
    "cache restarted in place: same interpreter True, 0 entries (fresh instance)",
    "cache module-level state survived the restart: 2 instances built",
    "workers restarted together (one_for_all): fresh counters (1, 1)",
    "monitor: reporter stopped for good (normal)",
    "app children now: cache, workers",
    "events: crashed 2, restarted 3, hung 0, gave_up 0",
)


def example_commands() -> list[Any]:
    (block,) = (b for b in guide_blocks() if b.kind == "commands")
    return [pytest.param(line, id=line) for line in block.code.splitlines()]


@pytest.mark.parametrize("command", example_commands())
def test_example_runs_and_prints_what_the_guide_shows(command: str) -> None:
    result = run(command_line(command))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for expected in EXAMPLE_LINES:
        assert expected in lines, f"missing {expected!r} in:\n{result.stdout}"
    hung = re.search(r"the watchdog broke it after (\d+\.\d+) s", result.stdout)
    assert hung is not None, result.stdout
    assert 0.5 <= float(hung[1]) < 2.5  # handler_timeout is 0.5 s
    assert lines[-1] == "done"
    (shown,) = (b for b in guide_blocks() if b.kind == "output")
    assert shown.argument in example_commands()[0].values
    assert normalized(result.stdout) == normalized(shown.code)


@pytest.mark.parametrize("block", blocks_of("run"))
def test_program_in_the_guide_runs(block: Block, tmp_path: Path) -> None:
    words = block.argument.split()
    if words[0] == "pytest":
        path = tmp_path / "test_from_the_guide.py"
        path.write_text(block.code, encoding="utf-8")
        result = run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "."],
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        tests = block.code.count("\nasync def test_") + block.code.count("\ndef test_")
        passed = re.search(r"(\d+) passed", result.stdout)
        assert passed is not None, result.stdout
        assert int(passed[1]) >= tests > 0  # once per anyio backend
        return
    assert words[0] == "python", block.argument
    options = dict(word.partition("=")[::2] for word in words[1:])
    status = int(options.get("exit") or 0)
    path = tmp_path / "guide_program.py"
    path.write_text(block.code, encoding="utf-8")
    result = run([sys.executable, str(path)], cwd=tmp_path)
    assert result.returncode == status, result.stdout + result.stderr
    if "launcher" in options:
        app = ["run", "--app-dir", str(tmp_path), "guide_program:main"]
        result = run([sys.executable, "-m", "interactors", *app])
        assert result.returncode == status, result.stdout + result.stderr


# -- the restart table -------------------------------------------------------------------------

RESTART_TYPES = ("permanent", "transient", "temporary")
NO_WAIT = Backoff(min=0.0, max=0.0, jitter=0.0)


def restart_table() -> dict[str, dict[str, str]]:
    """The guide's table: {how it ended: {restart type: outcome}}, backticks dropped."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| how the incarnation"))
    header = [cell.strip(" `") for cell in lines[start].strip("|").split("|")]
    assert header[1:] == list(RESTART_TYPES)
    table = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().replace("`", "") for cell in line.strip("|").split("|")]
        table[cells[0]] = dict(zip(RESTART_TYPES, cells[1:], strict=True))
    return table


Fault = Callable[[interactors.ActorRef], Awaitable[None]]


async def exit_normally(ref: interactors.ActorRef) -> None:
    error = await testing.exit_actor(ref, 0)
    assert isinstance(error, interactors.ActorCrashed)
    assert "died handling this message: a normal exit (SystemExit: 0)" in str(error)


async def exit_with_error(ref: interactors.ActorRef) -> None:
    assert isinstance(await testing.exit_actor(ref, 1), interactors.ActorCrashed)


async def crash(ref: interactors.ActorRef) -> None:
    assert isinstance(await testing.crash(ref), interactors.ActorCrashed)


async def raise_and_resume(ref: interactors.ActorRef) -> None:
    assert not isinstance(await testing.crash(ref), interactors.ActorCrashed)


async def spin(ref: interactors.ActorRef) -> None:
    await testing.hang(ref, 10)


async def block_in_c(ref: interactors.ActorRef) -> None:
    await testing.hang(ref, 2.0, in_c=True)


async def fail_the_restart(ref: interactors.ActorRef) -> None:
    await testing.fail_next_start(ref, 1)
    await crash(ref)


async def stop(ref: interactors.ActorRef) -> None:
    await ref.stop()


@dataclass(frozen=True)
class Scenario:
    fault: Fault
    options: dict[str, Any] = field(default_factory=dict)
    new_interpreter: bool = False
    start_fails: bool = False
    actor: type | str = Cache


SCENARIOS = {
    "normal exit: SystemExit(0), SystemExit() or SystemExit(None) in a handler": Scenario(
        exit_normally
    ),
    "SystemExit with any other code or message": Scenario(exit_with_error),
    'a handler raised, under on_error="restart"': Scenario(crash, {"on_error": "restart"}),
    "hung past handler_timeout, broken by the watchdog": Scenario(spin, {"handler_timeout": 0.2}),
    "hung in C past handler_timeout + shutdown, abandoned": Scenario(
        block_in_c, {"handler_timeout": 0.2, "shutdown": 0.3}, new_interpreter=True
    ),
    "a restart failed: __init__ or on_start raised": Scenario(fail_the_restart),
    "the first start failed": Scenario(crash, start_fails=True),
    'a handler raised, under on_error="stop"': Scenario(crash, {"on_error": "stop"}),
    'a handler raised, under on_error="resume" (the default)': Scenario(
        raise_and_resume, actor="sup_actors:Store"
    ),
    "await ref.stop()": Scenario(stop),
}


async def observe(
    system: interactors.ActorSystem,
    scenario: Scenario,
    name: str,
    restart: str,
    caplog: pytest.LogCaptureFixture,
) -> str:
    """Run one cell of the table on a real actor; return what happened, in its words."""
    args = ("an argument Cache does not take",) if scenario.start_fails else ()
    spec = ChildSpec(scenario.actor, *args, name=name, restart=restart, **scenario.options)  # type: ignore[arg-type]
    tree = Supervisor(name=f"sup-{name}", backoff=NO_WAIT, children=[spec])
    try:
        root = await system.start(tree)
    except interactors.SpawnError:
        return "SpawnError"
    ref = root.child(name)
    interpreter = ref.statistics().interpreter_id
    await ref.ask.put("key", "value")
    await scenario.fault(ref)
    try:
        # Queued behind the fault: answered by whichever incarnation serves next.
        entries = await ref.ask.size()
    except (interactors.ActorStopped, interactors.ActorCrashed):
        await ref.wait_stopped()
        assert not ref.is_alive()
        assert name not in root.children()
        return "not restarted"
    if entries == 1:
        assert ref.statistics().restarts == 0
        return "keeps running"
    assert entries == 0  # a fresh instance
    assert ref.statistics().restarts == 1
    assert root.children() == [name]
    moved = ref.statistics().interpreter_id != interpreter
    assert moved == scenario.new_interpreter, f"{name}: new interpreter {moved}"
    failed = f"supervisor 'sup-{name}': restart failed" in caplog.text
    return "retried" if failed else "restarted"


@pytest.mark.anyio
async def test_restart_table_matches_the_runtime(caplog: pytest.LogCaptureFixture) -> None:
    table = restart_table()
    assert set(table) == set(SCENARIOS)
    seen: dict[str, dict[str, str]] = {row: {} for row in table}

    async def cell(row: str, index: int, restart: str) -> None:
        name = f"row{index}-{restart}"
        seen[row][restart] = await observe(system, SCENARIOS[row], name, restart, caplog)

    with caplog.at_level(logging.WARNING, logger="interactors"), anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            async with anyio.create_task_group() as tg:
                for index, row in enumerate(table):
                    for restart in RESTART_TYPES:
                        tg.start_soon(cell, row, index, restart)
            # Abandoned workers leave once their C call returns; wait for them.
            while system.statistics().abandoned:  # noqa: ASYNC110
                await anyio.sleep(0.05)
    assert seen == table


# -- the restart benchmark -----------------------------------------------------------------------


def test_restart_benchmark_runs_at_smoke_size() -> None:
    from benchmarks import restart

    cases, rss = restart.interactors_cases(restart.SMOKE, backends=("asyncio",))
    # In a process of its own: multiprocessing's resource tracker keeps a pipe open for good.
    script = "import json; from benchmarks import restart as r; "
    script += "print(json.dumps(r.process_cases(r.SMOKE)))"
    result = run([sys.executable, "-c", script])
    assert result.returncode == 0, result.stderr
    cases += json.loads(result.stdout)
    assert [case["case"] for case in cases] == [
        "in place (asyncio)",
        "fresh interpreter, from the spare pool",
        "fresh interpreter, no spare",
        "multiprocessing (spawn), new process",
        "multiprocessing (spawn), spare process",
    ]
    for case in cases:
        assert 0 < case["p50_ms"] <= case["p99_ms"] <= case["max_ms"], case
    assert cases[1]["note"] == f"{restart.SMOKE.fresh}/{restart.SMOKE.fresh} took a spare"
    assert rss["restarts"] == restart.SMOKE.rss_restarts
    table = restart.format_table(
        {"size": "smoke", "python": "", "machine": "", "bytecode_cached": True}
        | {"cases": cases, "rss": rss}
    )
    assert "in place (asyncio)" in table
