"""The frameworks compared, in table order, and whether each is installed here.

Every peer is optional: one that is missing shows as "not installed" in every table instead
of failing the run. ``raw`` is not a framework but the primitives interactors is built on
(see ``raw``), giving the "framework / raw" overhead.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Framework:
    name: str
    label: str
    module: str  # imported to check that it is there
    dist: str  # distribution name, for its version
    how: str  # the API each scenario drives


FRAMEWORKS: tuple[Framework, ...] = (
    Framework(
        "interactors",
        "interactors",
        "interactors",
        "interactors",
        "actors in own-GIL sub-interpreters: ActorSystem.spawn, ref.ask / ref.tell",
    ),
    Framework(
        "raw",
        "raw primitives",
        "interactors",
        "interactors",
        "the cross-interpreter queues + eventfds interactors is built on, no framework",
    ),
    Framework(
        "threads",
        "threads",
        "concurrent.futures",
        "",
        "ThreadPoolExecutor (run_in_executor / anyio.to_thread); queue.SimpleQueue for messages",
    ),
    Framework(
        "processes",
        "processes",
        "multiprocessing",
        "",
        "ProcessPoolExecutor (run_in_executor / anyio.to_process); multiprocessing "
        "Pipe/Queue/Process (spawn start method) for messages and workers",
    ),
    Framework("pykka", "Pykka", "pykka", "pykka", "pykka.ThreadingActor: ref.ask / ref.tell"),
    Framework(
        "thespian",
        "Thespian",
        "thespian",
        "thespian",
        "thespian ActorSystem('multiprocTCPBase', transientUnique=True): ask / tell / send",
    ),
    Framework(
        "to_interpreter",
        "anyio.to_interpreter",
        "anyio.to_interpreter",
        "anyio",
        "anyio.to_interpreter.run_sync (a pool of sub-interpreters, no actors)",
    ),
    Framework(
        "ray",
        "Ray",
        "ray",
        "ray",
        "ray local actors: ray.init(num_cpus=2, include_dashboard=False), .remote / ray.get",
    ),
)
BY_NAME = {framework.name: framework for framework in FRAMEWORKS}


def version(framework: Framework) -> str | None:
    """The installed version, ``"stdlib"``, or ``None`` when the framework is missing."""
    try:
        if importlib.util.find_spec(framework.module) is None:
            return None
    except ModuleNotFoundError:
        return None
    if not framework.dist:
        return "stdlib"
    try:
        return importlib.metadata.version(framework.dist)
    except importlib.metadata.PackageNotFoundError:
        return None
