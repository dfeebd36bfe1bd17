"""Every code block of the launcher and embedding docs is real: Python blocks are excerpts
of example or test-app files (which other tests run), TOML blocks are valid settings, and
commands name apps and modules that exist."""

from __future__ import annotations

import importlib
import importlib.util
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interactors._launcher.app import check_spec, load_app
from interactors._launcher.cli import build_parser
from interactors._launcher.config import Settings, load_settings

ROOT = Path(__file__).parent.parent
DOCS = (ROOT / "docs" / "launcher.md", ROOT / "docs" / "embedding.md")
SOURCES = (*sorted(ROOT.glob("examples/*.py")), *sorted((ROOT / "tests" / "apps").glob("*.py")))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
CHECKED = ("python", "toml", "console")


def blocks(language: str | None = None) -> Iterator[tuple[str, str, str]]:
    for doc in DOCS:
        for match in FENCE.finditer(doc.read_text()):
            if language is None or match[1] == language:
                yield doc.name, match[1], match[2]


def cases(language: str) -> list[Any]:
    found = [
        pytest.param(code, id=f"{doc}-{i}") for i, (doc, _, code) in enumerate(blocks(language))
    ]
    assert found, f"no {language} blocks"
    return found


def test_every_block_is_of_a_checked_kind() -> None:
    kinds = {language for _, language, _ in blocks()}
    assert kinds <= set(CHECKED), f"unchecked code blocks: {kinds - set(CHECKED)}"


@pytest.mark.parametrize("code", cases("python"))
def test_python_block_is_an_excerpt_of_a_tested_file(code: str) -> None:
    assert any(code in source.read_text() for source in SOURCES), code


@pytest.mark.parametrize("code", cases("toml"))
def test_toml_block_is_a_valid_settings_file(code: str, tmp_path: Path) -> None:
    if code.startswith("# logging.config.dictConfig"):  # a --log-config file
        assert code == (ROOT / "examples" / "logging.toml").read_text()  # the whole file
        return
    path = tmp_path / "settings.toml"
    path.write_text(code)
    settings = load_settings(str(path))
    assert settings != Settings()


@pytest.mark.parametrize("code", cases("console"))
def test_console_block_names_real_apps(code: str) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    for line in code.splitlines():
        words = shlex.split(line)
        if words[0] == "interactors":
            args = build_parser().parse_args(words[1:])
            load_app(args.app, str(ROOT / (args.app_dir or ".")), args.factory)
        elif words[0] == "uvicorn":
            module, attribute = check_spec(words[1])
            assert getattr(importlib.import_module(module), attribute)
        elif words[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(words[2]) is not None, line
        else:
            pytest.fail(f"unknown command in the docs: {line}")
