"""The actor of the restart benchmark (``benchmarks/restart.py``).

Stdlib and interactors only: actors' own-GIL interpreters import this module.
"""

from __future__ import annotations

import interactors

# Counts the instances built in this interpreter: it survives an in-place restart (same
# interpreter) and starts again from zero in a fresh interpreter.
instances_built = 0


class Crasher(interactors.Actor):
    """Crashes on demand; ``ping`` says which instance of this interpreter answered."""

    on_error = "restart"  # an exception in a handler restarts it: what is measured

    def __init__(self) -> None:
        global instances_built
        instances_built += 1
        self.instance = instances_built

    def crash(self) -> None:
        raise RuntimeError("benchmark crash")

    def ping(self) -> int:
        return self.instance
