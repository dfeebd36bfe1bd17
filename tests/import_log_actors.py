"""An actor whose module logs while it is imported (tests/test_actor_log_levels.py)."""

from __future__ import annotations

import logging

import interactors

logging.getLogger("import_log_actors").warning("module imported")


class Imported(interactors.Actor):
    def ping(self) -> str:
        return "pong"
