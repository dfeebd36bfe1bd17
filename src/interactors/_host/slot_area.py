"""The host's slots of shared counters (see ``_wire/slots.py``): handed out to actors,
growing by chunks of ``memfd`` memory, and rested a moment before reuse."""

from __future__ import annotations

import mmap
import os
import time

from .._wire.slots import CHUNK_BYTES, FIELDS, SLOTS_PER_CHUNK

RESTING_SECONDS = 1.0  # a released slot is not handed out again before this


class SlotArea:
    """Hands out slots, growing by chunks. Not thread-safe: used on the host loop."""

    def __init__(self) -> None:
        self._chunks: list[tuple[int, mmap.mmap, memoryview]] = []
        self._free: list[tuple[int, int]] = []
        # Released slots wait here before reuse: a sender that put on a gone actor's
        # mailbox reads its flags just after (CLOSED, PARKED), and must not see a new
        # actor's zeroed ones, nor wake a new actor's fd of the same number.
        self._resting: list[tuple[float, int, int]] = []  # (when free again, fd, index)
        self._next = 0

    def allocate(self) -> tuple[int, int]:
        """A free slot as ``(chunk_fd, index)``, zeroed."""
        resting, now = self._resting, time.monotonic()
        while resting and resting[0][0] <= now:
            self._free.append(resting.pop(0)[1:])
        if self._free:
            fd, index = self._free.pop()
        else:
            chunk, index = divmod(self._next, SLOTS_PER_CHUNK)
            if chunk == len(self._chunks):
                fd = os.memfd_create("interactors-slots", os.MFD_CLOEXEC)
                os.ftruncate(fd, CHUNK_BYTES)
                area = mmap.mmap(fd, CHUNK_BYTES)
                self._chunks.append((fd, area, memoryview(area).cast("Q")))
            fd = self._chunks[chunk][0]
            self._next += 1
        view = self.view(fd)
        base = index * FIELDS
        for offset in range(FIELDS):
            view[base + offset] = 0
        return fd, index

    def release(self, fd: int, index: int) -> None:
        self._resting.append((time.monotonic() + RESTING_SECONDS, fd, index))

    def view(self, fd: int) -> memoryview:
        for chunk_fd, _area, view in self._chunks:
            if chunk_fd == fd:
                return view
        raise KeyError(fd)

    def close(self) -> None:
        for fd, area, view in self._chunks:
            view.release()
            area.close()
            os.close(fd)
        self._chunks.clear()
        self._free.clear()
