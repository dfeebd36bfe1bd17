"""Prometheus / OpenMetrics export of a system's per-actor counters (the ``metrics`` extra).

``ActorSystem(metrics_port=9100)`` (or ``interactors run --metrics-port 9100``) serves
``http://127.0.0.1:9100/metrics`` from the system's event loop. A collector reads the live
statistics at scrape time, so nothing is counted per message for it:

=====================================  =========  =======================================
name                                   type       meaning
=====================================  =========  =======================================
``interactors_messages_total``         counter    messages the actor handled
``interactors_errors_total``           counter    handlers that raised
``interactors_restarts_total``         counter    restarts of the actor
``interactors_actor_cpu_seconds_total`` counter   CPU time of the actor's thread
``interactors_mailbox_depth``          gauge      messages waiting in the mailbox
``interactors_asks_in_flight``         gauge      asks from the host awaiting a reply
``interactors_actor_up``               gauge      1 while the actor runs, else 0
``interactors_ask_latency_seconds``    histogram  host asks, from send to reply
=====================================  =========  =======================================

Every series has the labels ``system`` (the system's id) and ``actor`` (its name), plus the
usual ``process_*`` series of the process. Ask latency is the only thing measured as it
happens: with metrics on, each cell's ``ask`` is wrapped by :meth:`AskLatency.timed`; with
metrics off nothing is wrapped and the ask path is unchanged.

Host side only; prometheus_client is imported when the exporter starts.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, Final

import anyio
from anyio.abc import Listener, SocketAttribute, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

    from .messaging import CellMessaging
    from .system import ActorSystem

__all__ = ("BUCKETS", "AskLatency", "MetricsServer")

log = logging.getLogger("interactors")

BUCKETS: Final = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
"""Upper bounds of the ask latency buckets, in seconds (asks take microseconds)."""

MAX_HEAD: Final = 16 * 1024
UP_STATES: Final = ("running",)

AskMethod = Callable[[str, tuple[Any, ...], dict[str, Any]], Coroutine[Any, Any, Any]]


class MetricsPortError(OSError):
    """The metrics port cannot be bound (taken, or not allowed): a setting to change."""


class _Histogram:
    __slots__ = ("counts", "name", "total")

    def __init__(self, name: str) -> None:
        self.name = name
        self.counts = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


class AskLatency:
    """Ask latency histograms, one per actor (by actor id), filled on the host's loop."""

    def __init__(self) -> None:
        self.by_actor: dict[int, _Histogram] = {}

    def timed(self, cell: CellMessaging) -> AskMethod:
        """``cell.ask`` wrapped to record how long each ask took (cancelled ones excepted)."""
        plain: AskMethod = cell.ask
        histogram = self.by_actor[cell.actor_id] = _Histogram(cell.name)
        cancelled = anyio.get_cancelled_exc_class

        async def ask(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            start = time.perf_counter()
            try:
                result = await plain(method, args, kwargs)
            except BaseException as exc:
                if not isinstance(exc, cancelled()):
                    histogram.observe(time.perf_counter() - start)
                raise
            histogram.observe(time.perf_counter() - start)
            return result

        return ask


class _SystemCollector:
    """A prometheus_client collector that reads the system's statistics at each scrape."""

    def __init__(self, system: ActorSystem, latency: AskLatency) -> None:
        self.system = system
        self.latency = latency

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        if not self.system._running:
            return
        labels = ["system", "actor"]
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {
            "messages": CounterMetricFamily(
                "interactors_messages", "Messages handled by the actor.", labels=labels
            ),
            "errors": CounterMetricFamily(
                "interactors_errors", "Messages whose handler raised.", labels=labels
            ),
            "restarts": CounterMetricFamily(
                "interactors_restarts", "Restarts of the actor.", labels=labels
            ),
            "cpu": CounterMetricFamily(
                "interactors_actor_cpu_seconds",
                "CPU time of the actor's thread (user + system).",
                labels=labels,
                unit="seconds",
            ),
            "depth": GaugeMetricFamily(
                "interactors_mailbox_depth", "Messages waiting in the mailbox.", labels=labels
            ),
            "asks": GaugeMetricFamily(
                "interactors_asks_in_flight",
                "Asks from the host waiting for the actor's reply.",
                labels=labels,
            ),
            "up": GaugeMetricFamily(
                "interactors_actor_up", "1 while the actor is running, else 0.", labels=labels
            ),
        }
        from .snapshot import thread_cpu_seconds

        system_id = str(self.system.system_id)
        live: dict[int, str] = {}
        for actor in self.system.statistics().actors:
            key = [system_id, actor.name]
            live[actor.actor_id] = actor.name
            families["messages"].add_metric(key, actor.messages_handled)
            families["errors"].add_metric(key, actor.errors)
            families["restarts"].add_metric(key, actor.restarts)
            cpu = None if actor.thread_id is None else thread_cpu_seconds(actor.thread_id)
            if cpu is not None:
                families["cpu"].add_metric(key, cpu)
            families["depth"].add_metric(key, actor.mailbox_depth)
            families["asks"].add_metric(key, actor.asks_in_flight)
            families["up"].add_metric(key, 1 if actor.state in UP_STATES else 0)
        yield from families.values()
        latency = HistogramMetricFamily(
            "interactors_ask_latency_seconds",
            "Time from sending an ask on the host to receiving its reply.",
            labels=labels,
            unit="seconds",
        )
        for actor_id, histogram in list(self.latency.by_actor.items()):
            if actor_id not in live:
                del self.latency.by_actor[actor_id]  # the actor is gone
                continue
            cumulative, buckets = 0, []
            for bound, count in zip((*BUCKETS, float("inf")), histogram.counts, strict=True):
                cumulative += count
                buckets.append((_bound(bound), cumulative))
            latency.add_metric([system_id, live[actor_id]], buckets, histogram.total)
        yield latency


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(value)


class MetricsServer:
    """Serves ``/metrics`` for one system over HTTP from its event loop."""

    def __init__(self, system: ActorSystem, host: str, port: int) -> None:
        from prometheus_client import CollectorRegistry, ProcessCollector

        self.host = host
        self.port = port
        self.latency = AskLatency()
        self.registry: CollectorRegistry = CollectorRegistry(auto_describe=False)
        self.registry.register(_SystemCollector(system, self.latency))
        ProcessCollector(registry=self.registry)
        self._listener: Listener[SocketStream] | None = None

    async def open(self) -> None:
        """Bind the port (0 picks a free one: see :attr:`port`); raise OSError if it cannot."""
        try:
            listener = await anyio.create_tcp_listener(
                local_host=self.host, local_port=self.port, reuse_port=False
            )
        except OSError as exc:
            raise MetricsPortError(
                exc.errno,
                f"cannot serve metrics on {self.host}:{self.port}: {exc.strerror}; "
                "choose another port (--metrics-port / metrics_port=)",
            ) from exc
        self._listener = listener
        self.port = listener.extra(SocketAttribute.local_port)

    async def serve(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        assert self._listener is not None
        listener = self._listener
        log.info("metrics on http://%s:%d/metrics", _url_host(self.host), self.port)
        try:
            task_status.started()
            await listener.serve(self._handle)
        finally:
            with anyio.CancelScope(shield=True):
                await listener.aclose()

    async def close_unused(self) -> None:
        if self._listener is not None:
            await self._listener.aclose()

    async def _handle(self, stream: SocketStream) -> None:
        async with stream:
            try:
                head = await BufferedByteReceiveStream(stream).receive_until(b"\r\n\r\n", MAX_HEAD)
                status, content_type, body = self._respond(head)
                await stream.send(
                    f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
            except (anyio.EndOfStream, anyio.IncompleteRead, anyio.DelimiterNotFound):
                return  # not HTTP, or the client left
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return

    def _respond(self, head: bytes) -> tuple[str, str, bytes]:
        from prometheus_client.exposition import choose_encoder

        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        if method not in ("GET", "HEAD") or path not in ("/metrics", "/"):
            return "404 Not Found", "text/plain; charset=utf-8", b"see /metrics\n"
        accept = ""
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "accept":
                accept = value.strip()
        encoder, content_type = choose_encoder(accept)
        body = encoder(self.registry)
        return "200 OK", content_type, b"" if method == "HEAD" else body


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
