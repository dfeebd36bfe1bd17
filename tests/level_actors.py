"""An actor that sets a logger's level itself (tests/test_actor_log_levels.py)."""

from __future__ import annotations

import logging

import interactors

log = logging.getLogger("level_actors")


class SetsItsOwnLevel(interactors.Actor):
    def __init__(self) -> None:
        log.setLevel(logging.WARNING)

    def log(self) -> list[str]:
        """The levels of the records this logger lets through now."""
        return [
            name
            for name, level in (("debug", logging.DEBUG), ("warning", logging.WARNING))
            if log.isEnabledFor(level)
        ]
