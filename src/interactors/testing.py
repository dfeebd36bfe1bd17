"""Helpers for testing code that uses interactors: inject real faults into real actors.

Every helper works on any actor, with no change to its class: the fault runs inside the
actor's interpreter in place of a handler, so the actor's ``on_error`` policy, its
``handler_timeout`` watchdog and its supervisor react exactly as they would in production::

    from interactors import testing

    await testing.crash(ref)                       # a handler raises InjectedFault
    await testing.exit_actor(ref, code=1)          # SystemExit in the actor's thread
    await testing.hang(ref, seconds=10)            # a busy loop (the watchdog can break it)
    await testing.hang(ref, seconds=2, in_c=True)  # blocked in C: only abandonment helps
    await testing.fail_next_start(ref, times=3)    # the next 3 (re)starts raise
    await testing.wait_restarts(ref, 1)            # until the actor has restarted once
"""

from __future__ import annotations

from ._exceptions import ActorError
from ._inside.faults import PREFIX, InjectedFault

TYPE_CHECKING = False  # stdlib only at import: actors unpickle InjectedFault from here
if TYPE_CHECKING:
    from typing import Any

    from ._host.ref import ActorRef

__all__ = ("InjectedFault", "crash", "exit_actor", "fail_next_start", "hang", "wait_restarts")


async def _inject(ref: ActorRef, kind: str, *args: Any) -> ActorError | None:
    cell = ref._cell
    try:
        await cell.ask(PREFIX + kind, args, {})
    except ActorError as error:
        return error
    return None


async def crash(ref: ActorRef, message: str = "injected crash") -> ActorError:
    """Make a handler of ``ref`` raise :class:`InjectedFault`; return the error the caller
    saw (``ActorCrashed`` under ``on_error="restart"``/``"stop"``, else ``ActorError``)."""
    error = await _inject(ref, "raise", message)
    assert error is not None
    return error


async def exit_actor(ref: ActorRef, code: int = 1) -> ActorError:
    """Raise ``SystemExit(code)`` in the actor's thread: its interpreter's run ends."""
    error = await _inject(ref, "exit", code)
    assert error is not None
    return error


async def hang(ref: ActorRef, seconds: float, in_c: bool = False) -> None:
    """Keep the actor busy for ``seconds`` without waiting for it: a Python busy loop, or
    (``in_c=True``) a ``time.sleep`` that no watchdog can interrupt."""
    cell = ref._cell
    await cell.tell(PREFIX + ("block" if in_c else "spin"), (float(seconds),), {})


async def fail_next_start(ref: ActorRef, times: int = 1) -> None:
    """Make the actor's next ``times`` starts or restarts raise in ``__init__``."""
    await _inject(ref, "fail_start", times)


async def wait_restarts(ref: ActorRef, count: int, timeout: float = 10.0) -> None:
    """Wait until ``ref.statistics().restarts >= count`` (``TimeoutError`` after ``timeout``)."""
    import anyio

    with anyio.fail_after(timeout):
        # Restarts are counted in shared memory, not signalled: look every 5 ms.
        while ref.statistics().restarts < count:  # noqa: ASYNC110
            await anyio.sleep(0.005)
