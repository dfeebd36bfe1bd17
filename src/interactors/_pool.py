"""Interpreters for actors: created on demand, with an optional pool of spares.

Creating an own-GIL interpreter costs ~10 ms, and destroying one does not give its memory
back to the OS (CPython 3.13: ~2 MiB per create/destroy cycle). So interpreters are never
churned: an actor restarts in place (fresh instance, same interpreter), and only an
interpreter that cannot be reused (abandoned, dead thread, failed import) is destroyed and
replaced — from the spares when there are some, so the replacement starts fast.
"""

from __future__ import annotations

from . import _backend as backend


class InterpreterPool:
    """Hands out fresh interpreters; keeps ``spares`` of each kind ready when asked to."""

    def __init__(self, spares: int = 0) -> None:
        self.spares = spares
        self._ready: dict[bool, list[int]] = {True: [], False: []}
        self.created = 0
        self.destroyed = 0
        self.in_use: set[int] = set()

    def acquire(self, isolated: bool) -> int:
        ready = self._ready[isolated]
        iid = ready.pop() if ready else self._create(isolated)
        self.in_use.add(iid)
        return iid

    def _create(self, isolated: bool) -> int:
        self.created += 1
        return backend.new_interpreter(isolated)

    def refill(self) -> None:
        """Top the spares up (call off the hot path: each costs ~10 ms)."""
        for isolated in (True,):
            ready = self._ready[isolated]
            while len(ready) < self.spares:
                ready.append(self._create(isolated))

    def release(self, iid: int) -> None:
        """The interpreter's thread has ended: destroy it (it holds the old actor's modules)."""
        self.in_use.discard(iid)
        self.destroyed += 1
        backend.destroy_interpreter(iid)

    def forget(self, iid: int) -> None:
        """An abandoned interpreter (its thread is stuck): never touch it again."""
        self.in_use.discard(iid)

    def close(self) -> None:
        for ready in self._ready.values():
            while ready:
                self.destroyed += 1
                backend.destroy_interpreter(ready.pop())
