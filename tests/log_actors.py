"""Actors that log and warn (tests/test_actor_logs.py)."""

from __future__ import annotations

import enum
import logging
import threading
import warnings

import interactors

log = logging.getLogger("log_actors.chatty")


class Level(enum.IntEnum):
    NOTICE = 25


class Name(str):
    """A str subclass, as some libraries pass for a message."""


class Chatty(interactors.Actor):
    def info(self, text: str) -> None:
        log.info("info: %s", text)

    def notice(self, text: str) -> None:
        """An IntEnum level and a str subclass message, amid plain records."""
        log.info("before")
        log.log(Level.NOTICE, Name(f"notice: {text}"))
        log.info("after")

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

    def crash(self, text: str) -> None:
        log.warning("warning: %s", text)
        raise RuntimeError(text)

    def from_thread(self, text: str) -> None:
        """Log from a thread of the actor's, after this handler has returned."""
        timer = threading.Timer(0.1, log.info, args=("thread: %s", text))
        timer.start()
        self.timer = timer

    def join_thread(self) -> None:
        self.timer.join()
