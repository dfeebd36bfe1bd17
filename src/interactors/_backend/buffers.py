"""Large buffers for process actors: memfds reused once the receiver let go of them.

A buffer of 64 KiB or more crosses the socket pair as a memfd the receiver maps (see
:mod:`.channel`). Making a fresh memfd for each one is what a large message mostly cost:
the kernel allocates and clears every page of it before the copy (64 MiB: 45-70 ms
against 13-25 ms to write into pages that exist already). So each side keeps a
:class:`BufferPool` of the memfds it sent:

- each memfd sent is *lent* under an id; the receiver watches the mapping it made of
  it (:class:`Returns`) and, once nothing of it is left (the last object built on it was
  freed and the mapping is gone), sends the id back in a ``RELEASED`` frame;
- a returned memfd is *free*: the next large buffer is written into it, with no new
  pages to allocate. At most ``FREE_MAX`` free memfds of ``FREE_BYTES_MAX`` bytes in all
  are kept, and each for ``IDLE`` seconds at most (:meth:`BufferPool.trim`), so memory
  held for reuse is given back soon after a burst of large messages ends;
- at most ``LENT_MAX`` memfds stay lent: past that, the sender closes its fd as it did
  before (its receiver keeps the memory as long as it needs it; that memfd is not reused).

A receiver that dies, or keeps what it got, costs the sender nothing but these bounds.

Stdlib only: imported in the actor's process before anything else of interactors.
"""

from __future__ import annotations

import os
import threading
import time
from _weakref import ref as _weak

TYPE_CHECKING = False  # typing is not imported at run time
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

FREE_MAX: Final = 4
FREE_BYTES_MAX: Final = 512 * 1024 * 1024
LENT_MAX: Final = 64
IDLE: Final = 1.0


class BufferPool:
    """The memfds one side sent (lent) or got back (free); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = 0
        self._lent: dict[int, tuple[int, int]] = {}  # id -> (fd, capacity)
        self._free: list[tuple[int, int, float]] = []  # (capacity, fd, free since)
        self._closed = False
        self.created = 0
        self.reused = 0

    def write(self, data: memoryview) -> tuple[int, int]:
        """Write ``data`` (1-D, bytes) into a memfd: ``(fd, id)``. The fd stays the pool's
        unless ``id`` is 0 (not lent: the caller closes it once sent)."""
        size = data.nbytes
        fd = -1
        with self._lock:
            fits = [entry for entry in self._free if entry[0] >= size]
            if fits:
                best = min(fits)
                self._free.remove(best)
                capacity, fd = best[0], best[1]
                self.reused += 1
        if fd < 0:
            fd = os.memfd_create("interactors-buffer", os.MFD_CLOEXEC)
            capacity = size
            self.created += 1
        try:
            written = 0
            while written < size:
                written += os.pwrite(fd, data[written:], written)
        except BaseException:
            os.close(fd)
            raise
        with self._lock:
            if self._closed or len(self._lent) >= LENT_MAX:
                return fd, 0
            self._ids += 1
            self._lent[self._ids] = (fd, capacity)
            return fd, self._ids

    def released(self, ids: tuple[int, ...]) -> None:
        """The receiver let go of these: keep them for reuse, within the bounds."""
        now = time.monotonic()
        closing = []
        with self._lock:
            for buffer_id in ids:
                entry = self._lent.pop(buffer_id, None)
                if entry is None:
                    continue
                fd, capacity = entry
                kept = sum(free[0] for free in self._free)
                if self._closed or len(self._free) >= FREE_MAX or kept + capacity > FREE_BYTES_MAX:
                    closing.append(fd)
                else:
                    self._free.append((capacity, fd, now))
        for fd in closing:
            os.close(fd)

    def holds_free(self) -> bool:
        return bool(self._free)

    def trim(self, idle: float = IDLE) -> None:
        """Close the free memfds unused for ``idle`` seconds (0: all of them)."""
        cutoff = time.monotonic() - idle
        with self._lock:
            old = [entry for entry in self._free if entry[2] <= cutoff]
            self._free = [entry for entry in self._free if entry[2] > cutoff]
        for _capacity, fd, _since in old:
            os.close(fd)

    def close(self) -> None:
        """Close every memfd (what the receiver mapped stays valid as long as it is)."""
        with self._lock:
            self._closed = True
            fds = [fd for fd, _capacity in self._lent.values()]
            fds += [fd for _capacity, fd, _since in self._free]
            self._lent.clear()
            self._free.clear()
        for fd in fds:
            os.close(fd)


class Returns:
    """The receiving side: watches the mappings of lent memfds, collects the ids of those
    let go of (in whichever thread freed them), and calls ``wake`` so that they are sent
    back soon. ``wake`` runs outside any lock here (it may send on a socket, and the
    thread that reads that socket may free a mapping meanwhile); after :meth:`close` it
    is no longer called, but a call already under way may finish, so it must stay
    harmless then."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._watched: dict[int, tuple[Any, int]] = {}
        self._ids: list[int] = []
        self._wake: Callable[[], None] | None = wake

    def watch(self, area: Any, buffer_id: int) -> None:
        """``area`` (an mmap) maps the sender's buffer ``buffer_id``."""
        watcher = _weak(area, self._gone)
        self._watched[id(watcher)] = (watcher, buffer_id)

    def _gone(self, watcher: Any) -> None:
        entry = self._watched.pop(id(watcher), None)
        if entry is None:
            return
        with self._lock:
            self._ids.append(entry[1])
            wake = self._wake
        if wake is not None:
            wake()

    def pending(self) -> bool:
        return bool(self._ids)

    def take(self) -> tuple[int, ...]:
        """The ids let go of since the last call."""
        if not self._ids:
            return ()
        with self._lock:
            ids, self._ids = tuple(self._ids), []
        return ids

    def close(self) -> None:
        with self._lock:
            self._wake = None
            self._ids.clear()
        self._watched.clear()
