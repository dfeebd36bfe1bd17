"""The local control channel: a Unix socket that serves snapshots of a running system.

The socket is ``$XDG_RUNTIME_DIR/interactors/<pid>.sock`` (without ``XDG_RUNTIME_DIR``:
``<tempdir>/interactors-<uid>/<pid>.sock``). Its directory is created with mode 0700 and
refused if another user owns it or others may enter it; the socket itself is 0600, so only
the process's own user can connect. It exists while the system runs and is removed when it
shuts down.

The protocol is one JSON object per line each way: the request ``{"op": "snapshot"}`` is
answered by a :class:`~.snapshot.ProcessSnapshot`; anything else gets ``{"error": "..."}``.
A client may send several requests on one connection (``interactors top`` does).

The server runs on the system's event loop (asyncio or trio, through anyio); the client
functions are plain blocking stdlib code, for the command line.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import anyio
import msgspec
from anyio.abc import SocketListener, SocketStream
from anyio.streams.buffered import BufferedByteReceiveStream

from .snapshot import process_snapshot

if TYPE_CHECKING:
    from .system import ActorSystem

__all__ = ("ControlServer", "control_dir", "control_path", "request")

MAX_REQUEST: Final = 64 * 1024


def control_dir() -> Path:
    """The directory of this user's control sockets (not created here)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "interactors"
    return Path(tempfile.gettempdir()) / f"interactors-{os.getuid()}"


def control_path(pid: int | None = None) -> Path:
    """The control socket of process ``pid`` (default: this one)."""
    return control_dir() / f"{os.getpid() if pid is None else pid}.sock"


def _private_dir(path: Path) -> None:
    """Create ``path`` with mode 0700, or check that an existing one is ours and private."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700, parents=False)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(
            f"control directory {path} is not a private directory of this user "
            f"(owner uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):o}): remove it, or "
            "set XDG_RUNTIME_DIR to a directory only you can use"
        )


def socket_pids() -> Iterator[int]:
    """The pids that have (or had: see :func:`alive_pid`) a socket in :func:`control_dir`."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(control_dir()):
            stem, dot, suffix = entry.name.partition(".")
            if dot and suffix == "sock" and stem.isdigit():
                yield int(stem)


def alive_pid(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_dead_sockets() -> None:
    """Remove the sockets of processes that died without removing theirs (killed)."""
    for pid in list(socket_pids()):
        if pid != os.getpid() and not alive_pid(pid):
            with contextlib.suppress(OSError):
                control_path(pid).unlink()


class ControlServer:
    """Serves snapshots of ``system`` on this process's control socket."""

    def __init__(self, system: ActorSystem) -> None:
        self.system = system
        self.path = control_path()
        self._listener: SocketListener | None = None

    async def open(self) -> None:
        """Create the socket (0600, in a private directory); raise OSError if it cannot."""
        _private_dir(self.path.parent)
        _remove_dead_sockets()
        if self.path.is_socket():
            # Left by a dead process that had our pid; a live server in this process
            # would own the path: the caller makes sure there is only one.
            self.path.unlink()
        self._listener = await anyio.create_unix_listener(self.path, mode=0o600)

    async def serve(self, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
        """Accept clients until cancelled; then close the socket and remove its file."""
        assert self._listener is not None
        listener = self._listener
        try:
            task_status.started()
            await listener.serve(self._handle)
        finally:
            with anyio.CancelScope(shield=True):
                await listener.aclose()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def close_unused(self) -> None:
        """Close a socket that was opened but never served (start-up failed)."""
        if self._listener is not None:
            await self._listener.aclose()
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    async def _handle(self, stream: SocketStream) -> None:
        async with stream:
            reader = BufferedByteReceiveStream(stream)
            while True:
                try:
                    line = await reader.receive_until(b"\n", MAX_REQUEST)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                    return
                except anyio.DelimiterNotFound:
                    await stream.send(b'{"error": "request line too long"}\n')
                    return
                try:
                    await stream.send(self._answer(line) + b"\n")
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return

    def _answer(self, line: bytes) -> bytes:
        try:
            request = msgspec.json.decode(line)
        except msgspec.DecodeError:
            request = None
        op = request.get("op") if isinstance(request, dict) else None
        if op != "snapshot":
            return msgspec.json.encode({"error": 'unknown request; send {"op": "snapshot"}'})
        return msgspec.json.encode(process_snapshot([self.system]))


def request(pid: int, op: str = "snapshot", timeout: float = 5.0) -> bytes:
    """Send one request to process ``pid``'s control socket; its JSON reply (blocking).

    Raises ``FileNotFoundError`` when the process has no control socket and
    ``ConnectionRefusedError`` when its server is gone.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(control_path(pid)))
        return exchange(sock, op)


def exchange(sock: socket.socket, op: str = "snapshot") -> bytes:
    """One request and its reply line over a connected control socket."""
    sock.sendall(msgspec.json.encode({"op": op}) + b"\n")
    chunks: list[bytes] = []
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            raise ConnectionResetError("the process closed its control socket")
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            return b"".join(chunks).rstrip(b"\n")
