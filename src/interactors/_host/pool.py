"""Interpreters for actors: created off the event loop, with a pool of warm spares.

Creating an own-GIL interpreter costs ~10 ms, and destroying one does not give its memory
back to the OS (CPython 3.13: ~2 MiB per create/destroy cycle). So interpreters are never
churned: an actor restarts in place (fresh instance, same interpreter), and only an
interpreter that cannot be reused (abandoned, failed import) is destroyed and replaced.

``spares`` isolated interpreters are kept ready, already past the import of the worker,
by a background thread: a spawn or a replacement then starts in a few milliseconds. When
no spare is ready, the interpreter is created in a worker thread, so the event loop keeps
running (and concurrent spawns overlap); that miss also starts a burst: for the next
``BURST_SECONDS`` one more spare is kept and refills start at once, so spawns made back
to back find a warm interpreter while the spawn before them is still starting (at most
one interpreter more than ``spares`` ever waits).

Spares also import ahead the standard library modules that every kind of actor the
system started needed (each actor reports them once its class is loaded, see
:meth:`InterpreterPool.learn`): the next actor then starts without importing ``typing``
or ``dataclasses`` itself. Only what *every* actor class needed, so that one asyncio
actor does not add asyncio's ~5 MiB to every other actor; only the standard library: the
user's own modules may have side effects at import, and import in the actor that names
them.
"""

from __future__ import annotations

import errno
import logging
import os
import resource
import sys
import threading
import time

import anyio

from .. import _backend as backend
from .._exceptions import SpawnError
from .exit_guard import destroy_or_keep
from .worker_thread import PACKAGE, PRELUDE

log = logging.getLogger("interactors")

BURST_SECONDS = 2.0  # after a spawn found no spare ready, keep one more for this long
PRELOAD_MAX = 128  # standard library modules imported ahead, at most
KINDS_MAX = 64  # actor classes whose needs are remembered (the oldest are forgotten)
UNREAD_PATIENCE = 60.0  # seconds a stopped actor's interpreter waits for its mail to be read
_WARM = f"""\
{PRELUDE}
for name in names:
    try:
        __import__(name)
    except BaseException:  # the actor that needs it imports it again, and says why
        pass
"""


def _fds_nearly_out(margin: int = 8) -> bool:
    """Fewer than ``margin`` file descriptors left under the soft limit (a new
    interpreter opens a few while it starts)."""
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    try:
        used = len(os.listdir("/proc/self/fd"))
    except OSError as exc:
        return exc.errno == errno.EMFILE
    return soft != resource.RLIM_INFINITY and used + margin >= soft


class InterpreterPool:
    """Hands out fresh interpreters; keeps ``spares`` warm isolated ones ready."""

    def __init__(self, spares: int = 0) -> None:
        self.spares = spares
        self._ready: list[int] = []
        self._warmed: dict[int, frozenset[str]] = {}  # spare -> what it imported ahead
        self._needs: dict[str, dict[str, None]] = {}  # actor class -> stdlib modules
        self.preload: tuple[str, ...] = ()
        """Standard library modules every actor class needed (see :meth:`learn`)."""
        self._lock = threading.Lock()
        self._filler: threading.Thread | None = None
        self._reaper: threading.Thread | None = None
        self._doomed: dict[int, tuple[float, str]] = {}  # released: (deadline, whose)
        self._closed = False
        self.created = 0
        self.destroyed = 0
        self.spares_taken = 0
        self.in_use: set[int] = set()
        self._refill_pending = False
        self._burst_until = 0.0
        self.kept: list[int] = []
        """Interpreters not destroyed because something still ran in them."""

    def _create(self, isolated: bool) -> int:
        try:
            iid = backend.new_interpreter(isolated)
        except Exception as first:  # CPython's rare transient failure: try once more
            log.warning("creating an interpreter failed (%s); trying again", first)
            try:
                iid = backend.new_interpreter(isolated)
            except Exception as exc:
                # CPython may report a creation that ran out of fds without the errno.
                why = f"{exc} ({os.strerror(errno.EMFILE)})" if _fds_nearly_out() else exc
                raise SpawnError(
                    f"could not create an interpreter for the actor: {why}; the process "
                    "may be out of memory or file descriptors (raise the limit with "
                    "ulimit -n, or run fewer actors; other actors keep running)"
                ) from exc
        with self._lock:
            self.created += 1
        return iid

    async def acquire(self, isolated: bool) -> int:
        """A fresh interpreter: a warm spare if one is ready, else a new one."""
        iid = self.take_spare() if isolated else None
        if iid is None:
            if isolated and self.spares:
                # Spawns come faster than the spares: keep one more while they do, and
                # start making it now, next to this spawn's own (2 cores at work).
                self._burst_until = time.monotonic() + BURST_SECONDS
                self.refill()
            iid = await anyio.to_thread.run_sync(self._create, isolated)
        self.in_use.add(iid)
        return iid

    def take_spare(self) -> int | None:
        with self._lock:
            if not self._ready:
                return None
            self.spares_taken += 1
            iid = self._ready.pop()
            self._warmed.pop(iid, None)
            return iid

    def wanted(self) -> int:
        """How many spares to keep: one more during a burst of spawns."""
        burst = self.spares and time.monotonic() < self._burst_until
        return self.spares + 1 if burst else self.spares

    def learn(self, target: str, names: tuple[str, ...]) -> None:
        """Actors of ``target`` needed these standard library modules (in import order):
        the next spares import ahead what every class seen so far needed. Spares made
        before are brought up to date at the next refill."""
        known = self._needs.get(target)
        if known is not None and all(name in known for name in names):
            return  # (a restart, or another actor of a known class)
        needs = self._needs.pop(target, {})
        needs.update(dict.fromkeys(names[:PRELOAD_MAX]))
        self._needs[target] = needs  # (the most recent last)
        while len(self._needs) > KINDS_MAX:
            del self._needs[next(iter(self._needs))]
        kinds = list(self._needs.values())
        self.preload = tuple(name for name in kinds[0] if all(name in k for k in kinds[1:]))

    def _stale(self) -> int | None:
        """A ready spare that lacks modules learnt since it was made (lock held)."""
        wanted = set(self.preload)
        return next((iid for iid in self._ready if not wanted <= self._warmed[iid]), None)

    def refill(self) -> None:
        """Top the spares up in a background thread (never on the event loop)."""
        with self._lock:
            needed = self.wanted() - len(self._ready)
            stale = self._stale() is not None
            busy = self._filler is not None and self._filler.is_alive()
        if (needed <= 0 and not stale) or busy or self._closed:
            return
        self._filler = threading.Thread(
            target=self._fill, args=(tuple(sys.path),), name="interactors-spare-interpreters"
        )
        self._filler.start()

    def wants_refill(self) -> bool:
        """True (once, until :meth:`refill_later` ran) when spares should be topped up."""
        if self._refill_pending or self.spares == 0:
            return False
        self._refill_pending = True
        return True

    async def refill_later(self) -> None:
        """Top the spare interpreters up shortly, once the new actor is past its first
        messages: making an interpreter competes for the CPU (and briefly for the main
        GIL) with the spawn that just used one. During a burst of spawns, at once."""
        if time.monotonic() >= self._burst_until:
            await anyio.sleep(0.05)
        self._refill_pending = False
        self.refill()

    def settle(self) -> None:
        """Wait until the spares being made are ready (blocking; for benchmarks and tests)."""
        filler = self._filler
        if filler is not None:
            filler.join()

    def _fill(self, path: tuple[str, ...]) -> None:
        while not self._closed:
            with self._lock:
                iid = self._stale()
                if iid is not None:  # out of the ready list while it imports
                    self._ready.remove(iid)
                elif len(self._ready) >= self.wanted():
                    return
            if iid is None:
                try:
                    iid = self._create(True)
                except SpawnError as exc:  # spawns make their own interpreters meanwhile
                    log.warning("no spare interpreter made: %s", exc)
                    return
            names = self.preload
            shared: dict[str, object] = {"path": path, "names": names, "package": PACKAGE}
            if backend.run(iid, _WARM, shared) is not None:
                self._warmed.pop(iid, None)
                self._destroy(iid)  # cannot happen unless the install is broken
                return
            with self._lock:
                self._ready.append(iid)
                self._warmed[iid] = self._warmed.get(iid, frozenset()) | frozenset(names)

    def release(self, iid: int, whose: str = "") -> None:
        """The interpreter's thread has ended: destroy it (it holds the old actor's
        modules), once the messages it sent have been read.

        CPython replaces what a destroyed interpreter put in a queue, and not yet read,
        with a marker: an answer to another actor's ask, or a tell to a busy actor,
        would be lost. So the interpreter stays until none is left (``unread_from``),
        or ``UNREAD_PATIENCE`` seconds. Destroying takes a few milliseconds, so it
        happens in a background thread.
        """
        self.in_use.discard(iid)
        with self._lock:
            self._doomed[iid] = (time.monotonic() + UNREAD_PATIENCE, whose)
            busy = self._reaper is not None and self._reaper.is_alive()
            if not busy:
                self._reaper = threading.Thread(target=self._reap, name="interactors-reaper")
                self._reaper.start()

    def _reap(self) -> None:
        while True:
            with self._lock:
                doomed = list(self._doomed.items())
                if not doomed:
                    self._reaper = None
                    return
            unread = set() if self._closed else backend.unread_from([i for i, _ in doomed])
            now = time.monotonic()
            for iid, (deadline, whose) in doomed:
                if iid in unread and now < deadline:
                    continue
                if iid in unread:
                    log.warning(
                        "interactors: messages sent by actor %r were still unread %s s "
                        "after it stopped; they are lost with its interpreter",
                        whose,
                        UNREAD_PATIENCE,
                    )
                with self._lock:
                    del self._doomed[iid]
                self._destroy(iid)
            if unread:
                time.sleep(0.02)

    def _destroy(self, iid: int) -> None:
        """Destroy ``iid`` unless it is still running (CPython refuses: never force it)."""
        if not destroy_or_keep(iid, ""):  # "interpreter running", or threads its actor left
            with self._lock:
                self.kept.append(iid)
            return
        with self._lock:
            self.destroyed += 1

    def forget(self, iid: int) -> None:
        """An abandoned interpreter (its thread is stuck): never touch it again."""
        self.in_use.discard(iid)

    def close(self) -> None:
        self._closed = True
        for thread in (self._filler, self._reaper):
            if thread is not None:
                thread.join()
        self._reap()
        with self._lock:
            ready, self._ready = self._ready, []
            self._warmed.clear()
        for iid in ready:
            self._destroy(iid)
