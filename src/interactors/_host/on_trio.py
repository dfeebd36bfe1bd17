"""The reply pump's trio side: the waiter of an ask, and the task that sends each turn's batch.

trio is imported lazily (an asyncio host never loads it) and its low-level calls are bound
once: importing trio and outcome on every ask and answer cost more than the rest of the
waiter (profile of 100 callers).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Generator
from typing import Any

_TRIO: Any = None  # trio's low-level calls, looked up once (see api)


def api() -> Any:
    """trio's low-level calls that the pump uses, bound once."""
    global _TRIO
    if _TRIO is not None:
        return _TRIO
    from types import SimpleNamespace

    import outcome
    import trio

    low = trio.lowlevel
    trap = _parking_trap()
    direct = trap is not None and _direct_wake_protected(low)
    _TRIO = SimpleNamespace(
        reschedule=low.reschedule,
        Value=outcome.Value,
        current_task=low.current_task,
        wait_task_rescheduled=low.wait_task_rescheduled,
        park=trap if direct else low.wait_task_rescheduled,
        wake=_wake_direct if direct else _wake_public,
        checkpoint_if_cancelled=low.checkpoint_if_cancelled,
        SUCCEEDED=low.Abort.SUCCEEDED,
    )
    return _TRIO


def _parking_trap() -> Callable[[Callable[[Any], Any]], Any] | None:
    """``wait_task_rescheduled`` in one frame instead of two, or None where this trio
    does not have what it takes (then the public call is used).

    ``wait_task_rescheduled(abort)`` is ``(await _async_yield(WaitTaskRescheduled(abort)))
    .unwrap()``: a coroutine that awaits a generator that yields the trap to trio's
    scheduler. Yielding the same trap from one generator does what it does with a frame
    less to create and to resume, on every ask that waits (100 callers on trio: 180k ->
    186k asks/s). ``WaitTaskRescheduled`` is not public, hence the fallback; the tests
    run both.

    The scheduler resumes the task by sending it what ``reschedule`` was given. An
    answer comes as the envelope itself (a tuple, see :func:`_wake_direct`); anything
    else is an outcome of trio's (a cancellation), unwrapped as trio's call does."""
    probe = object()
    try:
        from trio._core import _traps

        trap: Any = _traps.WaitTaskRescheduled
        if trap(abort_func=probe).abort_func is not probe:
            return None  # pragma: no cover - a trio whose trap holds something else
    except Exception:  # pragma: no cover - a trio that moved or changed it
        return None

    @types.coroutine
    def park(abort: Callable[[Any], Any]) -> Generator[Any, Any, Any]:
        got = yield trap(abort)
        return got if type(got) is tuple else got.unwrap()

    return park


def _wake_direct(task: Any, envelope: tuple[Any, ...]) -> None:
    """Resume ``task``, parked by :func:`_parking_trap`'s park, with ``envelope``.

    The task's runner is called without ``trio.lowlevel.reschedule``'s wrapper, and with
    no ``outcome.Value`` around the envelope: the park takes the tuple as it comes (100
    callers on trio, profile: the wrapper, the Value and its unwrap were 4 of the 11
    calls per answer). Protected from Ctrl-C as the wrapper is (see
    :func:`_direct_wake_protected`): a KeyboardInterrupt half-way through the runner's
    bookkeeping would leave the task neither parked nor scheduled."""
    task._runner.reschedule(task, envelope)


def _wake_public(task: Any, envelope: tuple[Any, ...]) -> None:
    trio = _TRIO or api()
    trio.reschedule(task, trio.Value(envelope))


def _direct_wake_protected(low: Any) -> bool:
    """Protect :func:`_wake_direct` from Ctrl-C; False where this trio cannot do that
    without a wrapper (older trios wrap the function; newer ones mark its code), or its
    tasks do not name their runner: then the public calls are used."""
    try:
        import attrs

        if "_runner" not in attrs.fields_dict(low.Task):
            return False  # pragma: no cover - a trio whose tasks changed
        return low.enable_ki_protection(_wake_direct) is _wake_direct
    except Exception:  # pragma: no cover - a trio that changed
        return False


class TrioWaiter:
    """The reply to one ask, for a task parked with ``wait_task_rescheduled``."""

    __slots__ = ("task", "value")

    def __init__(self) -> None:
        self.task: Any = None
        self.value: Any = None

    def resolve(self, envelope: tuple[Any, ...]) -> None:
        if self.task is not None:
            task, self.task = self.task, None
            (_TRIO or api()).wake(task, envelope)
        else:
            self.value = envelope

    def take(self) -> tuple[Any, ...] | None:
        value: tuple[Any, ...] | None = self.value
        return value

    def _abort(self, _raise_cancel: Any) -> Any:
        self.task = None
        return (_TRIO or api()).SUCCEEDED

    def wait(self) -> Any:
        """What to await: trio's own park, with no coroutine of this waiter's between
        (each layer is one more frame to resume on every answer)."""
        trio = _TRIO or api()
        if self.value is not None:
            return self._ready()
        self.task = trio.current_task()
        return trio.park(self._abort)

    async def _ready(self) -> tuple[Any, ...]:
        await (_TRIO or api()).checkpoint_if_cancelled()
        return self.value  # type: ignore[no-any-return]


class Flusher:
    """Runs what the host's :class:`~.mailbox.Coalescer` schedules on the next turn.

    ``TrioToken.run_sync_soon`` would do, but it wakes trio's I/O loop through a socket
    (a send, an epoll wake-up and a recv) and a system task, once per batch of tells and
    asks. This task is parked instead, and woken with ``reschedule``: it runs in the
    scheduler's next batch, as that callback would. Only the loop's thread calls
    :meth:`soon` (refs refuse other threads). While the task is not there (before it
    starts, once it ends) ``fallback`` runs the calls.
    """

    def __init__(self, fallback: Callable[[Callable[[], None]], object]) -> None:
        self.fallback = fallback
        self.calls: list[Callable[[], None]] = []
        self.parked: Any = None  # the task, while it waits for calls
        self.running = False
        self.closed = False

    def soon(self, fn: Callable[[], None]) -> None:
        if not self.running:
            self.fallback(fn)
            return
        self.calls.append(fn)
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        task, self.parked = self.parked, None
        if task is not None:
            (_TRIO or api()).reschedule(task)

    def _abort(self, _raise_cancel: Any) -> Any:
        self.parked = None
        return (_TRIO or api()).SUCCEEDED

    async def run(self) -> None:
        trio = _TRIO or api()
        self.running = True
        try:
            while True:
                self._call()
                if self.closed:
                    return
                self.parked = trio.current_task()
                await trio.wait_task_rescheduled(self._abort)
        finally:
            self.running = False
            self.parked = None
            self._call()  # (what came while it was cancelled: at once)

    def _call(self) -> None:
        while self.calls:
            calls, self.calls = self.calls, []
            for fn in calls:
                fn()
