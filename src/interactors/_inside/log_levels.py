"""The host's logging levels inside an actor's interpreter, and a cheaper filtered call.

The host sends its levels (the root logger's effective level as ``""``, and every level
set on a named logger) when a worker starts and again, as a LOG_LEVELS control message,
when they change. :func:`apply_levels` sets them on the interpreter's loggers, leaving
alone a level the actor's own code set (a named logger's level that is not ``NOTSET`` and
not the one applied here, or a root level changed since it was applied), and resets a
named logger to ``NOTSET`` when the host no longer sets its level.

:func:`use_actor_loggers` makes the interpreter's loggers :class:`ActorLogger`\\ s (unless
the actor's code chose its own logger class): their ``debug()`` and ``info()`` read
``logging``'s own per-logger cache directly, so a filtered-out call costs one Python call
instead of two; ``logging`` clears that cache whenever a level changes.

Stdlib only, and no ``logging`` at import time: runs inside actors' interpreters.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any

__all__ = ("apply_levels", "use_actor_loggers")

_NOTSET = 0
_DEBUG = 10
_INFO = 20

# The level applied to each logger here, by name ("" for the root), to tell the levels
# set by the host from those the actor's code set itself.
_applied: dict[str, int] = {}


def apply_levels(levels: Any) -> None:
    """Set the host's ``levels`` (``(name, level)`` pairs) on this interpreter's loggers."""
    import logging

    wanted = dict(levels)
    for name, level in wanted.items():
        logger = logging.getLogger(name or None)
        applied = _applied.get(name)
        if applied is None:
            if name and logger.level != _NOTSET:
                continue  # the actor's code set this level before the host did
        elif logger.level != applied:
            continue  # ... or after: it stays
        if logger.level != level:
            logger.setLevel(level)
        _applied[name] = level
    for name in [name for name in _applied if name not in wanted]:
        logger = logging.getLogger(name or None)
        if name and logger.level == _applied[name]:
            logger.setLevel(_NOTSET)  # the host no longer sets it: inherit again
        del _applied[name]


def use_actor_loggers() -> None:
    """Make this interpreter's plain loggers, present and future, :class:`ActorLogger`\\ s."""
    import logging

    if logging.getLoggerClass() is not logging.Logger:
        return  # the actor's code chose its own class: keep it
    cls = _actor_logger_class(logging)
    logging.setLoggerClass(cls)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if type(logger) is logging.Logger:
            logger.__class__ = cls


def _actor_logger_class(logging: Any) -> Any:
    class ActorLogger(logging.Logger):  # type: ignore[misc]
        """A ``logging.Logger`` whose filtered-out ``debug()``/``info()`` return at once.

        ``_cache`` is ``logging``'s own (level -> enabled), cleared on every level change;
        it does not reflect ``disabled``, so an enabled call checks again in full.
        """

        def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
            try:
                if not self._cache[_DEBUG]:
                    return
            except KeyError:
                pass
            if self.isEnabledFor(_DEBUG):
                # One frame more than logging's own debug(): the record names the caller.
                kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
                self._log(_DEBUG, msg, args, **kwargs)

        def info(self, msg: object, *args: object, **kwargs: Any) -> None:
            try:
                if not self._cache[_INFO]:
                    return
            except KeyError:
                pass
            if self.isEnabledFor(_INFO):
                kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
                self._log(_INFO, msg, args, **kwargs)

    return ActorLogger
