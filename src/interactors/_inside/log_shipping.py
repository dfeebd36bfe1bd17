"""Ships log records and warnings made inside an actor to the host's ``logging``.

Each interpreter has its own ``logging`` state, so without this an actor's records would
go to that interpreter's last-resort handler (bare text on stderr) or nowhere. Installing
is lazy: ``logging`` is imported here only once the actor's own code has imported it (the
worker checks when an incarnation starts and before it parks), so an actor that never
logs never pays for it. Once installed, the actor's root logger gets the host's effective
levels (a filtered-out ``debug`` stays cheap) and a handler that turns each record into a
plain tuple, buffers it, and sends the buffer to the host as one LOGS notice when it is
full, when it is old, before the worker parks, before any other notice (so a crash's log
lines come before the crash) and when the worker leaves.

``warnings.warn`` is routed through ``warnings.showwarning`` (no ``logging`` import
needed) as a WARNING record of the ``py.warnings`` logger, like
``logging.captureWarnings``.

Stdlib only, and no ``logging`` at import time: runs inside actors' interpreters.
"""

from __future__ import annotations

import _thread
import sys
import time

from .._wire import envelope as P

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = ("LogShipper", "before_park", "install")

# A batch goes to the host when it holds this many records, or its oldest is this old.
BATCH_RECORDS: Final = 256
BATCH_SECONDS: Final = 0.05
_WARNING = 30

_shipper: LogShipper | None = None


class LogShipper:
    """The actor's buffer of records (plain tuples) and the way to the host."""

    def __init__(self, worker: Any, root_level: int) -> None:
        self.worker = worker
        self.root_level = root_level
        self.buffer: list[tuple[Any, ...]] = []
        self.oldest = 0.0
        self.lock = _thread.RLock()
        self.handler: Any = None

    def add(self, record: tuple[Any, ...]) -> None:
        """Buffer one record ``(created, logger, level, message, exc_text, path, line,
        function)``; send the batch if it is full or old."""
        with self.lock:
            buffer = self.buffer
            if not buffer:
                self.oldest = record[0]
            buffer.append(record)
            if len(buffer) >= BATCH_RECORDS or record[0] - self.oldest >= BATCH_SECONDS:
                self.flush()

    def flush(self) -> None:
        """Send the buffered records to the host (nothing when there are none)."""
        with self.lock:
            if not self.buffer:
                return
            batch, self.buffer = tuple(self.buffer), []
            worker = self.worker
            worker.send(
                worker.host_q,
                worker.host_fd,
                (P.LOGS, worker.actor_id, P.PLAIN, (worker.name, batch)),
            )

    def show_warning(
        self,
        message: Any,
        category: Any,
        filename: str,
        lineno: int,
        file: Any = None,
        line: str | None = None,
    ) -> None:
        """``warnings.showwarning`` inside the actor: a ``py.warnings`` WARNING record."""
        if file is not None or self.root_level > _WARNING:
            return
        import warnings

        text = warnings.formatwarning(message, category, filename, lineno, line)
        self.add((time.time(), "py.warnings", _WARNING, text.rstrip(), None, filename, lineno, ""))


def install(worker: Any) -> None:
    """Route warnings now, and logging too if the actor's code has imported it.

    Called when an incarnation starts; :func:`before_park` installs the logging half
    later if the actor imports ``logging`` only then.
    """
    global _shipper
    levels = dict(worker.log_levels)
    shipper = _shipper
    if shipper is None:
        # One per interpreter (logging's state is): a later worker in it takes it over.
        shipper = _shipper = LogShipper(worker, levels.get("", _WARNING))
        import warnings

        warnings.showwarning = shipper.show_warning
    shipper.worker = worker
    worker.logs = shipper
    if shipper.handler is None and "logging" in sys.modules:
        _install_handler(shipper, levels)


def before_park(worker: Any) -> None:
    """The worker is about to wait: send what is buffered, install logging if now used."""
    shipper = worker.logs
    if shipper is None:
        return
    if shipper.buffer:
        shipper.flush()
    if shipper.handler is None and "logging" in sys.modules:
        _install_handler(shipper, dict(worker.log_levels))


def _install_handler(shipper: LogShipper, levels: dict[str, int]) -> None:
    import logging

    formatter = logging.Formatter()
    add = shipper.add

    class ShippingHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                exc_text = record.exc_text
                if record.exc_info and not exc_text:
                    exc_text = formatter.formatException(record.exc_info)
                if record.stack_info:
                    exc_text = f"{exc_text}\n{record.stack_info}" if exc_text else record.stack_info
                add(
                    (
                        record.created,
                        record.name,
                        record.levelno,
                        record.getMessage(),
                        exc_text,
                        record.pathname,
                        record.lineno,
                        record.funcName,
                    )
                )
            except Exception:
                self.handleError(record)

    root = logging.getLogger()
    for name, level in levels.items():
        logger = logging.getLogger(name) if name else root
        if not name or logger.level == logging.NOTSET:
            logger.setLevel(level)
    handler = ShippingHandler()
    root.addHandler(handler)
    shipper.handler = handler
