"""``interactors.run(main)``: run an async program that uses actors, like ``anyio.run``.

If ``main`` takes a parameter and no arguments are given, it is passed a started
:class:`~interactors.ActorSystem` (stopped again when ``main`` returns). If actors could
not be stopped (stuck in C code), the process still exits (code 1, with a report) instead
of hanging while Python joins their threads: see ``ActorSystem``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from .system import ActorSystem


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
    """

    async def entry() -> Any:
        if not args and wants_system(main):
            async with ActorSystem(**system_options) as system:
                return await main(system)
        return await main(*args)

    return anyio.run(entry, backend=backend, backend_options=backend_options)
