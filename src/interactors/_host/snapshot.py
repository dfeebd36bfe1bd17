"""One JSON-ready snapshot of a running system, for ``interactors top``, ``stats`` and metrics.

A :class:`ProcessSnapshot` holds what :meth:`ActorSystem.statistics` says about every actor,
the supervision tree, and what the OS says about the process (its resident memory) and
each actor's thread (CPU seconds, from ``/proc``). Counters are totals since the actor
started; viewers compute rates from the differences between two snapshots.

The types are msgspec ``Struct``\\ s: the control channel encodes them as JSON and the
viewer decodes them back. New fields get defaults, so an older viewer still reads a newer
snapshot and the other way round. Host side only.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Final

import msgspec

from .._supervision.tree import ChildNode, SupervisorNode

if TYPE_CHECKING:
    from .system import ActorSystem

__all__ = (
    "ActorRow",
    "ProcessSnapshot",
    "SystemSnapshot",
    "TreeNode",
    "process_snapshot",
    "system_snapshot",
    "thread_cpu_seconds",
)

SNAPSHOT_VERSION: Final = 1
_TICKS: Final = os.sysconf("SC_CLK_TCK")
_PAGE: Final = os.sysconf("SC_PAGE_SIZE")


class ActorRow(msgspec.Struct, kw_only=True):
    """One actor: :class:`~interactors.ActorStatistics` plus its thread's CPU time."""

    name: str
    actor_id: int
    state: str
    isolation: str
    mailbox_depth: int = 0
    mailbox_size: int = 0
    messages_handled: int = 0
    errors: int = 0
    restarts: int = 0
    asks_in_flight: int = 0
    busy_seconds: float | None = None
    thread_id: int | None = None
    cpu_seconds: float | None = None
    """CPU time of the actor's thread so far (user + system), ``None`` when unknown."""
    started_by: str | None = None
    """The name of the actor that started it with ``self.spawn``, if one did."""


class TreeNode(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A supervisor (with its children, in start order) or a supervised actor."""

    name: str
    kind: str
    """``"supervisor"`` or ``"actor"``."""
    strategy: str | None = None
    restart: str | None = None
    failed: bool = False
    started_by: str | None = None
    """The actor that started this actor or pool with ``self.spawn`` / ``spawn_pool``."""
    children: list[TreeNode] = msgspec.field(default_factory=list)


class SystemSnapshot(msgspec.Struct, kw_only=True):
    system_id: int
    backend: str
    actors: list[ActorRow] = msgspec.field(default_factory=list)
    tree: list[TreeNode] = msgspec.field(default_factory=list)
    """The top-level supervisors: ``root`` (for ``system.spawn``) and started trees."""
    events: dict[str, int] = msgspec.field(default_factory=dict)
    abandoned: list[str] = msgspec.field(default_factory=list)
    interpreters_created: int = 0
    interpreters_destroyed: int = 0


class ProcessSnapshot(msgspec.Struct, kw_only=True):
    version: int = SNAPSHOT_VERSION
    pid: int
    time: float
    """``time.monotonic()`` of the process when the snapshot was taken."""
    rss_bytes: int | None = None
    cpu_seconds: float | None = None
    systems: list[SystemSnapshot] = msgspec.field(default_factory=list)


def system_snapshot(system: ActorSystem) -> SystemSnapshot:
    """The live statistics and supervision tree of ``system`` (call it on its event loop)."""
    stats = system.statistics()
    started, pools = system._spawned.starter_names()
    actors = [
        ActorRow(
            name=a.name,
            actor_id=a.actor_id,
            state=a.state,
            isolation=a.isolation,
            mailbox_depth=a.mailbox_depth,
            mailbox_size=a.mailbox_size,
            messages_handled=a.messages_handled,
            errors=a.errors,
            restarts=a.restarts,
            asks_in_flight=a.asks_in_flight,
            busy_seconds=a.busy_seconds,
            thread_id=a.thread_id,
            cpu_seconds=None if a.thread_id is None else thread_cpu_seconds(a.thread_id),
            started_by=started.get(a.actor_id),
        )
        for a in stats.actors
    ]
    tops: list[SupervisorNode] = [system._root] if system._root.children else []
    tops += [node for node in system._top if isinstance(node, SupervisorNode)]
    return SystemSnapshot(
        system_id=system.system_id,
        backend=stats.backend,
        actors=actors,
        tree=[_tree(node, started, pools) for node in tops],
        events=stats.events,
        abandoned=list(stats.abandoned),
        interpreters_created=stats.interpreters_created,
        interpreters_destroyed=stats.interpreters_destroyed,
    )


def _tree(
    node: ChildNode | SupervisorNode, started: dict[int, str], pools: dict[int, str]
) -> TreeNode:
    if isinstance(node, ChildNode):
        by = None if node.ref is None else started.get(node.ref.actor_id)
        return TreeNode(name=node.name, kind="actor", restart=node.restart, started_by=by)
    return TreeNode(
        name=node.name,
        kind="supervisor",
        strategy=node.spec.strategy,
        restart=node.restart if node.parent is not None else None,
        failed=node.failed,
        started_by=pools.get(id(node)),
        children=[_tree(child, started, pools) for child in node.children],
    )


def process_snapshot(systems: list[ActorSystem]) -> ProcessSnapshot:
    """A snapshot of this process and of ``systems``."""
    return ProcessSnapshot(
        pid=os.getpid(),
        time=time.monotonic(),
        rss_bytes=_rss_bytes(),
        cpu_seconds=_cpu_seconds("/proc/self/stat"),
        systems=[system_snapshot(system) for system in systems],
    )


def thread_cpu_seconds(native_id: int) -> float | None:
    """User + system CPU seconds of this process's thread ``native_id`` (Linux)."""
    return _cpu_seconds(f"/proc/self/task/{native_id}/stat")


def _cpu_seconds(stat_path: str) -> float | None:
    try:
        with open(stat_path, "rb") as f:
            text = f.read()
    except OSError:  # the thread ended, or no /proc (not Linux)
        return None
    # Fields after the command name (which may hold spaces): state is the first, then
    # utime and stime are the 12th and 13th.
    fields = text[text.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        return None
