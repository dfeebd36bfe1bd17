"""The package layout's rules, checked by walking the source with ``ast``.

- nothing under ``_inside/`` or ``_wire/`` imports ``_host/``, ``_supervision/`` or
  ``_launcher/`` (not even under TYPE_CHECKING);
- nothing under ``_host/`` or ``_supervision/`` imports ``_launcher/``;
- ``_backend/`` imports only the stdlib and ``_wire/``;
- no import cycle between modules at run time (TYPE_CHECKING-only imports are allowed);
- no module over 400 lines;
- every ``_inside/`` module loads in an own-GIL interpreter without typing, anyio, msgspec,
  dataclasses or logging;
- docs/architecture.md names only modules that exist.
"""

from __future__ import annotations

import ast
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from interactors import _backend as backend

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "src" / "interactors"
MAX_LINES = 400

FORBIDDEN = {
    "_inside": ("_host", "_supervision", "_launcher"),
    "_wire": ("_host", "_supervision", "_launcher", "_inside"),
    "_host": ("_launcher",),
    "_supervision": ("_launcher",),
    "_backend": ("_host", "_supervision", "_launcher", "_inside", "_actor", "_exceptions"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """``(imported module, at run time?)`` for every import in ``path``."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def resolve(node: ast.ImportFrom) -> list[str]:
        if node.level == 0:
            base = node.module or ""
        else:
            parts = package.split(".")
            parts = parts[: len(parts) - (node.level - 1)]
            base = ".".join(parts + ([node.module] if node.module else []))
        # `from . import x` may import a submodule x
        return [base] + [f"{base}.{alias.name}" for alias in node.names]

    def walk(body: list[ast.stmt], runtime: bool) -> Iterator[tuple[str, bool]]:
        for node in body:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from walk(node.body, False)
                yield from walk(node.orelse, runtime)
                continue
            for child in ast.walk(node):
                if isinstance(child, ast.Import):
                    for alias in child.names:
                        yield alias.name, runtime
                elif isinstance(child, ast.ImportFrom):
                    for name in resolve(child):
                        yield name, runtime

    yield from walk(ast.parse(path.read_text()).body, True)


def _graph(runtime_only: bool) -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, set())
        for target, runtime in _imports(path):
            if (runtime or not runtime_only) and target in modules and target != name:
                edges.add(target)
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_forbidden_edges() -> None:
    bad = []
    for module, targets in _graph(runtime_only=False).items():
        forbidden = FORBIDDEN.get(_layer(module), ())
        bad += [f"{module} -> {t}" for t in sorted(targets) if _layer(t) in forbidden]
    assert bad == []


def test_backend_imports_only_the_stdlib_and_wire() -> None:
    outside = []
    for name, path in _modules().items():
        if _layer(name) != "_backend":
            continue
        for target, _runtime in _imports(path):
            top = target.split(".")[0]
            if top == "interactors":
                if _layer(target) not in ("_backend", "_wire"):
                    outside.append(f"{name} -> {target}")
            elif top not in sys.stdlib_module_names:
                outside.append(f"{name} -> {target}")
    assert outside == []


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _package_inits_removed(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    # Importing a submodule runs its package's __init__ first; the top-level package
    # re-exports everything lazily, so its own edges are not import-order edges.
    return {m: {t for t in ts if t != "interactors"} for m, ts in graph.items()}


def test_no_import_cycle_at_run_time() -> None:
    graph = _package_inits_removed(_graph(runtime_only=True))
    assert _find_cycle(graph) is None


def test_the_cycle_finder_finds_cycles() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_over_400_lines() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in _modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


@pytest.mark.timeout(60)
def test_inside_modules_load_in_an_own_gil_interpreter_without_heavy_modules() -> None:
    inside = sorted(name for name in _modules() if _layer(name) in ("_inside", "_wire", "_backend"))
    # The Codec protocol is a host-side type; the backend package picks _v313 or _v314.
    host_only = (
        "interactors._wire.codec_protocol",
        "interactors._backend._v313",
        "interactors._backend._v314",
    )
    inside = [name for name in inside if name not in host_only]
    assert "interactors._inside.worker" in inside
    code = textwrap.dedent(
        f"""
        import sys, importlib
        sys.path[:] = {sys.path!r}
        for name in {inside!r}:
            importlib.import_module(name)
        import interactors, interactors.testing
        heavy = ("typing", "anyio", "msgspec", "dataclasses", "logging", "trio", "asyncio")
        loaded = sorted(m for m in heavy if m in sys.modules)
        if loaded:
            raise RuntimeError(f"loaded {{loaded}}")
        """
    )
    _run_in_a_fresh_interpreter(code)


def test_architecture_doc_names_only_existing_modules() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`(_[a-z_]+/(?:[a-z_0-9]+\.py)?)`", text))
    assert len(named) > 10
    missing = sorted(n for n in named if not (PACKAGE / n).exists())
    assert missing == []
    # and every layer folder is described
    for folder in ("_host/", "_inside/", "_wire/", "_backend/", "_supervision/", "_launcher/"):
        assert f"`{folder}`" in text


def test_only_the_backend_touches_interpreter_and_queue_apis() -> None:
    private = {"_interpreters", "_interpqueues", "_interpchannels", "concurrent.interpreters"}
    users = sorted(
        name
        for name, path in _modules().items()
        if _layer(name) != "_backend" and any(t in private for t, _ in _imports(path))
    )
    assert users == []


def test_architecture_doc_names_every_module() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    unnamed = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.glob("_*/*.py")
        if path.name != "__init__.py" and f"`{path.relative_to(PACKAGE)}`" not in text
    )
    assert unnamed == []


@pytest.mark.timeout(60)
def test_an_actor_interpreter_starts_without_collections_functools_or_host_code() -> None:
    # Each of these costs every new interpreter milliseconds (collections alone ~4 ms of the
    # ~25 ms a spawn without a spare takes): the worker's start path must not need them.
    code = textwrap.dedent(
        f"""
        import sys
        sys.path[:] = {sys.path!r}
        import interactors._inside.worker, interactors._inside.serving_async
        import interactors._inside.peer
        avoided = ("collections", "contextlib", "functools", "reprlib", "traceback")
        # Nor the host's half of the backend (creating and destroying interpreters), nor
        # the concurrent package: memory every actor would hold for nothing.
        avoided += (
            "interactors._backend._v313_host",
            "interactors._backend._lifecycle",
            "concurrent",
        )
        loaded = sorted(m for m in avoided if m in sys.modules)
        if loaded:
            raise RuntimeError(f"loaded {{loaded}}")
        """
    )
    _run_in_a_fresh_interpreter(code)


def _run_in_a_fresh_interpreter(code: str) -> None:
    iid = backend.new_interpreter(isolated=True)
    try:
        failure = backend.run(iid, code, {})
    finally:
        backend.destroy_interpreter(iid)
    assert failure is None, failure and failure.traceback
