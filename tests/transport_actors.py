"""Actors for the transport tests. Stdlib only: imported inside isolated interpreters."""

from __future__ import annotations

import pickle

import interactors


class Buffers(interactors.Actor):
    """Hands out views of memory it allocated itself."""

    def view(self, size: int) -> memoryview:
        return memoryview(bytearray(b"v" * size))

    def pickle_buffer(self, size: int) -> pickle.PickleBuffer:
        return pickle.PickleBuffer(bytearray(b"p" * size))

    def echo(self, value: object) -> object:
        return value

    def length(self, value: memoryview) -> int:
        return len(value)

    def count(self, n: int) -> int:
        return n
