"""The documentation site (mkdocs.yml, built by `make docs`) covers the docs: every guide is
in its navigation, and its API reference documents every public name."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import interactors
from interactors import testing

ROOT = Path(__file__).resolve().parent.parent
CONFIG = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
API = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
# Pages the site makes from files outside docs/ (docs/hooks.py).
OUTSIDE_PAGES = {"index.md": "README.md", "changelog.md": "CHANGELOG.md"}


def test_every_guide_is_in_the_navigation() -> None:
    in_nav = re.findall(r"^\s+- [^:\n]+: (\S+\.md)", CONFIG, re.MULTILINE)
    assert len(in_nav) == len(set(in_nav))
    guides = {path.name for path in (ROOT / "docs").glob("*.md")}
    assert set(in_nav) == guides | set(OUTSIDE_PAGES)
    assert all((ROOT / source).is_file() for source in OUTSIDE_PAGES.values())


def test_the_api_reference_documents_every_public_name() -> None:
    documented = set(re.findall(r"^::: interactors\.(\w+)$", API, re.MULTILINE))
    public = set(interactors.__all__) - {"__version__"}
    assert public <= documented, f"missing from docs/api.md: {sorted(public - documented)}"
    assert documented <= public | {"testing", "pytest_plugin"}
    assert {"testing", "pytest_plugin"} <= documented
    assert testing.__all__  # documented as a module: all its public names


def test_the_benchmark_charts_the_performance_page_shows_exist() -> None:
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    charts = re.findall(r"!\[[^\]]*\]\(\.\./(benchmarks/results/[^)]+\.png)\)", page)
    assert charts
    assert all((ROOT / chart).is_file() for chart in charts)


def test_docstrings_become_markdown() -> None:
    pytest.importorskip("griffe")  # the docs extra
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        from rst_docstrings import markdown_docstring
    finally:
        sys.path.remove(str(ROOT / "docs"))
    text = (
        "Options, see :class:`~interactors.Codec`::\n\n    code()\n\n"
        "``name``\n    what it is,\n    on two lines.\n``other``\n    more.\n"
    )
    assert markdown_docstring(text).splitlines() == [
        "Options, see `Codec`:",
        "",
        "    code()",
        "",
        "- ``name``: what it is, on two lines.",
        "- ``other``: more.",
    ]
