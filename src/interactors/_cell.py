"""ActorCell: the host's record of one actor — its mailbox, interpreter, thread and asks.

The cell outlives the actor's incarnations: the mailbox, the control queue and the actor's
reply queue are the cell's, so refs stay valid across restarts and messages queued during
a restart reach the next incarnation. A worker runs in the cell's interpreter, driven by
one host thread that sits in the interpreter's ``exec`` and posts EXITED when it returns.

How an incarnation ends, and what the cell tells its owner (a supervisor):

==========================  ==========================================  ===========
what happened               worker afterwards                           abnormal?
==========================  ==========================================  ===========
handler raised, "restart"   alive, waiting for RESTART/EXIT             yes
handler raised, "stop"      gone (on_stop ran)                          no (final)
``SystemExit`` / thread end gone; interpreter reusable                  unless code 0
hung past handler_timeout   abandoned; a fresh interpreter replaces it  yes
``ref.stop()``              gone (on_stop ran)                          no (final)
==========================  ==========================================  ===========
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Final, Protocol

import anyio

from . import _backend as backend
from . import _protocol as P
from . import _slots as S
from ._codec_protocol import Codec
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

# Worker situations (host's view of the current incarnation).
W_NONE: Final = "none"  # no thread (never started, or it returned)
W_SERVING: Final = "serving"
W_WAITING: Final = "waiting"  # alive, no instance, waiting for a control message
W_EXITING: Final = "exiting"  # told to leave, or leaving on its own

BOOT: Final = """\
import sys
sys.path[:] = list(config[5])
from interactors._worker import main as _interactors_worker_main
_interactors_worker_main(config)
"""


class CellOwner(Protocol):
    def incarnation_ended(self, cell: ActorCell, reason: str, abnormal: bool) -> None: ...

    def cell_finished(self, cell: ActorCell) -> None: ...


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
        self.owner: CellOwner | None = None
        self.slot_fd, self.slot_index = system._slots.allocate()
        self.fields = system._slots.view(self.slot_fd)
        self.base = self.slot_index * S.FIELDS
        self.mailbox = Mailbox(mailbox_size, name, self.fields, self.base + S.PARKED)
        self.ctl_q = backend.create_queue(0)
        self.reply_q = backend.create_queue(0)
        self.reply_fd = os.eventfd(0, os.EFD_CLOEXEC)
        self.state = STARTING
        self.worker = W_NONE
        self.methods: tuple[str, ...] = ()
        self._method_set: frozenset[str] = frozenset()
        self.iid: int | None = None
        self.thread: threading.Thread | None = None
        self.token = 0
        self.pending: set[int] = set()
        self.exit_reason = ""
        self.stopped_event = anyio.Event()
        self._exited = anyio.Event()
        self._init: tuple[int, Any] = (P.PLAIN, ())
        self._start_id = 0
        self._stop_id = 0
        self._endings = 0  # incarnations that ended (crash and exit notices handled)
        self._stop_crashed = False
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
            S.flag_code(self.slot_fd, self.base + S.PARKED),
        )

    def is_alive(self) -> bool:
        return self.state in (STARTING, RUNNING, RESTARTING)

    def check_method(self, method: str) -> None:
        if method not in self._method_set:
            raise UnknownMethodError.of(f"{self.name!r} ({self.target})", method, self.methods)

    def encode_call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, Any]:
        return P.encode_call(self.codec, args, kwargs)

    def set_init(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Encode the constructor's arguments once (raises EncodeError at the caller)."""
        self._init = self.encode_call(args, kwargs)

    # -- starting --------------------------------------------------------------------------

    async def start(self, fresh: bool = False) -> None:
        """Start an incarnation and wait until it serves; raise SpawnError if it fails.

        Restarts in place when the worker is alive and waiting (cheapest), reuses the
        interpreter when only the thread ended, and takes a new interpreter when there is
        none or ``fresh`` is asked for.
        """
        start_id = self._start_id = self.system._next_id()
        if self.worker == W_WAITING and not fresh:
            envelope: tuple[Any, ...] = (P.RESTART, start_id, "", P.PLAIN, (), 0, 0, -1)
        else:
            if self.worker == W_WAITING:
                await self._exit_worker()
            if fresh and self.iid is not None:
                self.system._interpreters.release(self.iid)
                self.iid = None
            if self.iid is None:
                self.iid = await self.system._interpreters.acquire(self.isolation != "shared_gil")
                self.system._refill_soon()
            self._launch(start_id)
            fmt, payload = self._init
            envelope = (P.START, start_id, "", fmt, payload, 0, 0, -1)
        waiter = self.pump.waiter(start_id)
        backend.put(self.ctl_q, envelope)
        self.mailbox.wake()
        endings = self._endings
        reply = await self.pump.wait(start_id, waiter)
        if reply[0] == P.STARTED:
            self.methods = tuple(reply[3][0])
            self._method_set = frozenset(self.methods)
            if self._endings != endings:
                # The new incarnation already crashed or exited (its notice was handled
                # before this task resumed): that notice set the state; keep it.
                return
            self.worker = W_SERVING
            if self.state == STOPPING:  # stopped while it restarted: the stop wins
                return
            self.state = RUNNING
            self.exit_reason = ""
            if self.isolation == "auto":
                self.isolation = "isolated"
            return
        info = reply[3]
        if info[2]:  # the worker leaves after a failed load: wait for its thread to end
            self.worker = W_EXITING
            await self._exited.wait()
        else:
            self.worker = W_WAITING
        raise start_error(self, info)

    def _launch(self, start_id: int) -> None:
        """Start the host thread that runs a worker in the cell's interpreter."""
        while backend.count(self.ctl_q):  # left over by a worker that never read them
            backend.get(self.ctl_q)
        self.token += 1
        self.fields[self.base + S.OWNER] = self.token
        self.fields[self.base + S.HEARTBEAT] = 0
        self._exited = anyio.Event()
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
            self.on_error,
            float(self.handler_timeout or 0.0),
            self.token,
        )
        self.worker = W_SERVING
        self.thread = threading.Thread(
            target=_run_interpreter,
            args=(self.pump.qid, self.pump.fd, self.actor_id, self.iid, self.token, config),
            name=f"interactors-actor-{self.name}",
        )
        self.thread.start()

    # -- messages --------------------------------------------------------------------------

    def _refuse(self) -> ActorStopped:
        return ActorStopped(f"actor {self.name!r} is {self.state}; it takes no more messages")

    async def ask(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self.state not in (RUNNING, RESTARTING):
            raise self._refuse()
        fmt, payload = self.encode_call(args, kwargs)
        pump = self.pump
        msg_id = self.system._next_id()
        envelope = (P.ASK, msg_id, method, fmt, payload, pump.qid, pump.fd, -1)
        waiter = pump.waiter(msg_id)
        pending = self.pending
        pending.add(msg_id)
        try:
            try:
                self.mailbox.put_nowait(envelope)
            except MailboxFull:
                await self.mailbox.put(envelope)
            reply = await pump.wait(msg_id, waiter)
        finally:
            pending.discard(msg_id)
            pump.waiters.pop(msg_id, None)
        return raise_reply(reply, self.name, self.codec.decode)

    async def tell(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.state not in (RUNNING, RESTARTING):
            raise self._refuse()
        fmt, payload = self.encode_call(args, kwargs)
        await self.mailbox.put((P.TELL, 0, method, fmt, payload, 0, 0, -1))

    def tell_nowait(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if self.state not in (RUNNING, RESTARTING):
            raise self._refuse()
        fmt, payload = self.encode_call(args, kwargs)
        self.mailbox.put_nowait((P.TELL, 0, method, fmt, payload, 0, 0, -1))

    # -- ending ------------------------------------------------------------------------------

    async def stop(self, timeout: float | None = None, crashed: bool = False) -> None:
        """Stop for good after the queued messages (``on_stop`` runs); never restarted.

        ``crashed`` marks the final state when a supervisor gives up on a crashed actor.
        """
        if self.state in (STOPPED, CRASHED):
            return
        if self.state == STOPPING:
            await self.stopped_event.wait()
            return
        self.state = STOPPING
        self._stop_crashed = crashed
        self.exit_reason = self.exit_reason or "normal"
        timeout = self.shutdown_timeout if timeout is None else timeout
        if self.worker == W_SERVING:
            stop_id = self._stop_id = self.system._next_id()
            waiter = self.pump.waiter(stop_id)
            with anyio.move_on_after(timeout) as scope:
                await self.mailbox.put(
                    (P.STOP, stop_id, "", P.PLAIN, (), self.pump.qid, self.pump.fd, -1)
                )
                self._log_stop_error(await self.pump.wait(stop_id, waiter))
                await self._exited.wait()
            self.pump.waiters.pop(stop_id, None)
            if scope.cancelled_caught:
                self.abandon(f"did not stop within {timeout} s")
        elif self.worker == W_WAITING:
            await self._exit_worker(timeout)
        self.finish(crashed=crashed)

    async def terminate(self, timeout: float | None = None) -> None:
        """End the current incarnation now (``on_stop`` runs), keeping the cell for a restart.

        Messages still queued stay in the mailbox for the next incarnation.
        """
        timeout = self.shutdown_timeout if timeout is None else timeout
        if self.worker != W_SERVING:
            return
        self.state = RESTARTING
        term_id = self.system._next_id()
        waiter = self.pump.waiter(term_id)
        backend.put(
            self.ctl_q, (P.TERMINATE, term_id, "", P.PLAIN, (), self.pump.qid, self.pump.fd, -1)
        )
        self.mailbox.wake()
        with anyio.move_on_after(timeout) as scope:
            self._log_stop_error(await self.pump.wait(term_id, waiter))
            self.worker = W_WAITING
        self.pump.waiters.pop(term_id, None)
        if scope.cancelled_caught:
            self.abandon(f"did not stop within {timeout} s")

    def _log_stop_error(self, reply: tuple[Any, ...]) -> None:
        if reply[0] == P.REPLY_ERROR:
            log.warning("actor %r: on_stop raised %s: %s", self.name, reply[3][0], reply[3][1])

    async def _exit_worker(self, timeout: float | None = None) -> None:
        """Tell a waiting worker to leave and wait for its thread to end."""
        self.worker = W_EXITING
        backend.put(self.ctl_q, (P.EXIT, 0, "", P.PLAIN, (), 0, 0, -1))
        self.mailbox.wake()
        with anyio.move_on_after(self.shutdown_timeout if timeout is None else timeout):
            await self._exited.wait()
            return
        self.abandon("did not exit")

    def abandon(self, why: str) -> None:
        """Give up on an incarnation that does not stop (stuck in C, or ignoring its deadline).

        Its interpreter and thread are left alone (a running interpreter cannot be
        destroyed); the next incarnation gets a fresh interpreter. If the stuck worker ever
        comes back, it sees it is no longer the owner and leaves.
        """
        log.error("actor %r %s; abandoning its interpreter", self.name, why)
        self.token += 1
        self.fields[self.base + S.OWNER] = self.token
        if self.iid is not None and self.thread is not None:
            self.system._abandon(self.iid, self.thread, self)
        self.iid = None
        self.thread = None
        self.worker = W_NONE
        self._exited.set()
        self._fail_in_flight(f"hung: {why}")

    def finish(self, crashed: bool) -> None:
        """The actor is gone for good: fail what waits for it, refuse what comes."""
        if self._closed:
            return
        self.state = CRASHED if crashed else STOPPED
        error = (
            "ActorCrashed" if crashed else "ActorStopped",
            f"actor {self.name!r} is gone ({self.exit_reason or 'stopped'})",
            "",
            None,
        )
        for msg_id in list(self.pending):
            self.pump.fail(msg_id, (P.REPLY_CRASHED, msg_id, P.PLAIN, error))
        self.pending.clear()
        for envelope in self.mailbox.take_all():
            _refuse_queued(envelope, error)
        self.stopped_event.set()
        if self.owner is not None:
            self.owner.cell_finished(self)
        self.system._forget(self)

    def _fail_in_flight(self, reason: str) -> None:
        msg_id = self.fields[self.base + S.IN_FLIGHT_ASK]
        self.fields[self.base + S.IN_FLIGHT_ASK] = 0
        self.fields[self.base + S.CURRENT_SEQ] = 0
        if msg_id and msg_id in self.pending:
            error = (
                "ActorCrashed",
                f"actor {self.name!r} died handling this message: {reason}",
                "",
                None,
            )
            self.pump.fail(msg_id, (P.REPLY_CRASHED, msg_id, P.PLAIN, error))

    async def wait_stopped(self) -> str:
        await self.stopped_event.wait()
        return self.exit_reason

    # -- notices from the worker and its thread --------------------------------------------------

    def on_crashed(self, payload: tuple[Any, ...]) -> None:
        """A handler failed under on_error="restart" or "stop" (CRASHED notice)."""
        policy, token, type_name, message, _text = payload
        if token != self.token:
            return  # from an abandoned incarnation
        self._endings += 1
        reason = f"{type_name}: {message}"
        self.exit_reason = reason  # kept if its supervisor does not restart it
        log.error("actor %r crashed: %s", self.name, reason)
        self.system._count("crashed")
        if self.state == STOPPING:
            # It crashed before reaching our STOP: it will not answer it. Let it leave.
            self._release_stop()
            if policy != "stop":
                self.worker = W_EXITING
                backend.put(self.ctl_q, (P.EXIT, 0, "", P.PLAIN, (), 0, 0, -1))
                self.mailbox.wake()
            return
        if policy == "stop":
            self.worker = W_EXITING
            self.state = STOPPING
            self.exit_reason = f"stopped after {reason}"
            return  # its thread ends next; EXITED finishes the cell
        self.worker = W_WAITING
        self.state = RESTARTING
        self._tell_owner(reason, abnormal=True)

    def on_exited(self, iid: int, token: int, info: tuple[str, str, str] | None) -> None:
        """The interpreter's thread returned (EXITED notice), normally or not."""
        if token != self.token:
            return  # an abandoned incarnation finally ended; the system freed it
        self._endings += 1
        if self.thread is not None:
            self.thread.join()
        self.thread = None
        previous = self.worker
        self.worker = W_NONE
        self._exited.set()
        if self.state == STARTING or (previous == W_EXITING and self.state == RESTARTING):
            if self.state == STARTING and self._start_id in self.pump.waiters:
                self._fail_start(info)
            return
        if self.state == STOPPING:
            self._release_stop()
            self.finish(crashed=self._stop_crashed)
            return
        # The thread ended on its own while serving or waiting: SystemExit, or a fatal error.
        if info is None:
            reason, abnormal = "exited", False
        else:
            type_name, message, _text = info
            reason = f"{type_name}: {message}" if message else type_name
            abnormal = not (type_name == "SystemExit" and message in ("", "0", "None"))
        log.log(
            logging.ERROR if abnormal else logging.INFO, "actor %r exited: %s", self.name, reason
        )
        self._fail_in_flight(reason)
        self.exit_reason = reason
        self.state = RESTARTING
        self.system._count("crashed" if abnormal else "exited")
        self._tell_owner(reason, abnormal)

    def _release_stop(self) -> None:
        """Answer our own STOP for a worker that will not (it crashed or exited first)."""
        if self._stop_id:
            self.pump.fail(self._stop_id, (P.REPLY_OK, self._stop_id, P.PLAIN, None))

    def _fail_start(self, info: tuple[str, str, str] | None) -> None:
        # START_FAILED normally comes first; if the worker died before sending it (e.g.
        # interactors itself failed to import there), fail the start now.
        type_name, message, text = info or ("RuntimeError", "the worker exited", "")
        failure = (P.FAIL_IMPORT, "", True, type_name, message, text, None)
        self.pump.fail(self._start_id, (P.START_FAILED, self._start_id, P.PLAIN, failure))

    def _tell_owner(self, reason: str, abnormal: bool) -> None:
        if self.owner is not None:
            self.owner.incarnation_ended(self, reason, abnormal)
        else:
            self.exit_reason = reason
            self.finish(crashed=abnormal)

    def check_deadline(self, now_ns: int) -> None:
        """Called periodically: abandon an incarnation stuck past its deadline and grace."""
        if not self.handler_timeout or self.worker != W_SERVING:
            return
        fields, base = self.fields, self.base
        beat = fields[base + S.HEARTBEAT]
        if beat:  # an async actor: its loop's heartbeat must stay fresh
            busy = (now_ns - beat) / 1e9
        elif fields[base + S.CURRENT_SEQ]:
            busy = (now_ns - fields[base + S.BUSY_SINCE]) / 1e9
        else:
            return
        if busy > self.handler_timeout + self.shutdown_timeout:
            self.abandon(f"was stuck in a handler for {busy:.1f} s")
            self.exit_reason = f"hung for {busy:.1f} s"
            self.state = RESTARTING
            self.system._count("hung")
            self._tell_owner(f"hung for {busy:.1f} s", abnormal=True)

    # -- introspection ---------------------------------------------------------------------

    def statistics(self) -> ActorStatistics:
        fields, base = self.fields, self.base
        busy_since = fields[base + S.BUSY_SINCE] if fields[base + S.CURRENT_SEQ] else 0
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
            restarts=max(0, fields[base + S.INCARNATION] - 1),
            busy_seconds=(time.monotonic_ns() - busy_since) / 1e9 if busy_since else None,
        )

    def close(self) -> None:
        """Free the interpreter, queues and fds (the actor's thread has ended)."""
        if self._closed:
            return
        self._closed = True
        if self.iid is not None:
            self.system._interpreters.release(self.iid)
            self.iid = None
        if self.system._has_abandoned(self.actor_id):
            self.system._defer_free(self)  # its stuck interpreter may still use them
        else:
            self.free_queues()

    def free_queues(self) -> None:
        self.mailbox.close()
        backend.destroy_queue(self.ctl_q)
        backend.destroy_queue(self.reply_q)
        os.close(self.reply_fd)
        self.system._slots.release(self.slot_fd, self.slot_index)


def _run_interpreter(
    host_q: int, host_fd: int, actor_id: int, iid: int, token: int, config: tuple[Any, ...]
) -> None:
    """Host thread: run the worker until it returns, then post EXITED."""
    try:
        failure = backend.run(iid, BOOT, {"config": config})
    except Exception as exc:  # e.g. the interpreter is gone: still report the exit
        failure = backend.RunFailure(type(exc).__qualname__, str(exc), "")
    info = None if failure is None else (failure.type_name, failure.message, failure.traceback)
    try:
        backend.put(host_q, (P.EXITED, actor_id, P.PLAIN, (iid, token, info)))
        os.eventfd_write(host_fd, 1)
    except Exception:  # the system is gone (an abandoned actor finishing late)
        log.debug("actor %d exited after its system closed", actor_id)


def _refuse_queued(envelope: Any, error: tuple[Any, ...]) -> None:
    """Answer an ask left in a dead actor's mailbox, so its asker never hangs."""
    if envelope is backend.UNBOUND or envelope[0] != P.ASK:
        return
    try:
        backend.put(envelope[5], (P.REPLY_CRASHED, envelope[1], P.PLAIN, error))
        os.eventfd_write(envelope[6], 1)
    except Exception:
        log.debug("could not refuse a queued ask (its sender is gone)")


def start_error(cell: ActorCell, info: tuple[Any, ...]) -> SpawnError:
    """The typed error for a START_FAILED payload."""
    why, extension, _exiting, type_name, message, text, _blob = info
    if why == P.FAIL_ISOLATION:
        return IsolationError(
            f"cannot start actor {cell.name!r}: {cell.target} imports the extension module "
            f"{extension!r}, which cannot load in an own-GIL (isolated) interpreter. "
            'Spawn it with isolation="shared_gil", or isolation="auto" to fall back '
            "automatically.",
            extension,
            text,
        )
    if why == P.FAIL_IMPORT:
        what = f"cannot import {cell.target.replace(':', '.')}"
        hint = "Check that the module is importable (sys.path) and defines that class."
    elif why == P.FAIL_CODEC:
        what = f"cannot load codec {cell.codec.spec!r}"
        hint = "Choose a codec that loads in the actor's interpreter."
    else:
        what = "its __init__ or on_start raised"
        hint = "See the remote traceback."
    return SpawnError(
        f"cannot start actor {cell.name!r} ({cell.target}): {what}: {type_name}: {message}. {hint}",
        text,
    )
