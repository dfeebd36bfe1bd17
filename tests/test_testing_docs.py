"""The "Testing your actors" guide (docs/testing.md) is real: its actor is an excerpt of an
example file, its settings are what each of its test modules runs with, and each test
module is run by pytest with the plugin, passing or failing as the guide says.

The HTML comment above each code block says how it is checked: ``snippet: PATH`` (copied
verbatim from that file), ``config`` (the pyproject.toml of every run), ``run: pytest``
(every test passes) or ``run: pytest fails: TEXT`` (a test fails, saying TEXT).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from test_pytest_plugin import plugin_options

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "testing.md"
BLOCK = re.compile(
    r"(?:^<!-- (?P<marker>[^\n]*?) -->\n)?^```(?P<language>\w*)\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = [(m["marker"] or "", m["language"], m["code"]) for m in BLOCK.finditer(TEXT)]


def blocks_of(kind: str) -> list[Any]:
    found = [
        pytest.param(marker, code, id=f"block-{i}")
        for i, (marker, _, code) in enumerate(BLOCKS)
        if marker.partition(":")[0] == kind
    ]
    assert found, f"the guide has no {kind!r} block"
    return found


def test_every_code_block_is_accounted_for() -> None:
    kinds = {"snippet": "python", "config": "toml", "run": "python"}
    assert len(BLOCKS) >= 5
    for marker, language, _ in BLOCKS:
        kind = marker.partition(":")[0]
        assert kinds.get(kind) == language, f"unchecked block: <!-- {marker} --> {language}"


@pytest.mark.parametrize(("marker", "code"), blocks_of("snippet"))
def test_snippet_is_copied_from_its_file(marker: str, code: str) -> None:
    path = ROOT / marker.partition(":")[2].strip()
    assert code in path.read_text(encoding="utf-8")


def test_the_config_turns_the_leak_check_on() -> None:
    ((_, code),) = (p.values for p in blocks_of("config"))
    assert tomllib.loads(code)["tool"]["pytest"]["ini_options"]["interactors_leak_check"]


@pytest.mark.parametrize(("marker", "code"), blocks_of("run"))
def test_test_module_in_the_guide_runs(marker: str, code: str, tmp_path: Path) -> None:
    ((_, config),) = (p.values for p in blocks_of("config"))
    (tmp_path / "pyproject.toml").write_text(config, encoding="utf-8")
    (tmp_path / "test_from_the_guide.py").write_text(code, encoding="utf-8")
    paths = (str(ROOT), os.environ.get("PYTHONPATH", ""))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            *plugin_options(),
            "-W",
            "error",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    output = result.stdout + result.stderr
    tests = len(re.findall(r"^(?:async )?def test_", code, re.MULTILINE))
    expected_failure = marker.partition("fails:")[2].strip()
    if expected_failure:
        assert result.returncode == 1, output
        assert expected_failure in output
        assert re.search(rf"\b{tests} errors?\b", output), output  # failed in the teardown
        return
    assert result.returncode == 0, output
    passed = re.search(r"(\d+) passed", output)
    assert passed is not None, output
    assert int(passed[1]) >= tests > 0  # once per anyio backend


def test_testing_is_an_attribute_of_the_package() -> None:
    # `import interactors` then `interactors.testing.crash(...)`, in a fresh interpreter.
    code = "import interactors; print(interactors.testing.crash.__module__)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "interactors.testing"
