"""The observers an ActorSystem may run: its control socket and its metrics exporter.

Both are opened (sockets bound) before the system starts, so that a port in use fails
``async with ActorSystem(...)`` at once with nothing left behind; both are then served by
one task in the system's task group and closed when the system shuts down.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from .control import ControlServer
    from .metrics import MetricsServer
    from .system import ActorSystem

__all__ = ("Observers", "open_observers")

log = logging.getLogger("interactors")

_control_owner: list[ActorSystem] = []  # the system serving this process's control socket


class Observers:
    """The open servers of one system; :meth:`serve` runs them until :meth:`stop`."""

    def __init__(self, control: ControlServer | None, metrics: MetricsServer | None) -> None:
        self.control = control
        self.metrics = metrics
        self._scope = anyio.CancelScope()

    async def serve(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            with self._scope:
                async with anyio.create_task_group() as tg:
                    for server in (self.control, self.metrics):
                        if server is not None:
                            await tg.start(server.serve)
                    task_status.started()
        finally:
            self._release()

    def stop(self) -> None:
        """Close the servers (the control socket's file is removed)."""
        self._scope.cancel()

    async def close_unused(self) -> None:
        for server in (self.control, self.metrics):
            if server is not None:
                await server.close_unused()
        self._release()

    def _release(self) -> None:
        if self.control is not None and self.control.system in _control_owner:
            _control_owner.remove(self.control.system)


async def open_observers(
    system: ActorSystem, control: bool, metrics_port: int | None, metrics_host: str
) -> Observers | None:
    """Bind the control socket and the metrics port asked for; ``None`` when neither is.

    Raises OSError (nothing left open) when a socket cannot be bound, and ImportError
    naming the extra when metrics are asked for without prometheus_client.
    """
    if not control and metrics_port is None:
        return None
    control_server = None
    if control:
        if _control_owner:
            log.warning(
                "another ActorSystem in this process serves the control socket; "
                "this one is not shown by `interactors top`"
            )
        else:
            from .control import ControlServer  # msgspec: loaded only when asked for

            control_server = ControlServer(system)
    metrics_server = None
    if metrics_port is not None:
        from .metrics import MetricsServer

        try:
            metrics_server = MetricsServer(system, metrics_host, metrics_port)
        except ImportError as exc:
            raise ImportError(
                "metrics_port needs prometheus_client: pip install 'interactors[metrics]'"
            ) from exc
    observers = Observers(control_server, metrics_server)
    try:
        if control_server is not None:
            await control_server.open()
            _control_owner.append(system)
        if metrics_server is not None:
            await metrics_server.open()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await observers.close_unused()
        raise
    if metrics_server is not None:
        system._ask_timer = metrics_server.latency
        system.metrics_port = metrics_server.port
    return observers
