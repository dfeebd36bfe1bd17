"""Finding the app that ``interactors run module:attribute`` names, and checking what it is.

An app is one of:

- ``async def main(system)``: called with the launcher's started ActorSystem;
- ``async def main()``: called with nothing (it builds its own systems, if any);
- a ``Supervisor`` tree: started with ``system.start(tree)`` and kept running until the
  process is signalled or the tree stops.

With ``factory=True`` (``interactors run --factory``) the attribute is a plain zero-argument
callable that returns one of those; it is called once, when the app is loaded.

Every reason an app cannot be used raises :class:`AppError` with one line saying what to fix.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Final, Literal

from .._exceptions import AppError
from .._host.run import required_positional
from .._supervision.spec import Supervisor

__all__ = ("App", "AppError", "load_app")

AppKind = Literal["main_with_system", "main", "tree"]
_SPEC: Final = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_EXPECTED: Final = "an `async def main(system)`, an `async def main()` or a Supervisor tree"


@dataclass(frozen=True, slots=True)
class App:
    """An app ready to run: its spec, what kind it is, and the object itself."""

    spec: str
    kind: AppKind
    target: Any


def check_spec(spec: str) -> tuple[str, str]:
    """``(module, attribute)`` from ``"module:attribute"``; AppError when malformed."""
    if not _SPEC.match(spec):
        raise AppError(
            f'APP must be written "module:attribute", e.g. "examples.pipeline:main" (got {spec!r})'
        )
    module, _, attribute = spec.partition(":")
    return module, attribute


def load_app(spec: str, app_dir: str = ".", factory: bool = False) -> App:
    """Import ``spec``'s module (``app_dir`` first on ``sys.path``) and classify its object
    (with ``factory``: the object its zero-argument callable returns).

    Raises :class:`AppError`: malformed spec, module not found or failing to import,
    attribute missing, a factory that fails, or an object that is not an app.
    """
    module_name, attribute = check_spec(spec)
    directory = os.path.abspath(app_dir)
    if directory not in sys.path:
        # Actors' interpreters copy sys.path, so they find the app's modules too.
        sys.path.insert(0, directory)
    module = _import(module_name, directory)
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise AppError(
                f'module "{module_name}" ({module.__file__}) has no attribute "{attribute}": '
                "check the name after the colon"
            ) from None
    if factory:
        target = _call_factory(spec, target)
        return App(spec, _classify(f'the result of --factory "{spec}"', target, True), target)
    return App(spec, _classify(f'"{spec}"', target), target)


def _call_factory(spec: str, factory: Any) -> Any:
    if not callable(factory) or isinstance(factory, Supervisor):
        raise AppError(f'--factory: "{spec}" is {_describe(factory)}; expected a function')
    if _is_async(factory):
        raise AppError(
            f'--factory: "{spec}" is `async def`; a factory is a plain function returning '
            "the app (or drop --factory to run it as the app)"
        )
    required = required_positional(factory)
    if required:
        raise AppError(f'--factory: "{spec}" takes {_required(required)}; give it none')
    try:
        return factory()
    except Exception as exc:
        raise _raised(f'--factory: calling "{spec}"', exc, "fix the factory") from None


def _import(module_name: str, directory: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise AppError(
                f'cannot find module "{module_name}" in {directory} or on sys.path: '
                "check the name, or pass --app-dir DIR"
            ) from None
        raise AppError(
            f'module "{module_name}" imports "{missing}", which is not installed: install it'
        ) from None
    except SyntaxError as exc:
        raise AppError(
            f'module "{module_name}" has a syntax error at {exc.filename}:{exc.lineno}: {exc.msg}'
        ) from None
    except Exception as exc:
        raise _raised(f'importing module "{module_name}"', exc, "fix the module") from None


def _raised(what: str, exc: Exception, fix: str) -> AppError:
    """``what`` raised ``exc``: one line naming the exception and where it was raised."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return AppError(
        f"{what} raised {type(exc).__name__}: {exc} (at {frame.filename}:{frame.lineno}): {fix}"
    )


def _classify(what: str, target: Any, from_factory: bool = False) -> AppKind:
    """The kind of app ``target`` is (``what`` names it in errors)."""
    if isinstance(target, Supervisor):
        return "tree"
    if isinstance(target, type):
        raise AppError(
            f"{what} is a class ({target.__qualname__}); expected {_EXPECTED} "
            "(an actor class is spawned from such a main, with `await system.spawn(...)`)"
        )
    if not callable(target):
        raise AppError(f"{what} is {_describe(target)}; expected {_EXPECTED}")
    if inspect.isasyncgenfunction(target):
        raise AppError(f"{what} is an async generator function (it yields); expected {_EXPECTED}")
    if not _is_async(target):
        hint = "" if from_factory else ", or pass --factory if it returns the app"
        raise AppError(f"{what} is a plain function; make it `async def` ({_EXPECTED}){hint}")
    keyword_only = _required_keyword_only(target)
    if keyword_only:
        raise AppError(
            f"{what} has a required keyword-only parameter ({', '.join(keyword_only)}); the "
            "launcher passes the ActorSystem as the only positional argument: write "
            "`async def main(system)` or `async def main()`"
        )
    required = required_positional(target)
    if required == 0:
        return "main"
    if required == 1:
        return "main_with_system"
    raise AppError(f"{what} takes {_required(required)}; give it none or one (the ActorSystem)")


def _required(count: int | None) -> str:
    return f"{count} required parameter{'' if count == 1 else 's'}"


def _required_keyword_only(target: Any) -> list[str]:
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]


def _is_async(target: Any) -> bool:
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004 - an instance with async __call__
    )


def _describe(target: Any) -> str:
    if target is None:
        return "None"
    kind = type(target).__name__
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind} ({target!r:.40})"
