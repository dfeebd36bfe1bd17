"""Actors that import ``datetime`` for the first time in the process, all at one instant.

``python first_imports.py``: four actors (the host has not imported ``datetime``) wait for
the same moment, then each imports it and answers with a date; the script prints the
answers and exits 0. On CPython 3.13 the first imports of ``_datetime``'s shared static
types race each other unless the runtime has set them up before any actor started.
Stdlib and interactors only.
"""

from __future__ import annotations

import sys
import time

import anyio

import interactors

ACTORS = 4


class Importer(interactors.Actor):
    def at(self, when: float) -> str:
        while time.time() < when:  # every actor reaches the import at the same moment
            pass
        import datetime

        return datetime.date(2020, 1, 2).isoformat()


async def main() -> None:
    assert "datetime" not in sys.modules, "the host imported datetime itself"
    async with interactors.ActorSystem() as system:
        refs = [await system.spawn(Importer) for _ in range(ACTORS)]
        when = time.time() + 0.05
        answers: list[str] = []

        async def ask(ref: interactors.ActorRef[Importer]) -> None:
            answers.append(await ref.ask.at(when))

        async with anyio.create_task_group() as tg:
            for ref in refs:
                tg.start_soon(ask, ref)
    print(" ".join(answers), flush=True)


if __name__ == "__main__":
    interactors.run(main)
