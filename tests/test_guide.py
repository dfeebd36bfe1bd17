"""docs/actors.md is real: its code blocks are excerpts of the guide example, which runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "actors.md"
SOURCES = [ROOT / "examples" / "guide.py", ROOT / "examples" / "guide_actors.py"]


def test_doc_blocks_are_excerpts_of_the_guide() -> None:
    blocks = re.findall(r"```(\w*)\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert len(blocks) >= 5
    sources = [path.read_text() for path in SOURCES]
    for language, code in blocks:
        assert language == "python"
        assert any(code in source for source in sources), code


def test_guide_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "examples.guide"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "remote error: TypeError - string argument without an encoding" in out
    assert "unknown method: actor 'hasher'" in out
    assert "typed: 4f8b42c22dd3729b True" in out
    assert "encode error at the sender" in out
    assert "timed out after 0.05 s" in out
    assert "left: 1 0\ncountdown: normal" in out
    assert "digests: ['ca978112', '3e23e816', '2e7d2c03']" in out
    assert "its hashers: ['shutdown', 'shutdown']" in out
    assert "32 MiB digest: 83ee47245398adee" in out
    assert "handled: 5 errors: 1 state: running" in out
    assert "[reporter] INFO examples.reporter: 3 items done" in out
    assert "counting 3 items" not in out
    assert "FutureWarning: report() will need a title" in out
