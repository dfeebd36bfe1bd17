"""Ships log records and warnings made inside an actor to the host's ``logging``.

Each interpreter has its own ``logging`` state, so without this an actor's records would
go to that interpreter's last-resort handler (bare text on stderr) or nowhere. Installing
is lazy: ``logging`` is imported here only once the actor's own code has imported it (the
worker checks when an incarnation starts; if it is not imported yet, a ``sys.meta_path``
watch installs the handler as soon as it is), so an actor that never logs never pays for
it. Once installed, the actor's root logger gets the host's effective levels (a
filtered-out ``debug`` stays cheap) and a handler that turns each record into a
plain tuple, buffers it, and sends the buffer to the host as one LOGS notice when it is
full, when it is old, before the worker parks, before any other notice (so a crash's log
lines come before the crash) and when the worker leaves.

``warnings.warn`` is routed through ``warnings.showwarning`` (no ``logging`` import
needed) as a WARNING record of the ``py.warnings`` logger, like
``logging.captureWarnings``; ``warnings`` too is routed when first imported, by the
actor's code or by CPython (for a coroutine never awaited), not imported for the actor:
its code alone costs each interpreter ~60 KiB.

Stdlib only, and no ``logging`` at import time: runs inside actors' interpreters.
"""

from __future__ import annotations

import _thread
import sys
import time

from .._wire import envelope as P
from .log_levels import apply_levels, use_actor_loggers

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = ("LogShipper", "before_park", "install", "on_levels")

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
            if (
                len(buffer) >= BATCH_RECORDS
                or record[0] - self.oldest >= BATCH_SECONDS
                # A thread of the actor's own: the worker may be parked, with no flush due.
                or _thread.get_ident() != self.worker.thread_id
            ):
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
    """Route warnings and logging now if the actor's code has imported them, else as soon
    as it does (a ``sys.meta_path`` watch: neither module is imported for the actor).

    Called when an incarnation starts; :func:`before_park` also checks for ``logging``.
    """
    global _shipper
    levels = dict(worker.log_levels)
    shipper = _shipper
    if shipper is None:
        # One per interpreter (logging's state is): a later worker in it takes it over.
        shipper = _shipper = LogShipper(worker, levels.get("", _WARNING))
        warnings: Any = sys.modules.get("warnings")
        if warnings is not None:
            warnings.showwarning = shipper.show_warning
    if shipper.worker is not worker and shipper.handler is not None:
        apply_levels(levels)  # a new worker in this interpreter: the host's levels now
    shipper.worker = worker
    worker.logs = shipper
    if shipper.handler is None and "logging" in sys.modules:
        _install_handler(shipper, levels)
    watched = {name for name in _WATCHED if name not in sys.modules}
    if watched and not any(isinstance(finder, ImportWatch) for finder in sys.meta_path):
        sys.meta_path.insert(0, ImportWatch(shipper, watched))


# Imported by the actor's code, or by CPython itself: a coroutine never awaited imports
# ``warnings`` to report it.
_WATCHED: Final = ("logging", "warnings")


class ImportWatch:
    """A ``sys.meta_path`` finder that routes ``logging`` or ``warnings`` to the host right
    after the actor's code first imports it (and leaves ``sys.meta_path`` once both are)."""

    def __init__(self, shipper: LogShipper, names: set[str]) -> None:
        self.shipper = shipper
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.names:
            return None
        self.names.discard(name)
        if not self.names:
            sys.meta_path.remove(self)
        for finder in sys.meta_path:
            find = None if finder is self else getattr(finder, "find_spec", None)
            spec = None if find is None else find(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _ThenInstall(spec.loader, self.shipper)
                return spec
        return None


class _ThenInstall:
    """Loads ``logging`` or ``warnings`` with the real loader, then routes it to the host."""

    def __init__(self, loader: Any, shipper: LogShipper) -> None:
        self.loader = loader
        self.shipper = shipper

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.loader.exec_module(module)
        shipper = self.shipper
        if module.__name__ == "warnings":
            module.showwarning = shipper.show_warning
        elif shipper.handler is None:
            _install_handler(shipper, dict(shipper.worker.log_levels))


def on_levels(worker: Any, levels: Any) -> None:
    """The host's levels changed (a LOG_LEVELS control message): apply them now if the
    actor uses ``logging``, else when it starts to."""
    worker.log_levels = levels
    shipper = worker.logs
    if shipper is None:
        return
    shipper.root_level = dict(levels).get("", _WARNING)
    if shipper.handler is not None:
        apply_levels(levels)


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
                # Exact types only (an IntEnum level, a str subclass): a batch must
                # encode, or every record in it would be lost with the one.
                add(
                    (
                        float(record.created),
                        str(record.name),
                        int(record.levelno),
                        str(record.getMessage()),
                        None if exc_text is None else str(exc_text),
                        str(record.pathname),
                        int(record.lineno or 0),
                        str(record.funcName),
                    )
                )
            except Exception:
                self.handleError(record)

    apply_levels(levels)
    use_actor_loggers()
    handler = ShippingHandler()
    logging.getLogger().addHandler(handler)
    shipper.handler = handler
