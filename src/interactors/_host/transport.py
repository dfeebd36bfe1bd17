"""The interface of an isolation level that runs an actor outside this process's interpreters.

A cell talks to such an actor only through its host queues (mailbox, control, replies)
and its slot of shared counters, exactly as with an interpreter; what runs the actor
elsewhere is an :class:`ActorTransport`, one per incarnation. ``isolation="process"``
implements it with a child process and a bridge thread
(:class:`~interactors._backend.process.ChildProcess`); a remote transport (an actor on
another machine, e.g. a Ray actor) implements the same six members:

- ``start(config, address, reply_to)``: start the incarnation and begin moving messages
  from the host queues to it and its sends back to the queues they name;
- when the incarnation is gone, for any reason, post an ``EXITED`` notice on the cell's
  reply queue (what an interpreter's thread does when it returns), after failing every ask
  it had taken and not answered;
- ``kill()``: end it now (the host gave up on it), then post ``EXITED`` as above;
- ``join(timeout)`` / ``is_alive()``: wait for, or ask about, the transport's own thread;
- ``pid``: an id for statistics and logs (None when there is no local process);
- ``reported``: True once the incarnation has said which libraries its actor's class
  needed (the warm spare imports them ahead), or never will; a transport that keeps no
  spare sets it at start.

Type checkers hold :class:`~interactors._backend.process.ChildProcess` to this protocol
(see :mod:`.process_actor`).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ("ActorTransport",)


class ActorTransport(Protocol):
    """Runs one incarnation of an actor outside this process's interpreters."""

    reported: bool

    @property
    def pid(self) -> int | None: ...

    def start(
        self,
        config: tuple[Any, ...],
        address: tuple[Any, ...],
        reply_to: Any,
        booted: Any = None,
    ) -> None: ...

    def kill(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...

    def is_alive(self) -> bool: ...
