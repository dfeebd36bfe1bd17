"""The host's side of hang detection: abandon actors stuck past their handler deadline.

The watchdog inside each actor's interpreter interrupts a handler that runs past
``handler_timeout``; this loop, on the host, catches what it cannot interrupt (a call
blocked in C): a handler still busy after its deadline plus the shutdown timeout is
abandoned (see :meth:`ActorCell.check_deadline`). It polls coarsely, a quarter of the
shortest deadline, between 20 ms and 0.5 s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import anyio

from .cell import ActorCell

__all__ = ("watch_deadlines",)


async def watch_deadlines(cells: Mapping[int, ActorCell]) -> None:
    """Check every cell's deadline forever (run it in the system's task group)."""
    while True:
        timeouts = [c.handler_timeout for c in cells.values() if c.handler_timeout]
        await anyio.sleep(min(max(min(timeouts, default=1.0) / 4, 0.02), 0.5))
        now = time.monotonic_ns()
        for cell in list(cells.values()):
            cell.check_deadline(now)
