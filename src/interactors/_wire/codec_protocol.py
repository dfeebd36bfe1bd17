"""The :class:`Codec` protocol (host side: it imports typing, which actors need not load)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

Encoded = bytes | tuple[Any, ...]


@runtime_checkable
class Codec(Protocol):
    """Turns a payload into bytes (or a tuple of bytes and buffers) and back.

    ``spec`` is the string the actor's interpreter uses to build the same codec. ``encode``
    raises :class:`~interactors.EncodeError` for values it cannot carry.
    """

    spec: str

    def encode(self, obj: Any) -> Encoded: ...

    def decode(self, data: Encoded) -> Any: ...
