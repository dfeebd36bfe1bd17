"""Faults that tests can inject into any actor (see :mod:`interactors.testing`).

A fault travels as an ask to a reserved method name that only the testing helpers use;
the worker runs it in place of a handler, so the actor's own policies (``on_error``,
``handler_timeout``) and its supervisor react exactly as they would to a real failure.

Stdlib only: runs inside actors' interpreters.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final


PREFIX: Final = "\x00fault:"


class InjectedFault(Exception):
    """The exception a ``crash`` fault raises inside the actor."""


# Its public home; interactors.testing loads without anyio, so that unpickling the
# exception inside an actor does not drag the host side in.
InjectedFault.__module__ = "interactors.testing"


def fault_raise(message: str) -> None:
    raise InjectedFault(message)


def fault_exit(code: int) -> None:
    raise SystemExit(code)


def fault_spin(seconds: float) -> None:
    """Busy-loop in Python: a watchdog can interrupt this."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def fault_block(seconds: float) -> None:
    """Block in C (``time.sleep``): nothing can interrupt this until it returns."""
    time.sleep(seconds)


FAULTS: Final[dict[str, Any]] = {
    "raise": fault_raise,
    "exit": fault_exit,
    "spin": fault_spin,
    "block": fault_block,
}
