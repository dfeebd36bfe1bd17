"""Administration of a running supervisor, with OTP's semantics (``SupervisorRef`` methods).

A child that ``terminate_child`` stopped keeps its place and spec (state
``"terminated"``): ``restart_child`` starts it again from its spec, ``delete_child``
forgets it. A temporary child's spec is never kept. Every operation holds the
supervisor's lock, so it never interleaves with a restart the supervisor is making.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import anyio

from .._exceptions import ChildError
from .spec import ChildSpec, Supervisor
from .tree import ChildNode, SupervisorNode

if TYPE_CHECKING:
    from .._host.ref import ActorRef
    from .ref import ActorPool, SupervisorRef

__all__ = ("ChildCounts", "ChildInfo")

ChildState = Literal["starting", "running", "restarting", "stopping", "terminated"]


@dataclass(frozen=True, slots=True)
class ChildInfo:
    """One child, as ``which_children()`` lists it (OTP: ``{Id, Child, Type, Modules}``)."""

    name: str
    ref: ActorRef | SupervisorRef | ActorPool | None
    """The child's ref (a pool's ``ActorPool``); ``None`` while it is terminated."""
    restart: str
    """``"permanent"``, ``"transient"`` or ``"temporary"``."""
    state: ChildState
    restarts: int
    """How many times the supervisor restarted it (for a supervisor: its whole subtree)."""
    supervisor: bool
    """True for a nested supervisor or pool, False for an actor (OTP's ``worker``)."""


@dataclass(frozen=True, slots=True)
class ChildCounts:
    """``count_children()``: OTP's keys, plus the children being restarted."""

    specs: int
    """Every child, running or terminated."""
    active: int
    """Children running (for an actor: started and not stopping or restarting)."""
    restarting: int
    supervisors: int
    workers: int


RefOf = Callable[[ChildNode | SupervisorNode], "ActorRef | SupervisorRef | ActorPool | None"]


def _state_of(node: ChildNode | SupervisorNode) -> ChildState:
    if node.terminated:
        return "terminated"
    if isinstance(node, SupervisorNode):
        return "stopping" if node.stopped else "restarting" if node.failed else "running"
    state = node.cell.state if node.cell is not None else "starting"
    return "stopping" if state in ("stopped", "crashed") else state  # type: ignore[return-value]


def which_children(sup: SupervisorNode, ref_of: RefOf) -> list[ChildInfo]:
    return [
        ChildInfo(
            node.name,
            ref_of(node),
            node.restart,
            _state_of(node),
            node.restarts if isinstance(node, SupervisorNode) else _restarts(node),
            isinstance(node, SupervisorNode),
        )
        for node in sup.children
    ]


def _restarts(node: ChildNode) -> int:
    return node.cell.statistics().restarts if node.cell is not None else 0


def count_children(sup: SupervisorNode) -> ChildCounts:
    states = [_state_of(node) for node in sup.children]
    supervisors = sum(isinstance(node, SupervisorNode) for node in sup.children)
    return ChildCounts(
        specs=len(states),
        active=states.count("running"),
        restarting=states.count("restarting"),
        supervisors=supervisors,
        workers=len(states) - supervisors,
    )


def _check_open(sup: SupervisorNode, name: str) -> None:
    if sup.stopped or sup.failed:
        why = "stopped" if sup.stopped else "gave up"
        raise ChildError(f"supervisor {sup.name!r} has {why}: it takes no child", "stopped", name)


def _find(sup: SupervisorNode, name: str) -> ChildNode | SupervisorNode:
    node = sup.find(name)
    if node is None:
        names = ", ".join(repr(n.name) for n in sup.children) or "none"
        raise ChildError(
            f"supervisor {sup.name!r} has no child {name!r} (its children: {names})",
            "not_found",
            name,
        )
    return node


async def start_child(
    sup: SupervisorNode, spec: ChildSpec | Supervisor
) -> ChildNode | SupervisorNode:
    if not isinstance(spec, ChildSpec | Supervisor):
        raise TypeError(f"start_child takes a ChildSpec, Supervisor or Pool, got {spec!r}")
    async with sup.lock:
        _check_open(sup, str(spec.name))
        existing = sup.find(spec.name) if spec.name is not None else None
        if existing is not None:
            reason = "already_present" if existing.terminated else "already_started"
            what = "a terminated child (restart_child or delete_child it)"
            raise ChildError(
                f"supervisor {sup.name!r} already has a child {spec.name!r}: "
                + (what if existing.terminated else "pick another name"),
                reason,
                spec.name or "",
            )
        node = sup._node(spec)
        await node.start()
        sup.children.append(node)
        sup.children_changed()
        return node


async def terminate_child(sup: SupervisorNode, name: str) -> None:
    async with sup.lock:
        _check_open(sup, name)
        node = _find(sup, name)
        if node.terminated:
            return
        if node.restart == "temporary" or not sup.keeps_specs:
            sup.remove(node)  # as in OTP: a temporary child's spec is not kept
        else:
            node.terminated = True
            sup.children_changed()
        await node.stop()


def _check_static(sup: SupervisorNode, operation: str, name: str) -> None:
    if not sup.keeps_specs:  # OTP answers {error, simple_one_for_one}
        raise ChildError(
            f"{operation} is not supported on a dynamic supervisor ({sup.name!r} is "
            "simple_one_for_one): a terminated instance is forgotten; start_child a new one",
            "simple_one_for_one",
            name,
        )


def _find_terminated(sup: SupervisorNode, name: str, when: str) -> ChildNode | SupervisorNode:
    """The child ``name``, which must have been terminated (ChildError "running" if not)."""
    node = _find(sup, name)
    if not node.terminated:
        raise ChildError(
            f"child {name!r} of {sup.name!r} is running: terminate_child it {when}",
            "running",
            name,
        )
    return node


async def restart_child(sup: SupervisorNode, name: str) -> ChildNode | SupervisorNode:
    _check_static(sup, "restart_child", name)
    async with sup.lock:
        _check_open(sup, name)
        node = _find_terminated(sup, name, "first")
        if isinstance(node, SupervisorNode):
            node.stopped = node.failed = False
            node.exit_reason = ""
            node.stopping, node.ended = anyio.Event(), anyio.Event()
            node.held = False
            node.restart_times.clear()
        await node.start()  # raises SpawnError and stays terminated if the start fails
        node.terminated = False
        sup.children_changed()
        return node


async def delete_child(sup: SupervisorNode, name: str) -> None:
    _check_static(sup, "delete_child", name)
    async with sup.lock:
        _check_open(sup, name)
        node = _find_terminated(sup, name, "before delete_child")
        sup.remove(node)
