"""Types shared by the backend implementations. Stdlib only."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Final


class RunFailure:
    """An exception that escaped code run in an interpreter, as a description.

    CPython does not propagate the exception object across interpreters; it reports the
    type's qualified name, the message and the formatted traceback. (A plain class, not a
    dataclass: actors import this, and dataclasses pulls in a few MiB of modules.)
    """

    __slots__ = ("message", "traceback", "type_name")

    def __init__(self, type_name: str, message: str, traceback: str) -> None:
        self.type_name = type_name
        self.message = message
        self.traceback = traceback

    def __repr__(self) -> str:
        return f"RunFailure({self.type_name!r}, {self.message!r})"


class _Unbound:
    """Marker for a queue item whose sending interpreter was destroyed before delivery."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNBOUND"


UNBOUND: Final = _Unbound()
