"""Actors that log, warn and print (tests/test_actor_logs.py, benchmarks/logs.py)."""

from __future__ import annotations

import logging
import time
import warnings

import interactors

log = logging.getLogger("log_actors.chatty")


class Chatty(interactors.Actor):
    def info(self, text: str) -> None:
        log.info("info: %s", text)

    def warning(self, text: str) -> None:
        log.warning("warning: %s", text)

    def debug(self, text: str) -> None:
        log.debug("debug: %s", text)

    def exception(self) -> None:
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            log.exception("it failed")

    def warn(self, text: str) -> None:
        warnings.warn(text, UserWarning, stacklevel=1)

    def many(self, count: int) -> None:
        for i in range(count):
            log.info("record %d", i)

    def time_debug(self, count: int) -> tuple[float, float]:
        """Seconds for ``count`` filtered-out ``log.debug`` calls, and for a plain loop
        calling a no-op function the same way."""
        debug = log.debug
        start = time.perf_counter()
        for i in range(count):
            debug("record %d", i)
        logged = time.perf_counter() - start

        def noop(*args: object) -> None:
            pass

        start = time.perf_counter()
        for i in range(count):
            noop("record %d", i)
        return logged, time.perf_counter() - start
