"""``interactors.run(main)``: run an async program that uses actors, like ``anyio.run``.

If ``main`` takes a parameter and no arguments are given, it is passed a started
:class:`~interactors.ActorSystem` (stopped again when ``main`` returns). Actors that could
not be stopped (stuck in C code) would make the interpreter hang while finalizing, so in
that case the process leaves with ``os._exit`` after flushing its streams.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

import anyio

from ._signals import leave_now
from ._system import ActorSystem

_abandoned_total = 0


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


def note_abandoned(count: int) -> None:
    global _abandoned_total
    _abandoned_total += count


def run(
    main: Callable[..., Awaitable[Any]],
    *args: Any,
    backend: str = "asyncio",
    backend_options: dict[str, Any] | None = None,
    **system_options: Any,
) -> Any:
    """Run ``main(*args)`` on ``backend`` (``"asyncio"`` or ``"trio"``) and return its result.

    ``system_options`` configure the :class:`ActorSystem` given to a ``main(system)``.
    """

    async def entry() -> Any:
        if not args and wants_system(main):
            async with ActorSystem(**system_options) as system:
                try:
                    return await main(system)
                finally:
                    note_abandoned(len(system.statistics().abandoned))
        return await main(*args)

    try:
        return anyio.run(entry, backend=backend, backend_options=backend_options)
    finally:
        if _abandoned_total:
            exit_hard(1)


def exit_hard(code: int) -> NoReturn:
    """Leave now: a stuck actor's thread would hang interpreter finalization forever."""
    leave_now(code, "actors stuck in C code could not be stopped")
