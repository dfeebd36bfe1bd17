"""A supervision tree as the app: ``interactors run tree_app:tree`` starts it and keeps it
running until the process is signalled. (A module of its own, because actors' interpreters
import ``cli_apps`` and need not load the supervision machinery.)"""

from __future__ import annotations

from cli_apps import Recorder

import interactors

tree = interactors.Supervisor(
    name="app",
    children=[
        interactors.ChildSpec(Recorder, name="tree-first"),
        interactors.ChildSpec(Recorder, name="tree-second"),
    ],
)
