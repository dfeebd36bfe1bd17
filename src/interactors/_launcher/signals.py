"""Signals and hard exits for a program that owns its process (the launcher).

:class:`SignalLatch` catches SIGINT and SIGTERM from the first instructions of the launcher
on: a SIGTERM that arrives while the heavier modules are still importing would otherwise
kill the process with the default action. The launcher later reads what the latch caught
and hands the signals over to its event loop; the latch only forces the exit when a second
signal comes while no event loop is listening.

Stdlib only (and the stdlib-only exit guard), so that it can be imported before anything
else.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

TYPE_CHECKING = False  # no typing at run time: this loads before the signal handlers
if TYPE_CHECKING:
    from typing import Final


__all__ = ("SHUTDOWN_SIGNALS", "SignalLatch", "forced_exit_code")

SHUTDOWN_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


def forced_exit_code(signum: int) -> int:
    """The shell's code for a process ended by signal ``signum`` (130 for SIGINT)."""
    return 128 + signum


class SignalLatch:
    """Records SIGINT/SIGTERM until an event loop takes over; the second one forces exit.

    ``received`` lists the signals seen so far, in order, whoever caught them (the event
    loop's receiver appends to it too), so "second signal" means the same thing before,
    during and after the loop.
    """

    def __init__(self) -> None:
        self.received: list[int] = []

    def install(self) -> SignalLatch:
        """Handle SIGINT and SIGTERM with this latch (again, after a loop removed its own)."""
        for signum in SHUTDOWN_SIGNALS:
            signal.signal(signum, self._handle)
        return self

    def record(self, signum: int) -> bool:
        """Count a signal; True when it is the first one."""
        self.received.append(signum)
        return len(self.received) == 1

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        # The first one is for the launcher to act on (and to log, outside a handler).
        if not self.record(signum):
            code, why = forced_exit_code(signum), f"received {signal.Signals(signum).name} again"
            try:
                from .._host.exit_guard import leave_now  # logging: imported only when needed
            except Exception:  # it came in the middle of an import that one needs (weakref)
                os.write(2, f"leaving with exit code {code}: {why}\n".encode())
                os._exit(code)
            leave_now(code, why)
