"""The "hash" policy's hash: stable across processes and runs, unlike Python's ``hash()``.

Python randomizes ``hash()`` of str and bytes per process (``PYTHONHASHSEED``), so a
sharded pool using it would send a key to another member after every restart of the
program, and two processes would not agree. :func:`stable_hash` hashes a canonical
encoding of the key with BLAKE2b instead. Keys are ``str``, ``bytes`` (or ``bytearray``),
``int`` (``bool`` included: ``True`` is ``1``, as for ``==``) and tuples of those, nested
at will; equal keys encode alike. Anything else is refused with ``TypeError``: a float or
an object has no canonical encoding to rely on.

Stdlib only: a pool sent to an actor (``_inside/peer_pool.py``) hashes there too.
"""

from __future__ import annotations

import hashlib

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ("KEY_TYPES", "pick", "stable_hash")

KEY_TYPES = "str, bytes, int or a tuple of them"  # (no typing: actors import this)


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


def pick(
    pool: str,
    policy: str,
    key: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    turn: int,
    count: int,
    load: Callable[[int], int],
) -> int:
    """The index of the member a message goes to, per ``policy``, among ``count``.

    ``turn`` is the pool's next turn (round robin, and the start of least_busy's search:
    ties go in turn, so idle members share the work); ``load(i)`` is member ``i``'s load,
    read only as the search reaches it (an idle member is taken at once).
    """
    if policy == "round_robin":
        return turn % count
    if policy == "hash":
        if key is not None:
            value = key(*args, **kwargs)
        elif args:
            value = args[0]
        else:
            raise TypeError(
                f"pool {pool!r} hashes the first argument: pass one, or give the pool a key= "
                "function"
            )
        try:
            return stable_hash(value) % count
        except TypeError as exc:
            raise TypeError(
                f"pool {pool!r} hashes the message's key: {exc}; give the pool a key= "
                "function that returns one"
            ) from None
    start = turn % count
    best, least = start, load(start)
    for i in range(start + 1, start + count):
        if not least:
            break
        index = i % count
        current = load(index)
        if current < least:
            best, least = index, current
    return best
