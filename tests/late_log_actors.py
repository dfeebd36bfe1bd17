"""An actor whose module does not import logging (tests/test_actor_logs.py)."""

from __future__ import annotations

import interactors


class LateLogger(interactors.Actor):
    """Imports logging only in a handler: its first record must arrive all the same."""

    def log(self, text: str) -> None:
        import logging

        logging.getLogger("late_log_actors").warning(text)
