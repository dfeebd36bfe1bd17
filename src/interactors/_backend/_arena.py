"""Queue items as plain ints: message bodies live in shared memory that no interpreter owns.

Why (CPython 3.13): a queue item that is not an int (a tuple, bytes, str, memoryview...)
is released by its receiver through a pending call added to the *sender's* interpreter.
That pending-call array holds 300 calls and a failed add is silently ignored, so a burst
of releases (a lagging actor draining its mailbox while the host sleeps in C) leaks the
items; the release also looks the sender up with nothing pinning it, racing its
destruction; and a memoryview released after its exporter is destroyed crashes the
process. An int needs no release at all, so every item here is an int:

* small bodies (``marshal`` of the envelope) go into slots of the *sending* interpreter's
  arena: a ``memfd`` mapping of ``FLAGS`` busy bytes and as many 64-byte slots. The
  sender claims a run of free slots (first fit, so the touched memory stays small), writes
  and puts ``key << 30 | slot << 16 | length`` (below 2**63, as queues require); the
  receiver maps the arena on first sight (``key`` names its fd and, to tell a reused fd,
  the low bits of its inode), unmarshals a bytes copy of the body (quicker than a view of
  the mapping) and clears the busy bytes: no queue operation and no lock between sender
  and receiver.
* large bodies, and envelopes carrying memoryviews, go into a ``memfd`` of their own that
  the receiver maps and closes (the item is ``~fd``): a memoryview arrives as a view of
  that mapping, owned by the receiver, with no copy on arrival.

Stdlib only (imported inside actors' interpreters).
"""

from __future__ import annotations

import _interpreters
import _thread
import atexit
import marshal
import mmap
import os

from ._lending import index_of, lent_view

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

SLOT: Final = 64
FLAGS: Final = 1 << 16  # slots per arena, one busy byte each (a multiple of the page size)
_ARENA_BYTES: Final = FLAGS + FLAGS * SLOT
LARGE: Final = 64 * 1024  # bodies at least this large get a memfd of their own
# Busy-byte patterns for runs of up to _KEPT slots (bodies under 4 KiB), made once; longer
# runs make theirs (every length up to LARGE // SLOT would cost each interpreter ~1 MiB).
_KEPT: Final = 64
_ZEROS: Final = tuple(bytes(k) for k in range(_KEPT))
_ONES: Final = tuple(b"\1" * k for k in range(_KEPT))
_LENGTH_BITS: Final = 16  # a body in slots is shorter than LARGE
_SLOT_BITS: Final = 16
_FD_BITS: Final = 17
_INO_BITS: Final = 13
_KEY_SHIFT: Final = _LENGTH_BITS + _SLOT_BITS
_LENGTH_MASK: Final = (1 << _LENGTH_BITS) - 1
_SLOT_MASK: Final = (1 << _SLOT_BITS) - 1
# Set in the item of a batch (several envelopes in one body, see encode_batch): its
# receiver reads the body without freeing it, and frees it once every envelope is handled.
BATCH_FLAG: Final = 1 << (_KEY_SHIFT + _FD_BITS + _INO_BITS)
_MAPS_MAX: Final = 256  # other interpreters' arenas kept mapped (then all are dropped)
_PAGE: Final = mmap.PAGESIZE

_dumps = marshal.dumps
_loads = marshal.loads
_lock = _thread.allocate_lock()  # threads of one interpreter claim slots one at a time
_acquire, _release = _lock.acquire, _lock.release
_own: list[tuple[int, mmap.mmap]] = []  # this interpreter's arenas, as (key, map)
_maps: dict[int, mmap.mmap] = {}  # every arena seen, by key (maps are true: ``or`` works)
_IID: Final = int(_interpreters.get_current()[0])
IN_MAIN: Final = _IID == 0  # (keeps its arenas to the end)
# The memfds a sender makes are named after its interpreter: see _v313_host.unread_from.
_ARENA_NAME: Final = f"interactors-arena-{_IID}"
_MESSAGE_NAME: Final = f"interactors-message-{_IID}"


def _key(fd: int) -> int:
    return (os.fstat(fd).st_ino & (1 << _INO_BITS) - 1) << _FD_BITS | fd


def _new_arena() -> tuple[int, mmap.mmap]:
    fd = os.memfd_create(_ARENA_NAME, os.MFD_CLOEXEC)
    if fd >> _FD_BITS:
        os.close(fd)
        raise OSError(f"file descriptor {fd} is too large for a queue item")
    os.ftruncate(fd, _ARENA_BYTES)
    area = mmap.mmap(fd, _ARENA_BYTES, trackfd=False)
    key = _key(fd)
    if not _own and not IN_MAIN:
        atexit.register(_close_own, fd)  # the interpreter ends: so do its arenas
    _own.append((key, area))
    _maps[key] = area
    return key, area


def _close_own(fd: int) -> None:
    os.close(fd)  # the maps go with the interpreter; receivers keep theirs until dropped


def _map(key: int) -> mmap.mmap | None:
    """Another interpreter's arena, mapped here; None if it is gone (its sender died)."""
    fd = key & (1 << _FD_BITS) - 1
    try:
        if _key(fd) != key:
            return None
        area = mmap.mmap(fd, _ARENA_BYTES, trackfd=False)
    except (OSError, ValueError):
        return None
    if len(_maps) >= _MAPS_MAX:
        _maps.clear()
        _maps.update(_own)
    _maps[key] = area
    return area


def has_buffers(obj: Any) -> bool:
    """Is ``obj`` (or, for an envelope, an item at most one level deep) a memoryview or a
    large bytes/str?"""
    kind = type(obj)
    if kind is not tuple:
        return kind is memoryview or ((kind is bytes or kind is str) and len(obj) >= LARGE)
    for item in obj:
        kind = type(item)
        if kind is int:  # most of an envelope: ids, kinds, flags (and skipping them first
            continue  # makes this ~25% cheaper per message)
        if kind is tuple:
            for inner in item:
                kind = type(inner)
                if kind is int:
                    continue
                if kind is memoryview or ((kind is bytes or kind is str) and len(inner) >= LARGE):
                    return True
        elif kind is memoryview or ((kind is bytes or kind is str) and len(item) >= LARGE):
            return True
    return False


def _claim(k: int) -> tuple[int, mmap.mmap, int]:
    """The first run of ``k`` free slots in this interpreter's arenas, marked busy."""
    zeros = _ZEROS[k] if k < _KEPT else bytes(k)
    ones = _ONES[k] if k < _KEPT else b"\1" * k
    _acquire()  # (not ``with``: its protocol costs twice the lock, on every message)
    try:
        for key, area in _own:
            i = area.find(zeros, 0, FLAGS)
            if i >= 0:
                area[i : i + k] = ones
                return key, area, i
        key, area = _new_arena()
        area[:k] = ones
        return key, area, 0
    finally:
        _release()


def encode(obj: Any) -> int:
    """Write ``obj`` (marshal-able, no memoryview) into this interpreter's slots: an item.
    A body of one slot, nearly every message, is claimed here (:func:`_claim` inlined)."""
    data = _dumps(obj)
    n = len(data)
    if n > SLOT:
        return _write(data) if n < LARGE else encode_large(obj)
    _acquire()  # one slot: most messages (_claim inlined, a byte stored, not a slice)
    try:
        for key, area in _own:  # noqa: B007 - key and area are used after the break
            i = area.find(b"\0", 0, FLAGS)
            if i >= 0:
                area[i] = 1
                break
        else:
            key, area = _new_arena()
            i = 0
            area[0] = 1
    finally:
        _release()
    off = FLAGS + i * SLOT
    area[off : off + n] = data
    return key << _KEY_SHIFT | i << _LENGTH_BITS | n


def encode_batch(envelopes: tuple[Any, ...]) -> int:
    """Write several envelopes (marshal-able, no memoryview) as one body in this
    interpreter's slots: a batch item, or -1 when they are too large for the slots."""
    data = _dumps(envelopes)
    if len(data) >= LARGE:
        return -1
    return BATCH_FLAG | _write(data)


def _write(data: bytes) -> int:
    """Copy ``data`` (shorter than LARGE) into free slots: the item naming them."""
    n = len(data)
    k = (n + SLOT - 1) // SLOT or 1
    key, area, i = _claim(k)
    off = FLAGS + i * SLOT
    area[off : off + n] = data
    return key << _KEY_SHIFT | i << _LENGTH_BITS | n


def read_batch(item: int) -> tuple[Any, ...] | None:
    """The envelopes of a batch item, leaving its body in place (:func:`discard` frees it);
    None when the body is gone."""
    found, envelopes = decode(item & ~BATCH_FLAG, keep=True)
    return envelopes if found else None


def decode(item: int, qid: int = -1, keep: bool = False) -> tuple[bool, Any]:
    """``(True, obj)`` for an item made by :func:`encode` or :func:`encode_large` (taken
    from queue ``qid``); ``(False, None)`` when the body is gone (its sender's arena no
    longer exists). The body is freed, unless ``keep``."""
    if item < 0:
        return True, _decode_large(~item, qid)
    key = item >> _KEY_SHIFT
    area = _maps.get(key) or _map(key)
    if area is None:
        return False, None
    i = item >> _LENGTH_BITS & _SLOT_MASK
    n = item & _LENGTH_MASK
    off = FLAGS + i * SLOT
    obj = _loads(area[off : off + n])  # (a bytes copy loads faster than a view's slice)
    if keep:
        pass
    elif n <= SLOT:  # one slot: most messages (an item store costs half a slice's)
        area[i] = 0
    else:
        k = (n + SLOT - 1) // SLOT
        area[i : i + k] = _ZEROS[k] if k < _KEPT else bytes(k)
    return True, obj


def discard(item: int) -> None:
    """Free an item's body without reading it (a failed put, a destroyed queue)."""
    if item < 0:
        os.close(~item)
        return
    item &= ~BATCH_FLAG
    key = item >> _KEY_SHIFT
    area = _maps.get(key) or _map(key)
    if area is not None:
        i, n = item >> _LENGTH_BITS & _SLOT_MASK, item & _LENGTH_MASK
        k = (n + SLOT - 1) // SLOT or 1
        area[i : i + k] = _ZEROS[k] if k < _KEPT else bytes(k)


# -- large bodies: one memfd per message ---------------------------------------------------
#
# Layout: u64 length of the header, the header ``marshal((skeleton, buffers))``, then each
# buffer at a page boundary. ``skeleton`` is the envelope with every memoryview and large
# bytes/str replaced by None; ``buffers`` lists ``(path, kind, offset, length)``.

_VIEW, _BYTES, _STR, _LENT = 0, 1, 2, 3  # _LENT: a view the host lent (see _lending)


def _strip(obj: Any, path: tuple[int, ...], found: list[Any]) -> Any:
    kind = type(obj)
    if kind is tuple and len(path) < 2:
        return tuple(_strip(item, (*path, i), found) for i, item in enumerate(obj))
    if kind is memoryview:
        found.append((path, _VIEW, obj))
        return None
    if (kind is bytes or kind is str) and len(obj) >= LARGE:
        found.append((path, _BYTES if kind is bytes else _STR, obj))
        return None
    return obj


def encode_large(obj: Any, borrowed: tuple[memoryview, ...] = ()) -> int:
    """Write ``obj`` into a memfd of its own (the receiver maps it): the item ``~fd``.

    A memoryview that is one of the ``borrowed`` views (an answer handing back what the
    host lent, see :mod:`._lending`) is written as its index, not as its bytes.
    """
    found: list[Any] = []
    skeleton = _strip(obj, (), found)
    blobs = []
    lent: list[tuple[tuple[int, ...], int, int, int]] = []
    for path, kind, value in found:
        if kind == _VIEW and borrowed:
            index = index_of(value, borrowed)
            if index >= 0:
                lent.append((path, _LENT, index, value.nbytes))
                continue
        blob = value.encode("utf-8", "surrogatepass") if kind == _STR else value
        if kind == _VIEW and not blob.contiguous:
            blob = memoryview(blob.tobytes())
        blobs.append((path, kind, blob))
    header_len = 8 + 2048 + 32 * (len(blobs) + len(lent))  # an upper bound, refined below
    specs: list[tuple[tuple[int, ...], int, int, int]] = []
    while True:
        offset = -(-header_len // _PAGE) * _PAGE
        specs.clear()
        for path, kind, blob in blobs:
            size = memoryview(blob).nbytes
            specs.append((path, kind, offset, size))
            offset = -(-(offset + size) // _PAGE) * _PAGE
        header = _dumps((skeleton, tuple(specs), tuple(lent)))
        if 8 + len(header) <= header_len:
            break
        header_len = 8 + len(header) + 64
    fd = os.memfd_create(_MESSAGE_NAME, os.MFD_CLOEXEC)
    try:
        # Written with pwrite, not through a mapping: the kernel copies straight into the
        # memfd's pages, with no page faults in this interpreter.
        os.ftruncate(fd, max(offset, _PAGE))
        _write_all(fd, len(header).to_bytes(8, "little") + header, 0)
        for (_path, _kind, start, _size), (_p, _k, blob) in zip(specs, blobs, strict=True):
            with memoryview(blob) as source:
                _write_all(fd, source.cast("B"), start)
    except BaseException:
        os.close(fd)
        raise
    return ~fd


def _write_all(fd: int, data: Any, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _read_all(fd: int, length: int, offset: int) -> bytes:
    data = os.pread(fd, length, offset)
    if len(data) == length:  # one read, one copy: the usual case (under 2 GiB)
        return data
    parts = [data]
    while length > len(data):
        length, offset = length - len(data), offset + len(data)
        data = os.pread(fd, length, offset)
        if not data:
            raise OSError(f"message body truncated: {length} bytes missing")
        parts.append(data)
    return b"".join(parts)


def _decode_large(fd: int, qid: int) -> Any:
    """Rebuild a large body: bytes and str are read with one copy each (pread straight into
    the new object); memoryviews are views of a mapping of the memfd (no copy), or the
    host's own views when the answer hands back what the host lent."""
    try:
        header_len = int.from_bytes(os.pread(fd, 8, 0), "little")
        skeleton, specs, lent = _loads(_read_all(fd, header_len, 8))
        values: dict[tuple[int, ...], Any] = {}
        for path, _kind, index, _length in lent:
            values[path] = lent_view(qid, skeleton[1], index)
        view = None
        for path, kind, start, length in specs:
            if kind == _BYTES:
                values[path] = _read_all(fd, length, start)
            elif kind == _STR:
                values[path] = str(_read_all(fd, length, start), "utf-8", "surrogatepass")
            else:
                if view is None:
                    area = mmap.mmap(fd, os.fstat(fd).st_size, trackfd=False)
                    view = memoryview(area).toreadonly()
                values[path] = view[start : start + length]
    finally:
        os.close(fd)
    if view is not None:
        view.release()
    return _fill(skeleton, (), values)


def _fill(obj: Any, path: tuple[int, ...], values: dict[tuple[int, ...], Any]) -> Any:
    if path in values:
        return values[path]
    if type(obj) is tuple and len(path) < 2:
        return tuple(_fill(item, (*path, i), values) for i, item in enumerate(obj))
    return obj


if IN_MAIN:
    _new_arena()  # now, not in the middle of the first message (the host keeps it)
