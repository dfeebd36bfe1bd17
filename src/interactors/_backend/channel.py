"""Frames between the host and an actor that lives in another process.

A process actor is reached over one ``AF_UNIX`` socket pair. Each frame is a 4-byte
little-endian length followed by a ``marshal`` dump of a tuple of plain values: the same
envelopes that cross-interpreter queues carry (memoryviews arrive as ``bytes``). marshal
is fast and, for these types, safe: both ends are the same Python running interactors.

Frame kinds::

    host -> child   (TO_MAILBOX, envelope)   put on the child's mailbox queue
                    (TO_CONTROL, envelope)   put on the child's control queue, wake it
                    (TO_REPLIES, envelope)   a reply to one of the actor's own asks
                    (CONFIG, config, address, reply_to)   the first frame only
    child -> host   (PUT, qid, fd, flag, envelope)   put on a host queue; write ``fd``
                                                     unless ``flag`` names a clear flag
                    (EXIT_INFO, info)        how the worker ended (None: it returned)

Stdlib only: imported in the actor's process before anything else of interactors.
"""

from __future__ import annotations

import marshal

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

TO_MAILBOX: Final = 1
TO_CONTROL: Final = 2
TO_REPLIES: Final = 3
CONFIG: Final = 4
PUT: Final = 5
EXIT_INFO: Final = 6

_dumps = marshal.dumps
_loads = marshal.loads


def frame(item: tuple[Any, ...]) -> bytes:
    """One frame: length prefix and the marshalled tuple."""
    data = _dumps(item)
    return len(data).to_bytes(4, "little") + data


class FrameReader:
    """Reassembles frames from the bytes a socket delivers, in any chunking."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[Any, ...]]:
        """Add received bytes; return the frames now complete, in order."""
        buffer = self._buffer
        buffer += data
        frames: list[tuple[Any, ...]] = []
        start, end = 0, len(buffer)
        while end - start >= 4:
            size = int.from_bytes(buffer[start : start + 4], "little")
            if end - start - 4 < size:
                break
            frames.append(_loads(buffer[start + 4 : start + 4 + size]))
            start += 4 + size
        if start:
            del buffer[:start]
        return frames
