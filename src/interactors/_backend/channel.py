"""Frames between the host and an actor that lives in another process.

A process actor is reached over one ``AF_UNIX`` socket pair. Each frame is a 4-byte
little-endian length followed by a ``marshal`` dump of a tuple of plain values: the same
envelopes that cross-interpreter queues carry (memoryviews arrive as ``bytes``). marshal
is fast and, for these types, safe: both ends are the same Python running interactors.

Frame kinds (``holes``: see below)::

    host -> child   (TO_MAILBOX, envelope, holes)   put on the child's mailbox queue
                    (TO_CONTROL, envelope, holes)   put on the child's control queue, wake it
                    (TO_REPLIES, envelope, holes)   a reply to one of the actor's own asks
                    (CONFIG, config, address, reply_to, None)   the first frame, with
                                             the slot memfd and the interrupt eventfd
                    (PUT_RESULT, seq, status)   how a PUT_NOWAIT went: PUT_OK, PUT_FULL
                                             or PUT_GONE (the queue was freed)
                    (GONE, qid)              a PUT's queue was freed (its actor stopped):
                                             later messages there raise ActorStopped
    child -> host   (PUT, qid, fd, flag, envelope, holes)   put on a host queue; write
                                                     ``fd`` unless ``flag`` names a clear flag
                                                     (wait while the queue is full)
                    (PUT_NOWAIT, seq, qid, fd, flag, envelope, holes)   the same, once:
                                             a ``tell_nowait``, whose sender waits for
                                             the PUT_RESULT (it must raise MailboxFull)
                    (EXIT_INFO, info)        how the worker ended (None: it returned)
                    (LOADED, names)          the top-level modules the actor's class
                                             needed, for the next spare to pre-import
    either way      (RELEASED, ids)          the receiver let go of these large buffers

Large buffers never go through marshal or the socket's byte stream: a memoryview of at
least ``BUFFER_MIN`` bytes in an envelope's payload (the codec's out-of-band pickle
buffers: a numpy array's data, for one) is written once into a ``memfd``, whose fd
travels alongside the frame (``SCM_RIGHTS``); the frame says where it goes (``holes``:
``(field, item, buffer id, size)``, ``item`` -1 for the field itself). The receiver maps
it and closes the fd at once, so the memory lives exactly as long as the objects built on
it, and nothing is left behind if either side dies (no named segment to clean up). Once
the receiver let go of it, it sends the buffer id back (``(RELEASED, ids)``, either way)
and the sender writes a later buffer into the same memfd (:mod:`.buffers`).

Stdlib only: imported in the actor's process before anything else of interactors.
"""

from __future__ import annotations

import marshal
import mmap
import os
import socket
import sys
from collections import deque

from .buffers import BufferPool, Returns

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

TO_MAILBOX: Final = 1
TO_CONTROL: Final = 2
TO_REPLIES: Final = 3
CONFIG: Final = 4
PUT: Final = 5
EXIT_INFO: Final = 6
PUT_NOWAIT: Final = 7
PUT_RESULT: Final = 8
LOADED: Final = 9
GONE: Final = 10
RELEASED: Final = 11

PUT_OK: Final = 0
PUT_FULL: Final = 1
PUT_GONE: Final = 2

BUFFER_MIN: Final = 64 * 1024
MAX_FDS: Final = 253  # the kernel's SCM_MAX_FD
_ANCILLARY: Final = socket.CMSG_SPACE(MAX_FDS * 4)
_PAYLOAD_FIELDS: Final = (3, 4)
_CARRY_ENVELOPES: Final = frozenset(
    {TO_MAILBOX, TO_CONTROL, TO_REPLIES, PUT, PUT_NOWAIT}
)  # a reply's payload, a message's payload

_dumps = marshal.dumps
_loads = marshal.loads


def frame(item: tuple[Any, ...]) -> bytes:
    """One frame: length prefix and the marshalled tuple."""
    data = _dumps(item)
    return len(data).to_bytes(4, "little") + data


def _is_big(item: Any) -> bool:
    return type(item) is memoryview and item.nbytes >= BUFFER_MIN


def pack(
    head: tuple[Any, ...], envelope: tuple[Any, ...], pool: BufferPool
) -> tuple[bytes, list[int]]:
    """A frame ``(*head, envelope, holes)`` and the fds of its large buffers (the caller's
    to close once sent: the pool keeps its own)."""
    holes: list[tuple[int, int]] = []
    for index in _PAYLOAD_FIELDS:
        if index < len(envelope):
            field = envelope[index]
            if type(field) is tuple:
                holes.extend((index, j) for j, item in enumerate(field) if _is_big(item))
            elif _is_big(field):
                holes.append((index, -1))
    if not holes:
        return frame((*head, envelope, None)), []
    fields = list(envelope)
    fds: list[int] = []
    placed = []
    try:
        for index, j in holes:
            if j < 0:
                view, fields[index] = fields[index], None
            else:
                items = list(fields[index])
                view, items[j] = items[j], None
                fields[index] = tuple(items)
            data = view.cast("B") if view.format != "B" or view.ndim != 1 else view
            fd, buffer_id = pool.write(data)
            fds.append(os.dup(fd) if buffer_id else fd)
            placed.append((index, j, buffer_id, data.nbytes))
    except BaseException:
        for fd in fds:
            os.close(fd)
        pool.released(tuple(hole[2] for hole in placed))  # never sent: free again
        raise
    return frame((*head, tuple(fields), tuple(placed))), fds


def send(sock: socket.socket, data: bytes, fds: list[int]) -> None:
    """Send a packed frame and its fds (closing ours: the receiver has its own now)."""
    if not fds:
        sock.sendall(data)
        return
    try:
        sent = socket.send_fds(sock, [data], fds)
        if sent < len(data):
            sock.sendall(data[sent:])
    finally:
        for fd in fds:
            os.close(fd)


def _from_memfd(fd: int, size: int, buffer_id: int, returns: Returns) -> memoryview:
    try:
        area = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    if buffer_id:  # (0: a buffer its sender does not reuse)
        returns.watch(area, buffer_id)
    return memoryview(area)


class FrameReader:
    """Reassembles frames from the bytes (and fds) a socket delivers, in any chunking."""

    __slots__ = ("_buffer", "_fds", "returns")

    def __init__(self, returns: Returns) -> None:
        self._buffer = bytearray()
        self._fds: deque[int] = deque()
        self.returns = returns  # where the large buffers mapped here are watched

    def receive(self, sock: socket.socket, flags: int = 0) -> list[tuple[Any, ...]] | None:
        """One read: the frames it completes; None at end of file (BlockingIOError passes)."""
        # Not socket.recv_fds: Python 3.13.0's ignores ``flags`` (MSG_DONTWAIT).
        data, ancillary, _flags, _addr = sock.recvmsg(1 << 20, _ANCILLARY, flags)
        fds: list[int] = []
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                usable = len(payload) - len(payload) % 4
                fds.extend(
                    int.from_bytes(payload[i : i + 4], sys.byteorder, signed=True)
                    for i in range(0, usable, 4)
                )
        if not data:
            for fd in fds:
                os.close(fd)
            return None
        return self.feed(data, fds)

    def take_fd(self) -> int:
        """The next received fd that no frame claimed (the configuration's slot memfd)."""
        return self._fds.popleft()

    def close(self) -> None:
        """Close fds received for frames that never completed."""
        while self._fds:
            os.close(self._fds.popleft())

    def feed(self, data: bytes, fds: list[int] = ()) -> list[tuple[Any, ...]]:  # type: ignore[assignment]
        """Add received bytes; return the frames now complete, in order."""
        if fds:
            self._fds.extend(fds)
        buffer = self._buffer
        buffer += data
        frames: list[tuple[Any, ...]] = []
        start, end = 0, len(buffer)
        while end - start >= 4:
            size = int.from_bytes(buffer[start : start + 4], "little")
            if end - start - 4 < size:
                break
            item = _loads(buffer[start + 4 : start + 4 + size])
            if item[0] in _CARRY_ENVELOPES and item[-1] is not None:
                item = self._fill(item)
            frames.append(item)
            start += 4 + size
        if start:
            del buffer[:start]
        return frames

    def _fill(self, item: tuple[Any, ...]) -> tuple[Any, ...]:
        fields = list(item[-2])
        for index, j, buffer_id, size in item[-1]:
            view = _from_memfd(self._fds.popleft(), size, buffer_id, self.returns)
            if j < 0:
                fields[index] = view
            else:
                items = list(fields[index])
                items[j] = view
                fields[index] = tuple(items)
        return (*item[:-2], tuple(fields), None)
