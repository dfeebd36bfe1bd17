"""An app whose actor logs a warning (tests/test_actor_logs.py runs it with --log-format json)."""

from __future__ import annotations

import logging

import interactors

log = logging.getLogger("log_app.worker")


class Janitor(interactors.Actor):
    def sweep(self) -> None:
        log.warning("disk almost full")


async def main(system: interactors.ActorSystem) -> None:
    janitor = await system.spawn(Janitor, name="janitor")
    await janitor.ask.sweep()
