"""An actor whose module does not import ``warnings`` (tests/test_actor_logs.py)."""

from __future__ import annotations

import sys

import interactors


async def _never_awaited() -> None:
    pass


class LateWarner(interactors.Actor):
    def warnings_imported(self) -> bool:
        return "warnings" in sys.modules

    def warn(self, text: str) -> None:
        import warnings

        warnings.warn(text, UserWarning, stacklevel=1)

    def drop_a_coroutine(self) -> None:
        _never_awaited()  # type: ignore[unused-coroutine]  # CPython warns when it is freed
