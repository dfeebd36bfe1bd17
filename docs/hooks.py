"""MkDocs hooks for the documentation site (named in mkdocs.yml, not part of the site).

The guides stay readable where they are (on GitHub, in the checkout): the README is the
site's home page and the CHANGELOG its changelog page, with their links rewritten for the
site; the benchmark charts in benchmarks/results/ are published beside the pages that show
them; the API reference reads a copy of the sources that griffe can walk. Stdlib and
mkdocs only.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
CHARTS = "benchmarks/results"
# Pages made from files outside docs/: site path -> source file.
OUTSIDE_PAGES = {"index.md": ROOT / "README.md", "changelog.md": ROOT / "CHANGELOG.md"}
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


_sources: Path | None = None


@event_priority(100)  # before mkdocstrings reads its handler's options
def on_config(config: Any) -> Any:
    """Point mkdocstrings at a copy of src/ with an ``__init__.py`` in every folder: griffe
    does not walk folders without one inside a package (``_host/``, ``_wire/``, ... are
    namespace folders), so the names re-exported from them could not be resolved."""
    global _sources
    _sources = Path(tempfile.mkdtemp(prefix="interactors-docs-"))
    package = _sources / "interactors"
    shutil.copytree(ROOT / "src" / "interactors", package, ignore=shutil.ignore_patterns("*.pyc"))
    for folder in [package, *package.rglob("*")]:
        if folder.is_dir() and folder.name != "__pycache__":
            (folder / "__init__.py").touch()
    handler = config["plugins"]["mkdocstrings"].config["handlers"]["python"]
    handler["paths"] = [str(_sources)]
    return config


def on_shutdown() -> None:
    if _sources is not None:
        shutil.rmtree(_sources, ignore_errors=True)


def _site_link(match: re.Match[str]) -> str:
    """A README/CHANGELOG link as the site needs it: docs/x.md -> x.md; a link to another
    file of the checkout (an example) becomes its name in code, which the site cannot link."""
    text, target = match[1], match[2]
    if re.match(r"[a-z]+:|#", target):
        return match[0]
    if target.startswith("docs/"):
        return f"[{text}]({target.removeprefix('docs/')})"
    if target == "CHANGELOG.md":
        return f"[{text}](changelog.md)"
    return text


def _unescape_pipes_in_code(row: re.Match[str]) -> str:
    return re.sub(r"`[^`]*`", lambda code: code[0].replace("\\|", "|"), row[0])


def on_files(files: Files, config: Any) -> Files:
    for name, source in OUTSIDE_PAGES.items():
        files.append(File.generated(config, name, abs_src_path=str(source)))
    for chart in sorted((ROOT / CHARTS).glob("*.png")):
        files.append(
            File(
                f"{CHARTS}/{chart.name}",
                src_dir=str(ROOT),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    # Command blocks are written without prompts; Pygments' console lexer would grey every
    # line out as "output". Highlight them as shell commands instead.
    markdown = re.sub(r"^```console$", "```sh", markdown, flags=re.MULTILINE)
    # GitHub needs `a\|b` for a pipe in a code span in a table cell; Python-Markdown keeps
    # pipes in code spans whole and would show the backslash.
    markdown = re.sub(r"^\|.*$", _unescape_pipes_in_code, markdown, flags=re.MULTILINE)
    if page.file.src_uri in OUTSIDE_PAGES:
        return LINK.sub(_site_link, markdown)
    # docs/performance.md shows the charts as ../benchmarks/results/*.png (right on GitHub);
    # on the site they sit under benchmarks/results/ beside the pages.
    return markdown.replace(f"](../{CHARTS}/", f"]({CHARTS}/")
