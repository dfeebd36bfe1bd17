"""A one-way ring of messages in memory shared by two processes, read without a syscall.

One writer and one reader, each in its own process. The ring is a header and ``CAP``
bytes of data in a mapping of one ``memfd``; ``tail`` (bytes written so far) is stored by
the writer only, ``head`` (bytes read so far) by the reader only, each an aligned 8-byte
word. A message is a 4-byte length, then its bytes, padded to 8; one that does not fit
before the end of the data starts again at its beginning, after a ``PAD`` length.

The writer copies a message in, then stores ``tail``; the reader loads ``tail``, then
the message. That order holds without fences only where stores are seen in the order
they were made and loads are not reordered with each other: x86-64 (``SUPPORTED``). The
``waiting`` word lets a reader that is about to sleep ask the writer for a wake-up; that
needs a full fence on both sides between the store and the load (see ``fence``).

Stdlib only: imported in a process actor's child too.
"""

from __future__ import annotations

import _thread
import marshal
import platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    import mmap
    from collections.abc import Callable
    from typing import Any, Final

__all__ = ("CAP", "HEADER", "SIZE", "SUPPORTED", "Ring", "fence")

SUPPORTED: Final = platform.machine().lower() in ("x86_64", "amd64")
HEADER: Final = 256  # tail, head and waiting, a cache line each
CAP: Final = 256 * 1024  # a power of two
SIZE: Final = HEADER + CAP  # one ring's share of the mapping
PAD: Final = 0xFFFFFFFF
_PAD_BYTES: Final = PAD.to_bytes(4, "little")
_TAIL, _HEAD, _WAITING = 0, 8, 16  # indices of the header's 8-byte words
_MASK: Final = CAP - 1

_loads = marshal.loads
_fence_lock = _thread.allocate_lock()


def fence() -> None:
    """A full memory fence on x86-64: taking and releasing a lock is a locked
    instruction, which no load or store is reordered across."""
    _fence_lock.acquire()
    _fence_lock.release()


class Ring:
    """One direction of the shared memory at ``offset`` of ``area``."""

    __slots__ = ("base", "data", "head", "tail", "words")

    def __init__(self, area: mmap.mmap, offset: int) -> None:
        self.base = memoryview(area)[offset : offset + SIZE]
        self.words = self.base[:HEADER].cast("Q")
        self.data = self.base[HEADER:]
        self.tail = self.words[_TAIL]
        self.head = self.words[_HEAD]

    def write(self, message: bytes) -> bool:
        """Writer: add ``message`` (at most ``CAP // 2`` bytes); False when full."""
        n = len(message)
        size = (n + 11) & ~7
        tail = self.tail
        pos = tail & _MASK
        room = CAP - pos
        if tail + (size if size <= room else room + size) - self.words[_HEAD] > CAP:
            return False
        data = self.data
        if size > room:  # (positions are multiples of 8: room is at least 8)
            data[pos : pos + 4] = _PAD_BYTES
            tail += room
            pos = 0
        data[pos : pos + 4] = n.to_bytes(4, "little")
        data[pos + 4 : pos + 4 + n] = message
        self.tail = tail + size
        self.words[_TAIL] = self.tail  # the message is complete before this store
        return True

    def read(self, deliver: Callable[[Any], object]) -> int:
        """Reader: unmarshal every message written so far into ``deliver``; how many."""
        tail = self.words[_TAIL]
        head = self.head
        if head == tail:
            return 0
        data = self.data
        got = 0
        while head < tail:
            pos = head & _MASK
            n = int.from_bytes(data[pos : pos + 4], "little")
            if n == PAD:
                head += CAP - pos
                continue
            message = _loads(data[pos + 4 : pos + 4 + n])
            head += (n + 11) & ~7
            got += 1
            deliver(message)
        self.head = head
        self.words[_HEAD] = head
        return got

    def is_empty(self) -> bool:
        """Reader: nothing written that was not read."""
        return bool(self.words[_TAIL] == self.head)

    @property
    def waiting(self) -> int:
        """How many of the reader's waiters sleep until the writer wakes them."""
        return int(self.words[_WAITING])

    @waiting.setter
    def waiting(self, value: int) -> None:
        self.words[_WAITING] = value

    def release(self) -> None:
        """Let go of the mapping (before it is closed)."""
        for view in (self.words, self.data, self.base):
            view.release()
