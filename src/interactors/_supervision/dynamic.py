"""Dynamic supervisors: OTP's ``simple_one_for_one``, one child template, many instances.

``DynamicSupervisor(child=ChildSpec(Session, db), max_children=1000)`` starts with no
children; ``await sup.start_child(user_id)`` starts an instance of the template with the
extra arguments appended to the template's (keywords merged over its keywords) and a
generated name (``"<template or supervisor name>-<n>"``). Each instance is restarted alone,
with its own arguments; the restart intensity counts the restarts of all instances
together. Instances are stopped all at once, each within its shutdown timeout, not one
after the other: a supervisor of thousands stops in about one shutdown's time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import anyio

from .._exceptions import ChildError
from .._host.options import check_count
from .spec import ChildSpec, Supervisor
from .tree import NODE_TYPES, ChildNode, SupervisorNode

__all__ = ("DynamicSupervisor",)


@dataclass(frozen=True, kw_only=True)
class DynamicSupervisor(Supervisor):
    """A supervisor of many instances of one ``child`` template (OTP's ``simple_one_for_one``).

    Start it with ``system.start(...)`` (or nest it in a ``Supervisor``'s children) and
    add instances with ``await ref.start_child(*args, **kwargs)``. ``max_children``
    bounds the running instances: one more raises
    :class:`~interactors.ChildError` (``reason="max_children"``). ``max_restarts`` within
    ``within`` seconds counts the restarts of all instances together.
    """

    child: ChildSpec | None = None
    max_children: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.child, ChildSpec):
            raise TypeError(
                f"DynamicSupervisor {self.name!r} needs child=ChildSpec(actor, ...): the "
                f"template of its instances, got {self.child!r}"
            )
        if self.children:
            raise ValueError(
                f"DynamicSupervisor {self.name!r} takes no children: it starts instances of "
                "its child template with start_child(*args)"
            )
        if self.strategy != "one_for_one":
            raise ValueError(
                f"DynamicSupervisor {self.name!r} restarts each instance alone: its strategy "
                f"is one_for_one, got {self.strategy!r}"
            )
        if self.auto_shutdown != "never":
            raise ValueError(
                f"DynamicSupervisor {self.name!r} has no fixed children to be significant: "
                f'auto_shutdown must be "never", got {self.auto_shutdown!r}'
            )
        if self.max_children is not None:
            check_count("max_children", self.max_children, 1)


class DynamicSupervisorNode(SupervisorNode):
    """Runtime of a :class:`DynamicSupervisor`: instances are added by :meth:`start_child`."""

    keeps_specs = False  # as in OTP, terminate_child forgets an instance
    spec: DynamicSupervisor

    def __init__(self, spec: DynamicSupervisor, system: Any, parent: SupervisorNode | None) -> None:
        super().__init__(spec, system, parent)
        self._numbers = itertools.count(1)

    async def start_child(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> ChildNode:
        template = self.spec.child
        assert template is not None  # checked by the spec
        limit = self.spec.max_children
        prefix = template.name or self.name
        async with self.lock:
            if self.stopped or self.failed:
                why = "stopped" if self.stopped else "gave up"
                raise ChildError(
                    f"supervisor {self.name!r} has {why}: it takes no child", "stopped", prefix
                )
            if limit is not None and len(self.children) >= limit:
                raise ChildError(
                    f"dynamic supervisor {self.name!r} already runs max_children={limit} "
                    "instances: wait for one to end, terminate_child one, or raise the bound",
                    "max_children",
                    prefix,
                )
            name = f"{prefix}-{next(self._numbers)}"  # (a refused start takes no number)
            spec = ChildSpec(
                template.actor,
                *template.args,
                *args,
                name=name,
                restart=template.restart,  # type: ignore[arg-type]
                shutdown=template.shutdown,
                significant=template.significant,
                **template.options,
                **{**template.kwargs, **kwargs},
            )
            node = ChildNode(spec, self)
            await node.start()
            self.children.append(node)
            return node

    async def _stop_children(self) -> None:
        """Stop every instance at once, each within its own shutdown timeout."""
        nodes = list(self.children)
        async with anyio.create_task_group() as tg:
            for node in nodes:
                tg.start_soon(node.stop)
        self.children.clear()
        self.children_changed()

    async def _terminate_children(self) -> None:
        """Terminate every instance at once (each within its own shutdown timeout)."""
        async with anyio.create_task_group() as tg:
            for node in list(self.children):
                tg.start_soon(node.terminate)


NODE_TYPES[DynamicSupervisor] = DynamicSupervisorNode
