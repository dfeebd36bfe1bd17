"""The host side of a mailbox: a bounded cross-interpreter queue plus its wake-up eventfd.

The mailbox belongs to the actor, not to its interpreter: it outlives restarts, so
messages queued while an actor restarts are delivered to the next incarnation.

Senders put an envelope, then write to the eventfd; the actor drains everything queued
per wake-up. The only wait here is for room in a full mailbox, which backs off from 10 µs
to 5 ms between tries (the queues have no "not full" notification).
"""

from __future__ import annotations

import os
import queue
from typing import Any, Final

import anyio

from .. import _backend as backend
from .._exceptions import MailboxFull

DEFAULT_MAILBOX_SIZE: Final = 1000
_BACKOFF_MAX: Final = 0.005


class Mailbox:
    """A bounded queue of envelopes for one actor."""

    __slots__ = ("fd", "fields", "maxsize", "owner", "parked", "qid")

    def __init__(self, maxsize: int, owner: str, fields: memoryview, parked: int) -> None:
        if maxsize < 1:
            raise ValueError(f"mailbox_size must be at least 1, got {maxsize}")
        self.maxsize = maxsize
        self.owner = owner
        self.qid = backend.create_queue(maxsize)
        # Blocking on purpose: the actor parks in read() on it.
        self.fd = os.eventfd(0, os.EFD_CLOEXEC)
        # The actor's PARKED flag: a busy (or spinning) actor needs no wake-up syscall.
        # It sets the flag, then looks at the queue again before it sleeps; we put, then
        # look at the flag. Both queue operations are full barriers, so one of the two
        # sides always sees the other.
        self.fields = fields
        self.parked = parked

    def put_nowait(self, envelope: tuple[Any, ...]) -> None:
        try:
            backend.put(self.qid, envelope)
        except queue.Full:
            raise MailboxFull(
                f"the mailbox of actor {self.owner!r} is full ({self.maxsize} messages); "
                "await ref.tell... to wait for room, or spawn with a larger mailbox_size"
            ) from None
        if self.fields[self.parked]:
            os.eventfd_write(self.fd, 1)

    async def put(self, envelope: tuple[Any, ...]) -> None:
        """Put, waiting while the mailbox is full (cancellable: then nothing is sent)."""
        try:
            backend.put(self.qid, envelope)
        except queue.Full:
            await self._put_when_room(envelope)
        if self.fields[self.parked]:
            os.eventfd_write(self.fd, 1)

    async def _put_when_room(self, envelope: tuple[Any, ...]) -> None:
        delay = 1e-5
        while True:
            await anyio.sleep(delay)
            try:
                backend.put(self.qid, envelope)
            except queue.Full:
                delay = min(_BACKOFF_MAX, delay * 2)
            else:
                return

    def wake(self) -> None:
        os.eventfd_write(self.fd, 1)

    def depth(self) -> int:
        return backend.count(self.qid)

    def take_all(self) -> list[Any]:
        """Remove and return what is queued (used when the actor is gone for good)."""
        items = []
        while backend.count(self.qid):
            items.append(backend.get(self.qid))
        return items

    def close(self) -> None:
        backend.destroy_queue(self.qid)
        os.close(self.fd)
