"""The loop that runs inside an actor's interpreter.

The host starts a thread that runs :func:`main` in the actor's interpreter. The worker
imports the actor's module, builds the instance when the host says START, then receives
envelopes from its mailbox, dispatches them to the instance and replies. It spins briefly
before parking on its mailbox's eventfd, so a busy actor answers fast and an idle one
costs no CPU.

May import only the stdlib and interactors' stdlib-only modules (never anyio or msgspec at
import time): it must load in an own-GIL interpreter. A test imports it in one.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import pickle
import re
import sys
import time
import traceback
from typing import Any, Final

from . import _backend as backend
from . import _protocol as P
from . import _slots as S
from ._actor import public_methods
from ._codec import Codec, codec_from_spec
from ._exceptions import EncodeError, UnknownMethodError
from ._peer import PeerContext

_CO_COROUTINE: Final = 0x80
# How long an idle worker keeps checking its queue before it parks (seconds).
SPIN_SECONDS: Final = 50e-6
_ISOLATION_MARKS: Final = re.compile(
    r"module (?P<name>\S+) does not support loading in subinterpreters"
    r"|(?P<other>\S+) (?:cannot|does not support being) (?:be )?(?:imported|loaded)"
    r" in sub-?interpreters",
    re.IGNORECASE,
)

_count = backend.count
_get = backend.get
_put = backend.put
_wake = os.eventfd_write
_now_ns = time.monotonic_ns


class StopWorker(Exception):
    """Internal: the worker was told to stop."""


def is_async(fn: Any) -> bool:
    code = getattr(fn, "__code__", None)
    return bool(code is not None and code.co_flags & _CO_COROUTINE)


def error_payload(exc: BaseException) -> tuple[str, str, str, bytes | None]:
    """Describe an exception with plain values; the pickled exception when it pickles."""
    kind = type(exc)
    type_name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    text = "".join(traceback.format_exception(exc))
    blob: bytes | None
    try:
        blob = pickle.dumps(exc, 5)
        pickle.loads(blob)
    except Exception:
        blob = None
    return type_name, str(exc), text, blob


def _isolation_extension(exc: BaseException | None) -> str | None:
    """The extension module that refused to load in this own-GIL interpreter, if that is why."""
    while exc is not None:
        if isinstance(exc, ImportError):
            found = _ISOLATION_MARKS.search(str(exc))
            if found:
                name = found.group("name") or found.group("other") or exc.name or "?"
                return _qualify_module(name, exc)
        exc = exc.__cause__ or exc.__context__
    return None


def _qualify_module(name: str, exc: BaseException) -> str:
    """CPython names a refused extension by its last component on first import
    (``_core``); find the package it belongs to from the importing frames."""
    if "." in name:
        return name
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        directory = os.path.dirname(frame.filename)
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        if any(
            entry.startswith(name + ".") and entry.endswith((".so", ".pyd")) for entry in entries
        ):
            package = _package_of(directory)
            return f"{package}.{name}" if package else name
    return name


def _package_of(directory: str) -> str:
    parts: list[str] = []
    while os.path.exists(os.path.join(directory, "__init__.py")):
        parts.append(os.path.basename(directory))
        directory = os.path.dirname(directory)
    return ".".join(reversed(parts))


def _import_main(main_path: str) -> Any:
    """Import the host's main script as ``__mp_main__`` (as multiprocessing's spawn does)."""
    spec = importlib.util.spec_from_file_location("__mp_main__", main_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the main script {main_path!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["__mp_main__"] = module
    spec.loader.exec_module(module)
    sys.modules["__main__"] = module
    return module


def resolve_class(target: str, main_path: str) -> Any:
    module_name, _, qualname = target.partition(":")
    if module_name == "__main__":
        module = _import_main(main_path) if main_path else importlib.import_module("__main__")
    else:
        module = importlib.import_module(module_name)
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


class Worker:
    """One actor's receive/dispatch/reply loop (lives in the actor's interpreter)."""

    def __init__(self, config: tuple[Any, ...]) -> None:
        (
            self.system_id,
            self.actor_id,
            self.name,
            self.target,
            self.main_path,
            sys_path,
            codec_spec,
            self.mbox_q,
            self.mbox_fd,
            self.ctl_q,
            self.reply_q,
            self.reply_fd,
            self.host_q,
            self.host_fd,
            slot_fd,
            slot_index,
            self.max_concurrency,
            self.start_id,
        ) = config
        self.methods: tuple[str, ...] = ()
        sys.path[:] = list(sys_path)
        self._area, self.fields, self.base = S.slot_fields(slot_fd, slot_index)
        self.codec_spec: str = codec_spec
        self.codec: Codec | None = None
        self.cls: Any = None
        self.instance: Any = None
        self.async_methods: frozenset[str] = frozenset()
        self.loop: Any = None
        self.peers = PeerContext(self)
        self.init_payload: tuple[int, Any] = (P.PLAIN, ())
        self.stop_reply: tuple[int, int, int] | None = None

    # -- sending -------------------------------------------------------------------------

    def send(self, qid: int, fd: int, envelope: tuple[Any, ...]) -> None:
        _put(qid, envelope)
        _wake(fd, 1)

    def reply_ok(self, qid: int, fd: int, msg_id: int, result: Any) -> None:
        if type(result) in P.PLAIN_TYPES:
            self.send(qid, fd, (P.REPLY_OK, msg_id, P.PLAIN, result))
            return
        try:
            payload = self.codec.encode(result)  # type: ignore[union-attr]
        except EncodeError as exc:
            self.reply_error(qid, fd, msg_id, exc)
            return
        self.send(qid, fd, (P.REPLY_OK, msg_id, P.ENCODED, payload))

    def reply_error(self, qid: int, fd: int, msg_id: int, exc: BaseException) -> None:
        self.send(qid, fd, (P.REPLY_ERROR, msg_id, P.PLAIN, error_payload(exc)))

    def tell_host(self, kind: int, msg_id: int, payload: Any) -> None:
        self.send(self.host_q, self.host_fd, (kind, msg_id, P.PLAIN, payload))

    # -- start -----------------------------------------------------------------------------

    def load(self) -> bool:
        """Import the actor's class and codec; report a failure to the host."""
        try:
            self.codec = codec_from_spec(self.codec_spec)
        except BaseException as exc:
            why = P.FAIL_ISOLATION if _isolation_extension(exc) else P.FAIL_CODEC
            self.tell_host(
                P.START_FAILED,
                self.start_id,
                (why, _isolation_extension(exc) or "", *error_payload(exc)),
            )
            return False
        try:
            self.cls = resolve_class(self.target, self.main_path)
        except BaseException as exc:
            extension = _isolation_extension(exc)
            why = P.FAIL_ISOLATION if extension else P.FAIL_IMPORT
            self.tell_host(
                P.START_FAILED, self.start_id, (why, extension or "", *error_payload(exc))
            )
            return False
        self.methods = public_methods(self.cls)
        self.async_methods = frozenset(
            name for name in self.methods if is_async(getattr(self.cls, name, None))
        )
        return True

    def construct(self) -> None:
        """Build a fresh instance from the constructor's arguments (raises on failure)."""
        fmt, payload = self.init_payload
        args, kwargs = (payload, None) if fmt == P.PLAIN else self.codec.decode(payload)  # type: ignore[union-attr]
        instance = self.cls.__new__(self.cls)
        instance.ref = self.peers.self_ref()
        instance.name = self.name
        instance.__init__(*args, **(kwargs or {}))
        self.instance = instance

    def hook(self, name: str, *args: Any) -> Any:
        fn = getattr(self.instance, name, None)
        return None if fn is None else fn(*args)

    def started(self) -> None:
        self.fields[self.base + S.INCARNATION] += 1
        self.tell_host(P.STARTED, self.start_id, (self.methods, tuple(sorted(self.async_methods))))

    def start_failed(self, exc: BaseException) -> None:
        self.instance = None
        extension = _isolation_extension(exc)
        why = P.FAIL_ISOLATION if extension else P.FAIL_INIT
        self.tell_host(P.START_FAILED, self.start_id, (why, extension or "", *error_payload(exc)))

    # -- dispatch --------------------------------------------------------------------------

    def prepare(
        self, envelope: tuple[Any, ...]
    ) -> tuple[Any, tuple[Any, ...], dict[str, Any] | None]:
        _kind, _msg_id, method, fmt, payload, _rq, _rfd = envelope
        if method not in self.methods:
            raise UnknownMethodError(
                f"actor {self.name!r} ({self.target}) has no public method {method!r}; "
                f"it has: {', '.join(self.methods) or 'none'}"
            )
        if fmt == P.PLAIN:
            return getattr(self.instance, method), payload, None
        args, kwargs = self.codec.decode(payload)  # type: ignore[union-attr]
        return getattr(self.instance, method), tuple(args), kwargs

    def begin(self, msg_id: int) -> None:
        fields, base = self.fields, self.base
        fields[base + S.CURRENT_MSG] = msg_id or 1
        fields[base + S.BUSY_SINCE] = _now_ns()

    def end(self, failed: bool) -> None:
        fields, base = self.fields, self.base
        fields[base + S.CURRENT_MSG] = 0
        fields[base + S.HANDLED] += 1
        if failed:
            fields[base + S.ERRORS] += 1

    def handle(self, envelope: tuple[Any, ...]) -> None:
        """Handle one ASK/TELL synchronously (the method is a plain function)."""
        kind, msg_id = envelope[0], envelope[1]
        self.begin(msg_id)
        try:
            fn, args, kwargs = self.prepare(envelope)
            result = fn(*args, **kwargs) if kwargs else fn(*args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.end(True)
            self.failed(envelope, exc)
            return
        self.end(False)
        if kind == P.ASK:
            self.reply_ok(envelope[5], envelope[6], msg_id, result)

    async def handle_async(self, envelope: tuple[Any, ...]) -> None:
        """Handle one ASK/TELL whose method is ``async def``, on the actor's loop."""
        kind, msg_id = envelope[0], envelope[1]
        self.begin(msg_id)
        try:
            fn, args, kwargs = self.prepare(envelope)
            result = await (fn(*args, **kwargs) if kwargs else fn(*args))
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self.end(True)
            self.failed(envelope, exc)
            return
        self.end(False)
        if kind == P.ASK:
            self.reply_ok(envelope[5], envelope[6], msg_id, result)

    def failed(self, envelope: tuple[Any, ...], exc: BaseException) -> None:
        if envelope[0] == P.ASK:
            self.reply_error(envelope[5], envelope[6], envelope[1], exc)
        elif not isinstance(exc, UnknownMethodError):
            # Nobody waits for a tell: say what happened instead of dropping it silently.
            print(
                f"interactors: actor {self.name!r}: tell {envelope[2]!r} raised:\n"
                + "".join(traceback.format_exception(exc)),
                file=sys.stderr,
                end="",
            )

    def control(self, envelope: tuple[Any, ...]) -> None:
        """Handle a message from the control queue or a STOP from the mailbox."""
        kind = envelope[0]
        if kind == P.STOP:
            self.stop_reply = (envelope[5], envelope[6], envelope[1])
            raise StopWorker

    # -- loops -----------------------------------------------------------------------------

    def serve_sync(self) -> None:
        mbox_q, ctl_q, fd = self.mbox_q, self.ctl_q, self.mbox_fd
        fields, parked = self.fields, self.base + S.PARKED
        handle, control = self.handle, self.control
        perf = time.perf_counter
        yield_cpu = os.sched_yield
        while True:
            if _count(ctl_q):
                control(_get(ctl_q))  # type: ignore[arg-type]
                continue
            pending = _count(mbox_q)
            if pending:
                for _ in range(pending):
                    envelope: Any = _get(mbox_q)
                    if envelope[0] == P.STOP:
                        control(envelope)
                    elif envelope is not backend.UNBOUND:
                        handle(envelope)
                continue
            deadline = perf() + SPIN_SECONDS
            while not _count(mbox_q) and perf() < deadline:
                yield_cpu()
            if _count(mbox_q) or _count(ctl_q):
                continue
            fields[parked] = 1
            if not _count(mbox_q) and not _count(ctl_q):
                os.eventfd_read(fd)
            fields[parked] = 0

    async def serve_async(self) -> None:
        import asyncio

        loop = self.loop
        wake = asyncio.Event()

        def on_mail() -> None:
            os.eventfd_read(self.mbox_fd)
            wake.set()

        loop.add_reader(self.mbox_fd, on_mail)
        limit = asyncio.Semaphore(max(1, self.max_concurrency))
        tasks: set[Any] = set()

        async def run_limited(envelope: tuple[Any, ...]) -> None:
            try:
                await self.handle_async(envelope)
            finally:
                limit.release()

        try:
            while True:
                if _count(self.ctl_q):
                    self.control(_get(self.ctl_q))  # type: ignore[arg-type]
                    continue
                if not _count(self.mbox_q):
                    wake.clear()
                    if not _count(self.mbox_q) and not _count(self.ctl_q):
                        await wake.wait()
                    continue
                envelope: Any = _get(self.mbox_q)
                if envelope is backend.UNBOUND:
                    continue
                if envelope[0] == P.STOP:
                    if tasks:
                        await asyncio.gather(*tasks, return_exceptions=True)
                    self.control(envelope)
                if envelope[2] not in self.async_methods:
                    self.handle(envelope)
                elif self.max_concurrency <= 1:
                    await self.handle_async(envelope)
                else:
                    await limit.acquire()
                    task = loop.create_task(run_limited(envelope))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        finally:
            loop.remove_reader(self.mbox_fd)

    def needs_loop(self) -> bool:
        hooks = (getattr(self.cls, name, None) for name in ("on_start", "on_stop"))
        return bool(self.async_methods) or any(is_async(fn) for fn in hooks)

    def run(self) -> None:
        P._inner_ref_factory = self.peers.ref_from_address
        try:
            if not self.load():
                return
            # The host sends START (with the constructor's arguments) on the control queue.
            while not _count(self.ctl_q):
                os.eventfd_read(self.mbox_fd)
            start: Any = _get(self.ctl_q)
            self.init_payload = (start[3], start[4])
            if self.needs_loop():
                import asyncio

                asyncio.run(self.lifecycle_async())
            else:
                self.lifecycle_sync()
        finally:
            self.peers.close()
            self.fields.release()
            self._area.close()

    def lifecycle_sync(self) -> None:
        try:
            self.construct()
            self.hook("on_start")
        except BaseException as exc:
            self.start_failed(exc)
            return
        self.started()
        with contextlib.suppress(StopWorker):
            self.serve_sync()
        error: BaseException | None = None
        try:
            self.hook("on_stop")
        except BaseException as exc:
            error = exc
        self.stopped(error)

    async def lifecycle_async(self) -> None:
        import asyncio

        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(self.reply_fd, self.peers.on_reply_readable)
        try:
            await self.lifecycle_in_loop()
        finally:
            self.loop.remove_reader(self.reply_fd)
            self.loop = None

    async def lifecycle_in_loop(self) -> None:
        try:
            self.construct()
            result = self.hook("on_start")
            if hasattr(result, "__await__"):
                await result
        except BaseException as exc:
            self.start_failed(exc)
            return
        self.started()
        with contextlib.suppress(StopWorker):
            await self.serve_async()
        error: BaseException | None = None
        try:
            result = self.hook("on_stop")
            if hasattr(result, "__await__"):
                await result
        except BaseException as exc:
            error = exc
        self.stopped(error)

    def stopped(self, error: BaseException | None) -> None:
        self.instance = None
        if self.stop_reply is not None:
            qid, fd, msg_id = self.stop_reply
            if error is None:
                self.reply_ok(qid, fd, msg_id, None)
            else:
                self.reply_error(qid, fd, msg_id, error)


def main(config: tuple[Any, ...]) -> None:
    """Entry point, run by the host in the actor's interpreter thread."""
    Worker(config).run()
