"""Creating and destroying interpreters, on the host only (an actor's interpreter never
loads this module): the lock they are made and destroyed under, the join of the threads an
actor left, what a failed creation leaves open, and how a failure of run code is reported.

Stdlib only. Every backend implementation's host half uses it.
"""

from __future__ import annotations

import _thread
import importlib
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final


class RunFailure:
    """An exception that escaped code run in an interpreter, as a description.

    CPython does not propagate the exception object across interpreters; it reports the
    type's qualified name, the message and the formatted traceback. (A plain class, not a
    dataclass: actors import this, and dataclasses pulls in a few MiB of modules.)
    """

    __slots__ = ("message", "traceback", "type_name")

    def __init__(self, type_name: str, message: str, traceback: str) -> None:
        self.type_name = type_name
        self.message = message
        self.traceback = traceback

    def __repr__(self) -> str:
        return f"RunFailure({self.type_name!r}, {self.message!r})"


def failure_from(info: Any) -> RunFailure:
    """A :class:`RunFailure` from CPython's exception snapshot, whichever parts it has.

    A snapshot taken when formatting itself failed (out of file descriptors, say) lacks
    the rendered traceback; the failure is still reported, with what there is.
    """
    kind = getattr(info, "type", None)
    type_name = str(getattr(kind, "__qualname__", None) or "Exception")
    tb = getattr(info, "errdisplay", None) or getattr(info, "formatted", None) or ""
    return RunFailure(type_name, str(getattr(info, "msg", "")), str(tb))


LIFECYCLE: Final = _thread.allocate_lock()
"""Held while an interpreter is created or destroyed: one at a time in the process.

Python 3.13.0 keeps process-wide counts that interpreters' creation and destruction
update without a lock: the ``_interpqueues`` module's instances (cpython#125716, see
``_v313.new_interpreter``), and creation itself can fail while another thread creates or
destroys an interpreter ("Failed to import encodings module", cpython#109700/#128381).
Doing it one at a time costs a spawn storm its overlap of creations on two cores.
"""


def share_static_types() -> None:
    """Set up, in the main interpreter, the static types that an extension module shares
    with every interpreter, before any actor's interpreter can (call before creating one).

    On CPython 3.13 ``_datetime`` (the C half of ``datetime``) is the one extension module
    with static types, and the first interpreter to import it sets them up without a lock.
    Two actors importing ``datetime`` for the first time at once corrupt the process's
    memory ("double free or corruption", then a crash; cpython#136421, #136423). Imported
    here first, the types are ready before any actor exists, and the main interpreter's
    hold on them outlives every actor's.
    """
    try:  # noqa: SIM105 - the one import, said plainly
        importlib.import_module("_datetime")
    except ImportError:  # a build without it: datetime then uses its pure Python half
        pass


JOIN_THREADS: Final = """
import sys, time
_threading = sys.modules.get("threading")
if _threading is not None:
    _deadline = time.monotonic() + timeout
    _skip = (_threading.current_thread(), _threading.main_thread())  # (the worker's)
    _left = [t for t in _threading.enumerate() if t not in _skip and not t.daemon]
    for _thread in _left:
        _thread.join(max(0.0, _deadline - time.monotonic()))
    _left = [t.name for t in _left if t.is_alive()]
    if _left:
        raise RuntimeError("threads its actor started are still running: " + ", ".join(_left))
"""
"""Run in an interpreter before it is destroyed (``timeout`` shared): wait for the threads
its actor started, at most ``timeout`` seconds.

Destroying an interpreter waits for them too, for as long as they run, and under
:data:`LIFECYCLE`, which would stop every spawn in the process meanwhile.
"""

THREADS_TIMEOUT: Final = 5.0
"""How long a destroy waits for the threads an actor left running (see JOIN_THREADS)."""


def open_fds() -> frozenset[str]:
    """The process's open file descriptors (Linux: ``/proc/self/fd``; else empty).

    The listing shows the directory's own fd too, closed by the time it returns: the lowest
    number then free, which the next file opened takes. It is left out, or a file opened
    next would look as if it was open before. That number is found by opening the
    directory once first (the lowest free number, taken again by the listing); an fd
    opened by another thread in between makes it miss, as before.
    """
    try:
        probe = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return frozenset()
    os.close(probe)
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return frozenset()
    return frozenset(names).difference((str(probe),))


def close_leaked_init_files(before: frozenset[str]) -> None:
    """Close what a failed interpreter creation left open (call it under LIFECYCLE).

    CPython 3.13 sometimes fails to create an interpreter with "Failed to import encodings
    module" (racy static-type state, cpython#127108) and abandons the half-built
    interpreter without finalizing it, so the ``encodings`` file it was reading stays open
    for good. Only that package's files are closed, and the abandoned file object is never
    finalized (no double close):

    * any fd on the package's ``__init__`` (source or cached): only an interpreter's
      creation reads it, and creations are serialized, so an open one is abandoned. (It may
      have the number of an fd that another thread closed during the creation, so it is
      not always new to ``before``);
    * an fd on another of its modules only if its number is new: an actor that imports a
      codec (``encodings.idna``, say) reads one of those files meanwhile.
    """
    for fd in open_fds():
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        folder, _, name = target.rpartition(os.sep)
        if folder.endswith(f"{os.sep}__pycache__"):
            folder = folder.rpartition(os.sep)[0]
        if not folder.endswith(f"{os.sep}encodings") or not name.endswith((".py", ".pyc")):
            continue
        if fd in before and not name.startswith("__init__."):
            continue
        try:  # noqa: SIM105 - contextlib stays out of actors' interpreters
            os.close(int(fd))
        except OSError:
            pass
