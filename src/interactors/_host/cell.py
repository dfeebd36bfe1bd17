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

import contextlib
import logging
import os
import sys
import threading
from typing import Any

import anyio

from .. import _backend as backend
from .._wire import envelope as P
from .._wire import slots as S
from .mailbox import MailboxClosed
from .messaging import (
    CRASHED,
    INTERRUPT_AFTER,
    RESTARTING,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
    W_EXITING,
    W_NONE,
    W_SERVING,
    W_WAITING,
    CellMessaging,
)
from .process_actor import ProcessLink
from .worker_thread import refuse_queued, run_interpreter, start_error

__all__ = ("ActorCell",)

log = logging.getLogger("interactors")


class ActorCell(CellMessaging):
    """Host-side state of one actor and its lifecycle (see the module docstring)."""

    async def start(self, fresh: bool = False) -> None:
        """Start an incarnation and wait until it serves; raise SpawnError if it fails.

        Restarts in place when the worker is alive and waiting (cheapest), reuses the
        interpreter when only the thread ended, and takes a new interpreter when there is
        none or ``fresh`` is asked for.
        """
        first = self.state == STARTING  # (not a restart)
        if self.worker == W_SERVING:  # (a restart racing another: end this incarnation first)
            await self.terminate()
        await self.system._spawned.stop_children(self)  # what the last incarnation started
        self.fields[self.base + S.WAITING_ON] = 0  # (an abandoned incarnation's wait)
        start_id = self._start_id = self.system._next_id()
        if self.worker == W_WAITING and not fresh:
            self.fields[self.base + S.INTERRUPT] = 0
            envelope: tuple[Any, ...] = (P.RESTART, start_id, "", P.PLAIN, (), 0, 0, -1)
        else:
            if self.worker == W_WAITING:
                await self._exit_worker()
            if fresh or self.isolation == "process":
                self.release_interpreter()
            if self.iid is None and self.isolation != "process":
                self.iid = await self.system._interpreters.acquire(self.isolation != "shared_gil")
                self.system._refill_soon()
            if not self.is_alive():  # its ref stopped it meanwhile: the stop wins
                self.release_interpreter()  # (one that came after the cell closed)
                return
            self._launch(start_id)
            fmt, payload = self._init
            envelope = (P.START, start_id, "", fmt, payload, 0, 0, -1)
        waiter = self.pump.waiter(start_id)
        backend.put(self.ctl_q, envelope)
        self.mailbox.wake()
        endings = self._endings
        reply = await self.pump.wait(start_id, waiter)
        if self._closed and not first:
            return  # stopped for good while it restarted (a kill, say): nothing to start
        if reply[0] == P.STARTED:
            self.methods = tuple(reply[3][0])
            self._method_set = frozenset(self.methods)
            if self.isolation in ("isolated", "auto"):
                self.system._interpreters.learn(self.target, reply[3][2])
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
        self.fields[self.base + S.INTERRUPT] = 0
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
            self.interrupt_fd,
        )
        self.worker = W_SERVING
        if self.isolation == "process":
            if self.process is None:
                self.process = ProcessLink(self)
            self.process.launch(config)
            return
        self.thread = threading.Thread(
            target=run_interpreter,
            args=(self.pump.qid, self.pump.fd, self.actor_id, self.iid, self.token, config),
            name=f"interactors-actor-{self.name}",
        )
        self.thread.start()

    async def stop(
        self, timeout: float | None = None, crashed: bool = False, reason: str = "normal"
    ) -> None:
        """Stop for good after the queued messages (``on_stop`` runs); never restarted.

        ``crashed`` marks the final state when a supervisor gives up on a crashed actor.
        ``reason`` is the exit reason unless one is set already (a crash's, or a normal
        exit's): ``"normal"`` for ``ref.stop()``, ``"shutdown"`` from a supervisor or the
        system; ``"killed"`` replaces it if the actor has to be abandoned.
        """
        if self.state in (STOPPED, CRASHED):
            return
        if self.state == STOPPING:
            await self.stopped_event.wait()
            return
        self.state = STOPPING
        self._stop_crashed = crashed
        self.exit_reason = self.exit_reason or reason
        timeout = self.shutdown_timeout if timeout is None else timeout
        if self.worker == W_SERVING and timeout <= 0:
            # OTP's brutal kill: no STOP, no on_stop; the worker leaves when it next looks.
            self.abandon("was killed (stop timeout 0)", brutal=True)
        elif self.worker == W_SERVING:
            stop_id = self._stop_id = self.system._next_id()
            envelope = (P.STOP, stop_id, "", P.PLAIN, (), self.pump.qid, self.pump.fd, -1)
            waiter = self.pump.waiter(stop_id)
            sent = False
            with anyio.move_on_after(timeout) as scope:
                # No child task here: a KeyboardInterrupt must reach the caller as it is.
                with anyio.move_on_after(timeout * INTERRUPT_AFTER) as patience:
                    with contextlib.suppress(MailboxClosed):  # (it exited meanwhile)
                        await self.mailbox.put(envelope)
                    sent = True
                    self._log_stop_error(await self.pump.wait(stop_id, waiter))
                    await self._exited.wait()
                if patience.cancelled_caught:
                    waiter = self.pump.waiter(stop_id)  # (no checkpoint since the cancel)
                    self.interrupt(S.INTERRUPT_STOP)
                    if not sent and not self._closed:
                        with contextlib.suppress(MailboxClosed):  # (it left meanwhile)
                            await self.mailbox.put(envelope)  # it was waiting for room
                    await self._exited.wait()
                    reply = waiter.take()
                    if reply is not None:
                        self._log_stop_error(reply)
            self.pump.waiters.pop(stop_id, None)
            if scope.cancelled_caught:
                self.abandon(f"did not stop within {timeout} s")
        elif self.worker in (W_WAITING, W_EXITING):  # (exiting: for a fresh interpreter)
            await self._exit_worker(timeout)
        self.finish(crashed=crashed)

    async def terminate(self, timeout: float | None = None) -> None:
        """End the current incarnation now (``on_stop`` runs), keeping the cell for a restart.

        Messages still queued stay in the mailbox for the next incarnation.
        """
        timeout = self.shutdown_timeout if timeout is None else timeout
        if self.worker != W_SERVING or not self.is_alive():  # (a stop has begun: it wins)
            return
        self.state = RESTARTING
        term_id = self._term_id = self.system._next_id()
        waiter = self.pump.waiter(term_id)
        backend.put(
            self.ctl_q, (P.TERMINATE, term_id, "", P.PLAIN, (), self.pump.qid, self.pump.fd, -1)
        )
        self.mailbox.wake()
        with anyio.move_on_after(timeout) as scope:
            with anyio.move_on_after(timeout * INTERRUPT_AFTER) as patience:
                self._log_stop_error(await self.pump.wait(term_id, waiter))
            if patience.cancelled_caught:
                waiter = self.pump.waiter(term_id)  # (no checkpoint since the cancel)
                self.interrupt(S.INTERRUPT_TERMINATE)
                self._log_stop_error(await self.pump.wait(term_id, waiter))
            self.worker = W_WAITING if self.worker == W_SERVING else self.worker  # (or exited)
        self.pump.waiters.pop(term_id, None)
        if scope.cancelled_caught:
            self.abandon(f"did not stop within {timeout} s")

    async def _exit_worker(self, timeout: float | None = None) -> None:
        """Tell a waiting worker to leave and wait for its thread to end: a second at least,
        even for a kill (``ref.stop(0)``). It runs no handler, and leaves when it reads this."""
        self.worker = W_EXITING
        backend.put(self.ctl_q, (P.EXIT, 0, "", P.PLAIN, (), 0, 0, -1))
        self.mailbox.wake()
        with anyio.move_on_after(self.shutdown_timeout if timeout is None else max(timeout, 1)):
            await self._exited.wait()
            return
        self.abandon("did not exit")

    def abandon(self, why: str, brutal: bool = False) -> None:
        """Give up on an incarnation that does not stop (stuck in C, or ignoring its deadline).

        Its interpreter and thread are left alone (a running interpreter cannot be
        destroyed); the next incarnation gets a fresh interpreter. If the stuck worker ever
        comes back, it sees it is no longer the owner and leaves (it is woken for that, in
        case it is idle). ``brutal``: a kill asked for (``ref.stop(0)``), not a failure.
        An actor abandoned while it stops for good (not after a crash) was ``"killed"``.
        """
        if self.state == STOPPING and not self._stop_crashed:
            self.exit_reason = "killed"
        log.log(
            logging.INFO if brutal else logging.ERROR,
            "actor %r %s; %s",
            self.name,
            why,
            "killing its process" if self.process else "abandoning its interpreter",
        )
        self.token += 1
        self.fields[self.base + S.OWNER] = self.token
        if not self._closed:
            self.mailbox.wake()
            # Its watchdog answers the asks its other async handlers were running.
            os.eventfd_write(self.interrupt_fd, 1)
        if self.iid is not None and self.thread is not None:
            self.system._abandon(self.iid, self.thread, self)
        if self.process is not None:  # a process can be killed: nothing is left behind
            self.process.kill()
        self.iid = None
        self.thread = None
        self.worker = W_NONE
        self._exited.set()
        self.fail_in_flight(f"hung: {why}")

    def finish(self, crashed: bool) -> None:
        """The actor is gone for good: fail what waits for it, refuse what comes."""
        if self._closed:
            return
        self.state = CRASHED if crashed else STOPPED
        level = logging.DEBUG if self.exit_reason in ("normal", "shutdown") else logging.INFO
        log.log(level, "actor %r stopped: %s", self.name, self.exit_reason)
        error = (
            "ActorCrashed" if crashed else "ActorStopped",
            f"actor {self.name!r} is gone ({self.exit_reason or 'stopped'})",
            "",
            None,
        )
        self.fail_pending(error)
        self._fail_start(None)  # (a restart's start that its worker will not answer now)
        if dropped := refuse_queued(self.mailbox.take_all(), error):
            self.system._events["tells_dropped"] += dropped
        self.stopped_event.set()
        if self.owner is not None:
            self.owner.cell_finished(self)
        self.system._forget(self)

    def on_crashed(self, payload: tuple[Any, ...]) -> None:
        """A handler failed under on_error="restart" or "stop" (CRASHED notice)."""
        policy, token, type_name, message, _text = payload
        if token != self.token:
            return  # from an abandoned incarnation
        self._endings += 1
        reason = P.cause(type_name, message)
        self.exit_reason = reason  # kept if its supervisor does not restart it
        if self.fields[self.base + S.CURRENT_SEQ]:
            # Ended outside the handler's own error path (an interruption that landed as
            # the handler returned): its ask has no answer yet. The worker waits for the
            # host's START now, so the slot's in-flight fields are still that handler's.
            self.fail_in_flight(reason)
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
        self._release_stop()  # (a terminate waiting for the worker's answer: none comes)
        if self.thread is not None:
            self.thread.join()
        self.thread = None
        if self.process is not None:
            self.process.ended()
        previous = self.worker
        self.worker = W_NONE
        self._exited.set()
        if self.state == STARTING or (previous == W_EXITING and self.state == RESTARTING):
            if self.state == STARTING and self._start_id in self.pump.waiters:
                self._fail_start(info)
            return
        if self.state == STOPPING:
            self.finish(crashed=self._stop_crashed)
            return
        # The thread ended on its own while serving or waiting: SystemExit, or a fatal error.
        if info is None:
            reason, abnormal = "normal", False
        else:
            reason, abnormal = P.ending(*info[:2])
        log.log(
            logging.ERROR if abnormal else logging.INFO, "actor %r exited: %s", self.name, reason
        )
        self.fail_in_flight(reason)  # (as it ended: "a normal exit (SystemExit: 0)")
        reason = reason if abnormal else "normal"  # SystemExit(0): it returned
        self.exit_reason = reason
        self.state = RESTARTING
        self.system._count("crashed" if abnormal else "exited")
        self._tell_owner(reason, abnormal)

    def _release_stop(self) -> None:
        """Answer our own STOP or TERMINATE, which a worker that crashed or exited will not."""
        for msg_id in (self._stop_id, self._term_id):
            self.pump.fail(msg_id, (P.REPLY_OK, msg_id, P.PLAIN, None))

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
