"""ActorCell: the host's record of one actor — its mailbox, interpreter, thread and asks.

The cell outlives the actor's incarnations: the mailbox, the control queue and the actor's
reply queue are the cell's, so refs stay valid across restarts. An incarnation is one run
of the worker in an interpreter, driven by one host thread that sits in the interpreter's
``exec`` for the actor's lifetime and posts an EXITED notice when it returns.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Final

import anyio

from . import _backend as backend
from . import _protocol as P
from . import _slots as S
from ._codec import Codec
from ._exceptions import (
    ActorStopped,
    IsolationError,
    MailboxFull,
    SpawnError,
    UnknownMethodError,
)
from ._mailbox import Mailbox
from ._peer import raise_reply
from ._ref import ActorStatistics

if TYPE_CHECKING:
    from ._system import ActorSystem

log = logging.getLogger("interactors")

# Actor states, as shown in statistics.
STARTING: Final = "starting"
RUNNING: Final = "running"
RESTARTING: Final = "restarting"
STOPPING: Final = "stopping"
STOPPED: Final = "stopped"
CRASHED: Final = "crashed"
ABANDONED: Final = "abandoned"

BOOT: Final = """\
import sys
sys.path[:] = list(config[5])
from interactors._worker import main as _interactors_worker_main
_interactors_worker_main(config)
"""


class ActorCell:
    """Host-side state of one actor (see the module docstring)."""

    def __init__(
        self,
        system: ActorSystem,
        actor_id: int,
        name: str,
        target: str,
        main_path: str,
        *,
        isolation: str,
        codec: Codec,
        mailbox_size: int,
        max_concurrency: int,
        on_error: str,
        handler_timeout: float | None,
        shutdown: float,
    ) -> None:
        self.system = system
        self.pump = system._pump
        self.actor_id = actor_id
        self.name = name
        self.target = target
        self.main_path = main_path
        self.isolation = isolation
        self.codec = codec
        self.max_concurrency = max_concurrency
        self.on_error = on_error
        self.handler_timeout = handler_timeout
        self.shutdown_timeout = shutdown
        self.mailbox = Mailbox(mailbox_size, name)
        self.ctl_q = backend.create_queue(0)
        self.reply_q = backend.create_queue(0)
        self.reply_fd = os.eventfd(0, os.EFD_CLOEXEC)
        self.slot_fd, self.slot_index = system._slots.allocate()
        self.fields = system._slots.view(self.slot_fd)
        self.base = self.slot_index * S.FIELDS
        self.state = STARTING
        self.methods: tuple[str, ...] = ()
        self._method_set: frozenset[str] = frozenset()
        self.iid: int | None = None
        self.thread: threading.Thread | None = None
        self.pending: set[int] = set()
        self.restarts = 0
        self.exit_reason = ""
        self.stopped_event = anyio.Event()
        self._exited: anyio.Event | None = None
        self._init: tuple[int, Any] = (P.PLAIN, ())
        self._start_id = 0
        self._closed = False

    # -- identity --------------------------------------------------------------------------

    def address(self) -> P.Address:
        return (
            self.system.system_id,
            self.actor_id,
            self.name,
            self.mailbox.qid,
            self.mailbox.fd,
            self.methods,
        )

    def is_alive(self) -> bool:
        return self.state in (STARTING, RUNNING, RESTARTING)

    def check_method(self, method: str) -> None:
        if method not in self._method_set:
            raise UnknownMethodError(
                f"actor {self.name!r} ({self.target}) has no public method {method!r}; "
                f"it has: {', '.join(self.methods) or 'none'}"
            )

    # -- encoding --------------------------------------------------------------------------

    def encode_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, Any]:
        if not kwargs and P.is_plain_args(args):
            return P.PLAIN, args
        return P.ENCODED, self.codec.encode((args, kwargs or None))

    # -- starting --------------------------------------------------------------------------

    def set_init(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Encode the constructor's arguments once (raises EncodeError at the caller)."""
        self._init = self.encode_call(args, kwargs)

    async def start(self) -> None:
        """Start an incarnation: new interpreter, thread, START; raise SpawnError on failure."""
        isolated = self.isolation != "shared_gil"
        self.iid = self.system._interpreters.acquire(isolated)
        self._exited = anyio.Event()
        start_id = self._start_id = self.system._next_id()
        config = (
            self.system.system_id,
            self.actor_id,
            self.name,
            self.target,
            self.main_path,
            tuple(sys.path),
            self.codec.spec,
            self.mailbox.qid,
            self.mailbox.fd,
            self.ctl_q,
            self.reply_q,
            self.reply_fd,
            self.pump.qid,
            self.pump.fd,
            self.slot_fd,
            self.slot_index,
            self.max_concurrency,
            start_id,
        )
        waiter = self.pump.waiter(start_id)
        self.thread = threading.Thread(
            target=self._run_interpreter,
            args=(self.iid, config),
            name=f"interactors-actor-{self.name}",
        )
        self.thread.start()
        fmt, payload = self._init
        backend.put(self.ctl_q, (P.START, start_id, "", fmt, payload, 0, 0))
        self.mailbox.wake()
        envelope = await self.pump.wait(start_id, waiter)
        if envelope[0] == P.STARTED:
            self.methods = tuple(envelope[3][0])
            self._method_set = frozenset(self.methods)
            self.state = RUNNING
            if self.isolation == "auto":
                self.isolation = "isolated"
            return
        await self._exited.wait()
        raise self._start_error(envelope[3])

    def _start_error(self, info: tuple[Any, ...]) -> SpawnError:
        why, extension, type_name, message, text, _blob = info
        if why == P.FAIL_ISOLATION:
            return IsolationError(
                f"cannot start actor {self.name!r}: {self.target} imports the extension module "
                f"{extension!r}, which cannot load in an own-GIL (isolated) interpreter. "
                'Spawn it with isolation="shared_gil", or isolation="auto" to fall back '
                "automatically.",
                extension,
                text,
            )
        if why == P.FAIL_IMPORT:
            what = f"cannot import {self.target.replace(':', '.')}"
            hint = "Check that the module is importable (sys.path) and defines that class."
        elif why == P.FAIL_CODEC:
            what = f"cannot load codec {self.codec.spec!r}"
            hint = "Choose a codec that loads in the actor's interpreter."
        else:
            what = "its __init__ or on_start raised"
            hint = "See the remote traceback."
        return SpawnError(
            f"cannot start actor {self.name!r} ({self.target}): {what}: {type_name}: {message}. "
            f"{hint}",
            text,
        )

    def _run_interpreter(self, iid: int, config: tuple[Any, ...]) -> None:
        """Host thread: run the worker until it returns, then post EXITED."""
        failure = backend.run(iid, BOOT, {"config": config})
        info = None if failure is None else (failure.type_name, failure.message, failure.traceback)
        try:
            backend.put(self.pump.qid, (P.EXITED, self.actor_id, P.PLAIN, (iid, info)))
            os.eventfd_write(self.pump.fd, 1)
        except Exception:  # the system is gone (an abandoned actor finishing late)
            log.debug("actor %r exited after its system closed", self.name)

    # -- messages --------------------------------------------------------------------------

    def _refuse(self) -> ActorStopped:
        return ActorStopped(f"actor {self.name!r} is {self.state}; it takes no more messages")

    async def ask(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.state not in (RUNNING, RESTARTING):
            raise self._refuse()
        fmt, payload = self.encode_call(args, kwargs)
        pump = self.pump
        msg_id = self.system._next_id()
        waiter = pump.waiter(msg_id)
        pending = self.pending
        pending.add(msg_id)
        try:
            try:
                self.mailbox.put_nowait((P.ASK, msg_id, method, fmt, payload, pump.qid, pump.fd))
            except MailboxFull:
                await self.mailbox.put((P.ASK, msg_id, method, fmt, payload, pump.qid, pump.fd))
            envelope = await pump.wait(msg_id, waiter)
        finally:
            pending.discard(msg_id)
            pump.waiters.pop(msg_id, None)
        return raise_reply(envelope, self.name, self.codec.decode)

    async def tell(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.state not in (RUNNING, RESTARTING):
            raise self._refuse()
        fmt, payload = self.encode_call(args, kwargs)
        await self.mailbox.put((P.TELL, 0, method, fmt, payload, 0, 0))

    def tell_nowait(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.state not in (RUNNING, RESTARTING):
            raise self._refuse()
        fmt, payload = self.encode_call(args, kwargs)
        self.mailbox.put_nowait((P.TELL, 0, method, fmt, payload, 0, 0))

    # -- stopping --------------------------------------------------------------------------

    async def stop(self, timeout: float | None = None) -> None:
        if self.state in (STOPPED, CRASHED, ABANDONED):
            return
        if self.state == STOPPING:
            await self.stopped_event.wait()
            return
        self.state = STOPPING
        timeout = self.shutdown_timeout if timeout is None else timeout
        stop_id = self.system._next_id()
        waiter = self.pump.waiter(stop_id)
        envelope = (P.STOP, stop_id, "", P.PLAIN, (), self.pump.qid, self.pump.fd)
        with anyio.move_on_after(timeout) as scope:
            await self.mailbox.put(envelope)
            reply = await self.pump.wait(stop_id, waiter)
            if reply[0] == P.REPLY_ERROR:
                log.warning("actor %r: on_stop raised %s: %s", self.name, reply[3][0], reply[3][1])
            if self._exited is not None:
                await self._exited.wait()
        self.pump.waiters.pop(stop_id, None)
        if scope.cancelled_caught:
            self._abandon(f"did not stop within {timeout} s")
        await self.stopped_event.wait()

    def _abandon(self, why: str) -> None:
        """Give up on an actor that does not stop (stuck in C code, or ignoring stop)."""
        log.error("actor %r %s; abandoning its interpreter", self.name, why)
        self.state = ABANDONED
        self.exit_reason = f"abandoned: {why}"
        self.system._abandoned.append(self)
        self._finish(crashed=True, detail=self.exit_reason)

    async def wait_stopped(self) -> str:
        await self.stopped_event.wait()
        return self.exit_reason

    # -- exit notices ----------------------------------------------------------------------

    def on_exited(self, iid: int, info: tuple[str, str, str] | None) -> None:
        """The interpreter's thread returned (EXITED notice), normally or not."""
        if self.iid == iid:
            if self.thread is not None:
                self.thread.join()
            if self.state != ABANDONED:
                self.system._interpreters.release(iid)
                self.iid = None
        if self._exited is not None:
            self._exited.set()
        if self.state == ABANDONED:
            return
        if self.state == STARTING:
            # START_FAILED normally came first; if the worker died before sending it
            # (e.g. interactors itself failed to import there), fail the start now.
            type_name, message, text = info or ("RuntimeError", "the worker exited", "")
            failure = (P.FAIL_IMPORT, "", type_name, message, text, None)
            self.pump.fail(self._start_id, (P.START_FAILED, self._start_id, P.PLAIN, failure))
            return
        if info is not None:
            type_name, message, text = info
            log.error("actor %r exited: %s: %s", self.name, type_name, message)
            self.exit_reason = f"{type_name}: {message}"
            self._finish(crashed=True, detail=text or self.exit_reason)
        else:
            self.exit_reason = self.exit_reason or "normal"
            self._finish(crashed=False, detail="the actor stopped")

    def stop_nowait(self) -> None:
        """Ask the worker to stop via the control queue, without waiting."""
        self.state = STOPPING
        backend.put(self.ctl_q, (P.STOP, 0, "", P.PLAIN, (), self.pump.qid, self.pump.fd))
        self.mailbox.wake()

    async def wait_exited(self, timeout: float) -> bool:
        if self._exited is None:
            return True
        with anyio.move_on_after(timeout):
            await self._exited.wait()
            return True
        return False

    def _finish(self, crashed: bool, detail: str) -> None:
        """The actor is gone for good: fail what waits for it, refuse what comes."""
        if self.state not in (ABANDONED,):
            self.state = CRASHED if crashed else STOPPED
        error = (
            "ActorCrashed" if crashed else "ActorStopped",
            f"actor {self.name!r} is gone ({self.exit_reason or 'stopped'})",
            detail,
            None,
        )
        for msg_id in list(self.pending):
            self.pump.fail(msg_id, (P.REPLY_CRASHED, msg_id, P.PLAIN, error))
        self.pending.clear()
        if not self._closed:
            for envelope in self.mailbox.take_all():
                _refuse_queued(envelope, error)
        self.stopped_event.set()
        self.system._forget(self)

    # -- introspection ---------------------------------------------------------------------

    def statistics(self) -> ActorStatistics:
        fields, base = self.fields, self.base
        busy_since = fields[base + S.BUSY_SINCE] if fields[base + S.CURRENT_MSG] else 0
        return ActorStatistics(
            name=self.name,
            actor_id=self.actor_id,
            state=self.state,
            isolation=self.isolation,
            interpreter_id=self.iid,
            mailbox_depth=0 if self._closed else self.mailbox.depth(),
            mailbox_size=self.mailbox.maxsize,
            messages_handled=fields[base + S.HANDLED],
            errors=fields[base + S.ERRORS],
            restarts=self.restarts,
            busy_seconds=(time.monotonic_ns() - busy_since) / 1e9 if busy_since else None,
        )

    def close(self) -> None:
        """Free the queues and fds (the actor's thread has ended or was abandoned)."""
        if self._closed:
            return
        self._closed = True
        if self.state == ABANDONED:
            return  # its interpreter may still touch them
        self.mailbox.close()
        backend.destroy_queue(self.ctl_q)
        backend.destroy_queue(self.reply_q)
        os.close(self.reply_fd)
        self.system._slots.release(self.slot_fd, self.slot_index)


def _refuse_queued(envelope: Any, error: tuple[Any, ...]) -> None:
    """Answer an ask left in a dead actor's mailbox, so its asker never hangs."""
    if envelope is backend.UNBOUND or envelope[0] != P.ASK:
        return
    try:
        backend.put(envelope[5], (P.REPLY_CRASHED, envelope[1], P.PLAIN, error))
        os.eventfd_write(envelope[6], 1)
    except Exception:
        log.debug("could not refuse a queued ask (its sender is gone)")
