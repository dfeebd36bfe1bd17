"""Loading an actor's class inside its interpreter, and describing failures as plain values.

Stdlib only: runs inside actors' interpreters.
"""

from __future__ import annotations

import os
import sys

from .._exceptions import ActorError

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final


# re, traceback and importlib are imported where needed: this module loads in every
# actor, and they cost memory that an actor that never fails should not pay.
_ISOLATION_MARKS: Final = (
    r"module (?P<name>\S+) does not support loading in subinterpreters"
    r"|(?P<other>\S+) (?:cannot|does not support being) (?:be )?(?:imported|loaded)"
    r" in sub-?interpreters"
)


_CO_COROUTINE: Final = 0x80


def is_async(fn: Any) -> bool:
    """True for an ``async def`` function (without importing inspect or asyncio)."""
    code = getattr(fn, "__code__", None)
    return bool(code is not None and code.co_flags & _CO_COROUTINE)


def error_payload(exc: BaseException) -> tuple[str, str, str, bytes | None]:
    """Describe an exception with plain values; the pickled exception when it pickles.

    An ``ActorError`` that a handler let through (an actor this one asked raised) is
    described as the error it carries, with that error's type, message and original
    exception, and the traceback of both actors: a caller sees the same error however many
    actors it went through. Never raises: an exception whose ``__str__`` or ``__repr__``
    raises, that cannot be formatted or pickled, is still described (what failed is said
    in its place).
    """
    if type(exc) is ActorError:
        cause = exc.__cause__
        message = exc.remote_message
        text = _formatted(exc, exc.type_name, message)
        return exc.type_name, message, text, None if cause is None else _pickled(cause)
    kind = type(exc)
    try:
        type_name = (
            kind.__qualname__
            if kind.__module__ == "builtins"
            else f"{kind.__module__}.{kind.__qualname__}"
        )
    except BaseException:
        type_name = "<unnamed exception type>"
    try:
        # An ActorError's str() ends with its remote traceback, which `text` shows.
        message = exc.args[0] if isinstance(exc, ActorError) else str(exc)
    except BaseException as failure:
        message = f"<str() of the exception raised {_name_of(failure)}>"
    return type_name, message, _formatted(exc, type_name, message), _pickled(exc)


def _formatted(exc: BaseException, type_name: str, message: str) -> str:
    try:
        import traceback

        return "".join(traceback.format_exception(exc))
    except BaseException as failure:
        return (
            f"{type_name}: {message}\n(its traceback could not be formatted: {_name_of(failure)})\n"
        )


def _pickled(exc: BaseException) -> bytes | None:
    try:
        import pickle

        blob = pickle.dumps(exc, 5)
        pickle.loads(blob)
    except BaseException:
        return None  # described by name, message and traceback only
    return blob


def _name_of(exc: BaseException) -> str:
    try:
        return type(exc).__qualname__
    except BaseException:  # pragma: no cover - a type always has a name
        return "an exception"


def isolation_extension(exc: BaseException | None) -> str | None:
    """The extension module that refused to load in this own-GIL interpreter, if that is why."""
    while exc is not None:
        if isinstance(exc, ImportError):
            import re

            found = re.search(_ISOLATION_MARKS, str(exc), re.IGNORECASE)
            if found:
                name = found.group("name") or found.group("other") or exc.name or "?"
                return _qualify_module(name, exc)
        exc = exc.__cause__ or exc.__context__
    return None


def _qualify_module(name: str, exc: BaseException) -> str:
    """CPython names a refused extension by its last component on first import
    (``_core``); find the package it belongs to from the importing frames."""
    if "." in name:
        return name
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        directory = os.path.dirname(frame.filename)
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        if any(
            entry.startswith(name + ".") and entry.endswith((".so", ".pyd")) for entry in entries
        ):
            package = _package_of(directory)
            return f"{package}.{name}" if package else name
    return name


def _package_of(directory: str) -> str:
    parts: list[str] = []
    while os.path.exists(os.path.join(directory, "__init__.py")):
        parts.append(os.path.basename(directory))
        directory = os.path.dirname(directory)
    return ".".join(reversed(parts))


def _import(name: str) -> Any:
    """``importlib.import_module`` for an absolute name, without loading importlib."""
    __import__(name)
    return sys.modules[name]


def _import_main(main_path: str) -> Any:
    """Import the host's main script as ``__mp_main__`` (as multiprocessing's spawn does).

    ``main_path`` is the script's file, or ``module:NAME`` when the host ran ``python -m NAME``.
    """
    if main_path.startswith("module:"):
        module = _import(main_path.removeprefix("module:"))
        sys.modules["__mp_main__"] = sys.modules["__main__"] = module
        return module
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("__mp_main__", main_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the main script {main_path!r}")
    module = module_from_spec(spec)
    sys.modules["__mp_main__"] = module
    spec.loader.exec_module(module)
    sys.modules["__main__"] = module
    return module


def main_loader(main_path: str) -> Any:
    """For the codec (``_wire.codec.load_main``): load the host's main script once, when a
    value of one of its classes first arrives; True if it was loaded just now."""

    def load_main() -> bool:
        if not main_path or "__mp_main__" in sys.modules:
            return False
        try:
            _import_main(main_path)
        except BaseException:
            sys.modules.pop("__mp_main__", None)  # (the next value tries again, and says why)
            raise
        return True

    return load_main


def resolve_class(target: str, main_path: str) -> Any:
    """The object named by ``"module:Qual.Name"``, importing the module (raises on failure)."""
    module_name, _, qualname = target.partition(":")
    if module_name == "__main__":
        module = sys.modules.get("__mp_main__") or _import_main(main_path)
    else:
        module = _import(module_name)
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    if not isinstance(obj, type):
        raise TypeError(
            f"{target} is {_a(type(obj).__name__)}, not a class: spawn takes an actor class "
            "(an interactors.Actor subclass) or its import path 'package.module:Class'"
        )
    return obj


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


# Imported for their side effects alone: never imported ahead of an actor that wants them.
_NEVER_AHEAD: Final = frozenset({"antigravity", "this", "idlelib", "tkinter", "turtle"})


def _ahead(name: str) -> bool:
    return (
        name in sys.stdlib_module_names and not name.startswith("_") and (name not in _NEVER_AHEAD)
    )


def resolve_recording(target: str, main_path: str) -> tuple[Any, tuple[str, ...]]:
    """:func:`resolve_class`, and the standard library's top-level public modules that
    loading the class needed, in the order they were first imported: those it imported,
    and those its code imports that were imported already (an ``import`` statement goes
    through ``builtins.__import__`` either way). What a spare interpreter can import
    ahead of the next actor of the kind (see the host's pool)."""
    import builtins

    before = set(sys.modules)
    original = builtins.__import__
    named: dict[str, None] = {}

    def recording(name: str, *args: Any, **kwargs: Any) -> Any:
        level = args[3] if len(args) > 3 else kwargs.get("level", 0)
        if not level:
            named[name.partition(".")[0]] = None
        return original(name, *args, **kwargs)

    builtins.__import__ = recording
    try:
        cls = resolve_class(target, main_path)
    finally:
        if builtins.__import__ is recording:  # (unless the module installed its own)
            builtins.__import__ = original
    names: dict[str, None] = {}
    for name in list(sys.modules):
        top = name.partition(".")[0]
        if top not in before and _ahead(top):
            names[top] = None
    names.update((name, None) for name in named if _ahead(name))
    return cls, tuple(names)
