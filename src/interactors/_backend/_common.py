"""Types shared by the backend implementations. Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class RunFailure:
    """An exception that escaped code run in an interpreter, as a description.

    CPython does not propagate the exception object across interpreters; it reports the
    type's qualified name, the message and the formatted traceback.
    """

    type_name: str
    message: str
    traceback: str


class _Unbound:
    """Marker for a queue item whose sending interpreter was destroyed before delivery."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNBOUND"


UNBOUND: Final = _Unbound()
