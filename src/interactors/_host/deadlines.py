"""The host's side of hang detection: abandon actors stuck past their handler deadline.

The watchdog inside each actor's interpreter interrupts a handler that runs past
``handler_timeout``; this loop, on the host, catches what it cannot interrupt (a call
blocked in C): a handler still busy after its deadline plus the shutdown timeout is
abandoned (see :func:`check_deadline`). It polls coarsely, a quarter of the
shortest deadline, between 20 ms and 0.5 s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import anyio

from .._wire import slots as S
from .cell import ActorCell
from .messaging import RESTARTING, W_SERVING

__all__ = ("watch_deadlines",)


async def watch_deadlines(cells: Mapping[int, ActorCell]) -> None:
    """Check every cell's deadline forever (run it in the system's task group)."""
    while True:
        timeouts = [c.handler_timeout for c in cells.values() if c.handler_timeout]
        await anyio.sleep(min(max(min(timeouts, default=1.0) / 4, 0.02), 0.5))
        now = time.monotonic_ns()
        for cell in list(cells.values()):
            check_deadline(cell, now)


def check_deadline(cell: ActorCell, now_ns: int) -> None:
    """Abandon ``cell``'s incarnation if it is stuck past its deadline and grace."""
    if not cell.handler_timeout or cell.worker != W_SERVING:
        return
    fields, base = cell.fields, cell.base
    beat = fields[base + S.HEARTBEAT]
    if beat:  # an async actor: its loop's heartbeat must stay fresh
        busy = (now_ns - beat) / 1e9
    elif fields[base + S.CURRENT_SEQ]:
        busy = (now_ns - fields[base + S.BUSY_SINCE]) / 1e9
    else:
        return
    if busy > cell.handler_timeout + cell.shutdown_timeout:
        cell.abandon(f"was stuck in a handler for {busy:.1f} s")
        cell.exit_reason = f"hung for {busy:.1f} s"
        cell.state = RESTARTING
        cell.system._count("hung")
        cell._tell_owner(f"hung for {busy:.1f} s", abnormal=True)
