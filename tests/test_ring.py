"""The shared-memory ring under a process actor's lane (``_backend/ring.py``)."""

from __future__ import annotations

import marshal
import mmap
import os
from collections.abc import Iterator

import pytest

from interactors._backend import ring


@pytest.fixture
def area() -> Iterator[mmap.mmap]:
    fd = os.memfd_create("test-ring", os.MFD_CLOEXEC)
    os.ftruncate(fd, ring.SIZE)
    mapped = mmap.mmap(fd, ring.SIZE)
    os.close(fd)
    yield mapped
    mapped.close()


def test_messages_of_every_size_arrive_whole_and_in_order_across_the_wrap(area: mmap.mmap) -> None:
    writer, reader = ring.Ring(area, 0), ring.Ring(area, 0)
    sent: list[object] = []
    got: list[object] = []
    for i in range(3000):  # many times round the ring, with sizes that end anywhere
        message = (i, b"y" * (i * 37 % 5000))
        assert writer.write(marshal.dumps(message))
        sent.append(message)
        if i % 7 == 0:
            reader.read(got.append)
    reader.read(got.append)
    assert got == sent
    assert reader.is_empty()
    for view in (writer, reader):
        view.release()


def test_a_full_ring_refuses_and_takes_more_once_read(area: mmap.mmap) -> None:
    writer, reader = ring.Ring(area, 0), ring.Ring(area, 0)
    message = marshal.dumps(b"z" * 1000)
    written = 0
    while writer.write(message):
        written += 1
    assert written == ring.CAP // ((len(message) + 11) & ~7)
    assert reader.read(lambda _m: None) == written
    assert writer.write(message)
    for view in (writer, reader):
        view.release()
