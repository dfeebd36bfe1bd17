"""The README's commands and quickstart are real: its code is the example file, which runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
QUICKSTART = ROOT / "examples" / "quickstart.py"


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.DOTALL)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block[1].splitlines()]
    assert commands == ["make run", "make test"]
    assert README.index("```sh") < README.index("## ")


def test_python_blocks_are_excerpts_of_the_quickstart_file() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    assert len(blocks) >= 2
    source = QUICKSTART.read_text()
    for block in blocks:
        assert block in source, block


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_quickstart_runs(backend: str) -> None:
    code = (
        "import interactors, examples.quickstart as q; "
        f"interactors.run(q.main, backend={backend!r})"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "by path: 2" in result.stdout
    assert "messages_handled=5" in result.stdout


def test_quickstart_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.quickstart"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "by path: 2" in result.stdout
