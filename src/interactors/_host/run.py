"""``interactors.run(main)``: run an async program that uses actors, like ``anyio.run``.

If ``main`` takes a parameter and no arguments are given, it is passed a started
:class:`~interactors.ActorSystem` (stopped again when ``main`` returns).

Ctrl-C (SIGINT, when called from the main thread): the first one cancels ``main`` and
stops every actor gracefully (each within its shutdown timeout), then ``run`` raises
``KeyboardInterrupt``; a second one, while actors are still stopping, ends the process at
once with exit code 130 and a one-line message. Actors that could not be stopped never
make the process hang at exit: see ``ActorSystem``.
"""

from __future__ import annotations

import inspect
import signal
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .exit_guard import leave_now
from .system import ActorSystem
from .target import check_not_importing_main

__all__ = ("FORCED_EXIT_CODE", "required_positional", "run", "wants_system")

FORCED_EXIT_CODE = 128 + signal.SIGINT
"""The exit code after a second Ctrl-C (130, the shell's code for SIGINT)."""


def required_positional(main: Callable[..., Any]) -> int | None:
    """How many positional parameters without a default ``main`` has (None: unknown)."""
    try:
        params = inspect.signature(main).parameters.values()
    except (TypeError, ValueError):
        return None
    return sum(
        1
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    )


def wants_system(main: Callable[..., Any]) -> bool:
    """True when ``main`` takes exactly one positional parameter (the system)."""
    return required_positional(main) == 1


def run(
    main: Callable[..., Awaitable[Any]],
    *args: Any,
    backend: str = "asyncio",
    backend_options: dict[str, Any] | None = None,
    **system_options: Any,
) -> Any:
    """Run ``main(*args)`` on ``backend`` (``"asyncio"`` or ``"trio"``) and return its result.

    ``system_options`` configure the :class:`ActorSystem` given to a ``main(system)``.
    Raises ``KeyboardInterrupt`` after a Ctrl-C once every actor has stopped (see the
    module docstring), and ``RuntimeError`` when called while an actor's interpreter
    imports the main script (the script lacks ``if __name__ == "__main__":``).
    """
    check_not_importing_main("interactors.run()")
    interrupted = False

    async def body() -> Any:
        if not args and wants_system(main):
            async with ActorSystem(**system_options) as system:
                return await main(system)
        return await main(*args)

    async def watch_sigint(scope: anyio.CancelScope, *, task_status: Any) -> None:
        nonlocal interrupted
        with anyio.open_signal_receiver(signal.SIGINT) as signals:
            task_status.started()
            async for _ in signals:
                if interrupted:
                    leave_now(FORCED_EXIT_CODE, "received SIGINT again: forced exit")
                interrupted = True
                scope.cancel()

    async def entry() -> Any:
        if threading.current_thread() is not threading.main_thread():
            return await body()  # signals are only delivered to the main thread
        result: Any = None
        error: BaseException | None = None
        scope = anyio.CancelScope()
        async with anyio.create_task_group() as tg:
            await tg.start(watch_sigint, scope)
            try:
                with scope:
                    result = await body()
            except BaseException as exc:  # re-raised below, not wrapped in a group
                error = exc
            tg.cancel_scope.cancel()
        if error is not None:
            raise error
        return result

    result = anyio.run(entry, backend=backend, backend_options=backend_options)
    if interrupted:
        raise KeyboardInterrupt  # here, so that its traceback is the caller's line
    return result
