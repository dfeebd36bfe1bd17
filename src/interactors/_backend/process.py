"""The ``process`` isolation level, host side: an actor in a child process behind a channel.

The actor's cell keeps its host queues (mailbox, control, the actor's reply queue) and
its slot of shared counters, exactly as for an actor in an interpreter; the rest of the
host does not know the difference. A *bridge* thread per child stands in for the worker:
it parks on the mailbox's eventfd with its own PARKED flag (so senders wake it only when
it sleeps), forwards what arrives to the child over the channel (:mod:`.channel`), and
executes what the child sends back ("put this envelope on host queue Q, wake fd F"):
replies to the host or to other actors, asks and tells to other actors' mailboxes.

The child gets the slot memfd, so statistics, parked flags, heartbeats and deadlines work
unchanged, and the cell's interrupt eventfd, so a stop wakes the child's watchdog as it
wakes an interpreter's. The child runs ``interactors._inside.process_main``.

The bridge hands the child at most ``window`` (the mailbox size) messages it has not
handled yet; the rest wait in the host mailbox, which therefore fills up and refuses
``tell_nowait`` while the actor is busy. A ``tell_nowait`` sent by the child is put on its
host queue once and answered (PUT_RESULT), so that its sender can raise MailboxFull.

Crash detection is the channel's end of file: the bridge then reaps the child, fails
every ask forwarded to it that it did not answer, and posts EXITED to the host's reply
queue with the exit code or the signal, as an interpreter's thread does when it returns.

This is the interface another transport (a remote node) implements: ``start()``,
``kill()``, ``join()``, ``pid``, and EXITED on the reply queue when the actor is gone.
Stdlib and ``_wire`` only.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import queue
import select
import signal
import socket
import subprocess
import threading
import time

from .._wire import envelope as P
from .._wire import slots as S
from . import UNBOUND, count, get, put
from . import channel as C
from .booting import Booted, boot, discard
from .buffers import IDLE, BufferPool, Returns
from .lane import HostLane, LaneHandover
from .ring import SUPPORTED as RING_SUPPORTED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

__all__ = ("ChildProcess",)

_REPLIES: Final = frozenset({P.REPLY_OK, P.REPLY_ERROR, P.REPLY_CRASHED})
_MESSAGES: Final = frozenset({P.ASK, P.TELL})
_FULL_BACKOFF_MAX: Final = 0.005
_GATE_POLL_MAX: Final = 2.0  # ms


class ChildProcess(LaneHandover):
    """One incarnation's child process and the bridge thread that serves its channel."""

    def __init__(
        self,
        *,
        name: str,
        actor_id: int,
        token: int,
        pump: tuple[int, int],
        mailbox: tuple[int, int],
        ctl_q: int,
        replies: tuple[int, int],
        bridge: tuple[memoryview, int],
        slot_fd: int,
        counters: tuple[memoryview, int],
        window: int,
        loaded: Callable[[tuple[str, ...]], None] | None = None,
    ) -> None:
        self.name = name
        self.loaded = loaded  # called (bridge thread) with the child's LOADED modules
        self.reported = False
        self.actor_id = actor_id
        self.token = token
        self.pump_q, self.pump_fd = pump
        self.mbox_q, self.mbox_fd = mailbox
        self.ctl_q = ctl_q
        self.reply_q, self.reply_fd = replies
        self.fields, base = bridge
        self.parked = base + S.PARKED
        self.reply_parked = base + S.REPLY_PARKED
        self.slot_fd = slot_fd
        # At most ``window`` messages handed to the child and not yet handled there (its
        # HANDLED counter, in the actor's slot), so that a busy child's mailbox fills up
        # on the host and senders see MailboxFull, as with an interpreter actor.
        self.counters, counters_base = counters
        self.handled_at = counters_base + S.HANDLED
        self.window = window
        self.handed = 0
        self.handled_before = self.counters[self.handled_at]
        self.gated = False  # the window is full: mailbox messages wait on the host
        # The direct lane (see lane.py): messages are in flight one way at a time.
        self.init_lane(counters_base + S.PARKED)
        self.detached = False  # the host gave up on this child: forward nothing more
        self.popen: subprocess.Popen[bytes] | None = None
        self.sock: socket.socket | None = None
        self.thread: threading.Thread | None = None
        self.exit_info: Any = False  # False: no EXIT_INFO frame received
        self.outstanding: dict[tuple[int, int], tuple[int, int, int]] = {}
        self._maps: dict[int, tuple[mmap.mmap, memoryview]] = {}
        # Large buffers: those sent (reused once the child let go of them), and the
        # child's mapped here, whose release wakes the bridge (see buffers.py).
        self.pool = BufferPool()
        self.wake_fd = -1  # made by start(), closed when the bridge ends
        self._wake_lock = threading.Lock()
        self.returns = Returns(self._wake_bridge)

    def _wake_bridge(self) -> None:
        """Any thread: a child's buffer mapped here was let go of; the bridge says so."""
        with self._wake_lock:
            if self.wake_fd >= 0:
                os.eventfd_write(self.wake_fd, 1)

    @property
    def pid(self) -> int | None:
        return None if self.popen is None else self.popen.pid

    def start(
        self,
        config: tuple[Any, ...],
        address: tuple[Any, ...],
        reply_to: Any,
        booted: Booted | None = None,
    ) -> None:
        """Configure a child (a ``booted`` spare, or a new one) and start the bridge."""
        try:
            self.wake_fd = os.eventfd(0, os.EFD_CLOEXEC | os.EFD_NONBLOCK)
            self.lane = HostLane() if RING_SUPPORTED else None
            self.popen, ours = booted or boot()
        except BaseException:
            if self.lane is not None:
                self.lane.close()
                self.lane = None
            if self.wake_fd >= 0:
                os.close(self.wake_fd)
                self.wake_fd = -1
            if booted is not None:
                discard(booted, wait=0.0)
            raise
        self.sock = ours
        frame = C.frame((C.CONFIG, config, address, reply_to, self.lane is not None))
        # The child maps the same counters, watches the cell's interrupt eventfd (the host's
        # stops wake its watchdog), gets its lane. A dead spare's end of file tells.
        lane = self.lane.handover() if self.lane is not None else []
        fds = [os.dup(self.slot_fd), os.dup(config[21]), *lane]
        with contextlib.suppress(OSError):
            C.send(ours, frame, fds)
        self.thread = threading.Thread(
            target=self._bridge, name=f"interactors-bridge-{self.name}", daemon=True
        )
        self.thread.start()

    def kill(self) -> None:
        """Kill the child now (SIGKILL); the bridge reaps it and ends."""
        self.detached = True
        if self.popen is not None and self.popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGKILL)

    def join(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    def is_alive(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    # -- the bridge thread ------------------------------------------------------------------

    def _bridge(self) -> None:
        assert self.sock is not None
        assert self.popen is not None
        sock = self.sock
        reader = C.FrameReader(self.returns)
        poller = select.poll()
        for fd in (sock.fileno(), self.mbox_fd, self.reply_fd, self.wake_fd):
            poller.register(fd, select.POLLIN)
        fields = self.fields
        flags = (self.parked, self.reply_parked)
        queues = (self.ctl_q, self.mbox_q, self.reply_q)
        ungated = (self.ctl_q, self.reply_q)
        eventfds = (self.mbox_fd, self.reply_fd, self.wake_fd)
        gate_delay = 0.0
        try:
            while True:
                moved = False if self.detached else self._forward(sock)
                try:
                    frames = reader.receive(sock, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    frames = []
                except OSError:
                    frames = None
                if frames is None:
                    break
                if frames:
                    for item in frames:
                        self._execute(item)
                    del item  # not kept alive while the bridge sleeps (large buffers)
                    self._executed(len(frames))
                    continue
                if moved:
                    gate_delay = 0.0
                    continue
                # Announce that we sleep, look once more, then sleep: see _host/mailbox.py.
                for flag in flags:
                    fields[flag] = 1
                if not self.detached and any(count(q) for q in (ungated if self.gated else queues)):
                    for flag in flags:
                        fields[flag] = 0
                    continue
                # A full window is not signalled: look again soon, less often while full.
                gate_delay = min(_GATE_POLL_MAX, gate_delay * 2 or 0.05) if self.gated else 0.0
                if self.pool.holds_free():  # give memfds kept for reuse back once idle
                    gate_delay = min(gate_delay or IDLE * 1000, IDLE * 1000)
                    self.pool.trim()
                ready = poller.poll(gate_delay or None)
                for flag in flags:
                    fields[flag] = 0
                for fd, _event in ready:
                    if fd in eventfds:
                        os.eventfd_read(fd)
        finally:
            reader.close()
            self._ended(sock)

    def _forward(self, sock: socket.socket) -> bool:
        """Send what waits in the host queues to the child, control messages first."""
        with self.lock:
            return self._forward_locked(sock)

    def _forward_locked(self, sock: socket.socket) -> bool:
        released = self.returns.take()  # the child's buffers let go of here
        frames: list[bytes] = [C.frame((C.RELEASED, released))] if released else []
        moved = self.gated = False
        # The mail counted before the control queue is read: a control message put before
        # a message (new logging levels, say) reaches the child ahead of it.
        mail = count(self.mbox_q)
        for qid, kind in (
            (self.ctl_q, C.TO_CONTROL),
            (self.mbox_q, C.TO_MAILBOX),
            (self.reply_q, C.TO_REPLIES),
        ):
            for _ in range(mail if qid == self.mbox_q else count(qid)):
                if kind == C.TO_MAILBOX and self._window_full():
                    break
                moved = True
                envelope: Any = get(qid)
                if envelope is UNBOUND:
                    continue
                if kind == C.TO_MAILBOX and envelope[0] in _MESSAGES:
                    self.handed += 1
                    self.lane_mode = False
                    if envelope[0] == P.ASK:
                        self.outstanding[(envelope[5], envelope[1])] = envelope[5:8]
                data, fds = C.pack((kind,), envelope, self.pool)
                if fds:  # a frame with large buffers goes alone, with their memfds
                    self._send(sock, b"".join(frames), [])
                    frames.clear()
                    self._send(sock, data, fds)
                else:
                    frames.append(data)
        if frames:
            self._send(sock, b"".join(frames), [])
        return moved

    def _send(self, sock: socket.socket, data: bytes, fds: list[int]) -> None:
        with contextlib.suppress(OSError):  # the child is gone; its end of file follows
            C.send(sock, data, fds)

    def _execute(self, item: tuple[Any, ...]) -> None:
        kind = item[0]
        if kind == C.EXIT_INFO:
            self.exit_info = item[1]
            return
        if kind == C.RELEASED:
            self.pool.released(item[1])
            return
        if kind == C.LOADED:
            if self.loaded is not None:
                self.loaded(item[1])
            self.reported = True
            return
        if kind == C.PUT_NOWAIT:  # a tell_nowait: its sender waits to know how it went
            _kind, seq, qid, fd, flag, envelope, _holes = item
            status = self._put_once(qid, fd, flag, envelope)
            assert self.sock is not None
            self._send(self.sock, C.frame((C.PUT_RESULT, seq, status)), [])
            return
        _kind, qid, fd, flag, envelope, _holes = item
        if envelope[0] in _REPLIES:
            self.outstanding.pop((qid, envelope[1]), None)
        self._put(qid, fd, flag, envelope)

    def _put(self, qid: int, fd: int, flag: int, envelope: tuple[Any, ...]) -> None:
        """Put on a host queue; wait while it is full; answer an ask whose target is gone."""
        delay = 0.0
        while True:
            status = self._put_once(qid, fd, flag, envelope)
            if status == C.PUT_FULL:
                delay = min(_FULL_BACKOFF_MAX, delay * 2 or 1e-5)
                time.sleep(delay)
                continue
            if status == C.PUT_GONE and envelope[0] == P.ASK and len(envelope) == 8:
                error = ("ActorStopped", "the actor this ask went to is gone", "", None)
                reply = (P.REPLY_CRASHED, envelope[1], P.PLAIN, error)
                self._put_once(envelope[5], envelope[6], -1, reply)
            elif status == C.PUT_GONE and envelope[0] == P.TELL:
                # The sender did not wait for an answer (that would cost every tell a
                # round trip): say so here, and make its next message there raise.
                import logging  # (only here: the module stays light)

                dropped = "actor %r: a tell (%s) was dropped: the actor it went to has stopped"
                logging.getLogger("interactors").warning(dropped, self.name, envelope[2])
                assert self.sock is not None
                self._send(self.sock, C.frame((C.GONE, qid)), [])
            return

    def _put_once(self, qid: int, fd: int, flag: int, envelope: tuple[Any, ...]) -> int:
        """Put on a host queue and wake its reader if it sleeps; say how it went."""
        try:
            put(qid, envelope)
        except queue.Full:
            return C.PUT_FULL
        except Exception:  # the queue is gone: its actor stopped
            return C.PUT_GONE
        if flag >= 0 and envelope[0] not in _REPLIES and self._flag_set(S.closed_code(flag)):
            return C.PUT_GONE  # a mailbox whose actor is gone meanwhile (see _wire/slots)
        if flag < 0 or self._flag_set(flag):
            with contextlib.suppress(OSError):
                os.eventfd_write(fd, 1)
        return C.PUT_OK

    def _flag_set(self, code: int) -> bool:
        fd = code >> 16
        mapped = self._maps.get(fd)
        if mapped is None:
            try:
                area, view, _ = S.slot_fields(fd, 0)
            except (OSError, ValueError):
                return True  # unknown: waking costs a syscall, missing a wake-up a hang
            mapped = self._maps[fd] = (area, view)
        return bool(mapped[1][code & 0xFFFF])

    def _ended(self, sock: socket.socket) -> None:
        """The child is gone: reap it, fail what it left unanswered, tell the host."""
        assert self.popen is not None
        sock.close()
        code = self.popen.wait()
        if self.exit_info is not False:
            info = self.exit_info
        elif code < 0:
            info = ("Killed", f"the actor's process was killed by {_signal_name(-code)}", "")
        elif code:
            info = ("ProcessExit", f"the actor's process exited with code {code}", "")
        else:
            info = ("ProcessExit", "the actor's process exited", "")
        why = P.exit_words(info)  # (as an interpreter actor's answer says it)
        with self.lock:  # nothing more goes on the lane
            self.detached = True
            unanswered = list(self.outstanding.items())
            self.outstanding.clear()
            # Handed to it, not handled: asks (failed below) and tells (lost with it).
            lost = self._tells_unhandled(len(unanswered))
        for (qid, msg_id), (_q, fd, _flag) in unanswered:
            with contextlib.suppress(Exception):
                put(qid, P.died_handling(self.name, msg_id, why))
                os.eventfd_write(fd, 1)
        for area, view in self._maps.values():
            view.release()
            area.close()
        self._maps.clear()
        self.returns.close()
        self.pool.close()
        with self._wake_lock:
            os.close(self.wake_fd)
            self.wake_fd = -1
        with contextlib.suppress(Exception):  # (unless the system is gone: reaped late)
            put(self.pump_q, (P.EXITED, self.actor_id, P.PLAIN, (None, self.token, info, lost)))
            os.eventfd_write(self.pump_fd, 1)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
