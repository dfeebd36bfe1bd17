"""The "hash" policy's hash: stable across processes and runs, unlike Python's ``hash()``.

Python randomizes ``hash()`` of str and bytes per process (``PYTHONHASHSEED``), so a
sharded pool using it would send a key to another member after every restart of the
program, and two processes would not agree. :func:`stable_hash` hashes a canonical
encoding of the key with BLAKE2b instead. Keys are ``str``, ``bytes`` (or ``bytearray``),
``int`` (``bool`` included: ``True`` is ``1``, as for ``==``) and tuples of those, nested
at will; equal keys encode alike. Anything else is refused with ``TypeError``: a float or
an object has no canonical encoding to rely on.
"""

from __future__ import annotations

import hashlib
from typing import Final

__all__ = ("KEY_TYPES", "stable_hash")

KEY_TYPES: Final = "str, bytes, int or a tuple of them"


def stable_hash(key: object) -> int:
    """A 64-bit hash of ``key`` that is the same in every process and every run."""
    if isinstance(key, str):  # the common case, without building a bytearray
        data = b"s" + key.encode("utf-8", "surrogatepass")
    else:
        out = bytearray()
        _encode(key, out)
        data = bytes(out)
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest())


def _encode(key: object, out: bytearray) -> None:
    if isinstance(key, str):
        _framed(out, b"s", key.encode("utf-8", "surrogatepass"))
    elif isinstance(key, bytes | bytearray):
        _framed(out, b"b", bytes(key))
    elif isinstance(key, int):
        _framed(out, b"i", key.to_bytes((key.bit_length() + 8) // 8, signed=True))
    elif isinstance(key, tuple):
        out += b"t" + len(key).to_bytes(4)
        for item in key:
            _encode(item, out)
    else:
        raise TypeError(f"keys are {KEY_TYPES}, got {type(key).__name__} {key!r}")


def _framed(out: bytearray, tag: bytes, payload: bytes) -> None:
    out += tag + len(payload).to_bytes(4) + payload
