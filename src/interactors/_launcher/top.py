"""``interactors top [PID]`` and ``interactors stats [--json] [PID]``: look at a running app.

Both read snapshots from the process's control socket (see :mod:`interactors._host.control`;
``interactors run`` always serves one, an embedded ``ActorSystem(control=True)`` too).
``stats --json`` prints one snapshot as JSON, for scripts; ``stats`` prints it as tables;
``top`` shows it live, refreshed every second, until ``q`` (or Ctrl-C). Messages per second
and CPU % are computed here from the differences between two snapshots.

Without PID, the one process of this user that serves a control socket is used. The
screens need rich (the ``top`` extra); ``stats --json`` does not.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import termios
import time
import tty
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

import msgspec

from .._host.control import alive_pid, control_dir, control_path, exchange, socket_pids
from .._host.snapshot import ActorRow, ProcessSnapshot, TreeNode

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.tree import Tree

__all__ = ("TopError", "find_pid", "stats_main", "top_main")

REFRESH: Final = 1.0
NEED_RICH: Final = "needs rich: pip install 'interactors[top]'"
STATE_STYLES: Final = {
    "running": "green",
    "starting": "cyan",
    "restarting": "yellow",
    "stopping": "magenta",
    "stopped": "dim",
    "crashed": "bold red",
}


class TopError(Exception):
    """A problem the user can fix (no such process, no rich); the message says how."""


def find_pid(pid: int | None) -> int:
    """``pid`` if it serves a control socket; without one, the only process that does."""
    if pid is not None:
        if not control_path(pid).is_socket():
            raise TopError(
                f"process {pid} has no control socket in {control_dir()}: is it an "
                "`interactors run` app (or an ActorSystem(control=True)) of this user?"
            )
        return pid
    alive = sorted(p for p in socket_pids() if alive_pid(p))
    if not alive:
        raise TopError(
            f"no running interactors app of this user found (no socket in {control_dir()}); "
            "start one with `interactors run`"
        )
    if len(alive) > 1:
        raise TopError(f"several interactors apps are running; choose a PID: {alive}")
    return alive[0]


def _connect(pid: int) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5.0)
    try:
        sock.connect(str(control_path(pid)))
    except OSError as exc:
        sock.close()
        raise TopError(f"cannot connect to process {pid}: {exc.strerror or exc}") from None
    return sock


def _snapshot(sock: socket.socket) -> tuple[bytes, ProcessSnapshot]:
    raw = exchange(sock)
    return raw, msgspec.json.decode(raw, type=ProcessSnapshot)


# -- commands ----------------------------------------------------------------------------


def stats_main(pid: int | None, as_json: bool) -> int:
    """Print one snapshot of ``pid`` (JSON or tables); return the exit code."""
    try:
        pid = find_pid(pid)
        if not as_json:
            _need_rich("interactors stats (without --json)")
        with _connect(pid) as sock:
            raw, snapshot = _snapshot(sock)
    except (TopError, OSError) as exc:
        print(f"interactors stats: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, TopError) else 1
    if as_json:
        sys.stdout.write(raw.decode() + "\n")
        return 0
    from rich.console import Console

    Console().print(render(snapshot, None, live=False))
    return 0


def top_main(pid: int | None) -> int:
    """Show ``pid`` live until ``q``; return the exit code."""
    # The launcher's signal latch is for `run`: here Ctrl-C simply quits.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        _need_rich("interactors top")
        if not sys.stdout.isatty():
            raise TopError(
                "interactors top draws a live screen and needs a terminal (its output is "
                "not one): use `interactors stats [--json] [PID]` for a snapshot"
            )
        pid = find_pid(pid)
        sock = _connect(pid)
    except TopError as exc:
        print(f"interactors top: error: {exc}", file=sys.stderr)
        return 2
    from rich.console import Console
    from rich.live import Live

    ended = False
    with sock, _cbreak() as keys, Live(console=Console(), screen=True, auto_refresh=False) as live:
        previous: ProcessSnapshot | None = None
        try:
            while True:
                try:
                    _raw, snapshot = _snapshot(sock)
                except OSError:
                    ended = True
                    break
                live.update(render(snapshot, previous), refresh=True)
                previous = snapshot
                if keys.wait_for_quit(REFRESH):
                    break
        except KeyboardInterrupt:
            pass
    if ended:
        print(f"interactors top: process {pid} has ended")
    return 0


def _need_rich(what: str) -> None:
    try:
        import rich  # noqa: F401
    except ImportError:
        raise TopError(f"{what} {NEED_RICH}") from None


class _Keys:
    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def wait_for_quit(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s; True when ``q`` was pressed."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if self.fd is None:
                time.sleep(left)
                return False
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                key = os.read(self.fd, 1)
                if key in (b"q", b"Q", b""):
                    return True
        return False


@contextlib.contextmanager
def _cbreak() -> Iterator[_Keys]:
    """Keys from stdin one at a time (no Enter needed), restored afterwards."""
    if not sys.stdin.isatty():
        yield _Keys(None)
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield _Keys(fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


# -- the screen --------------------------------------------------------------------------


def render(
    snapshot: ProcessSnapshot, previous: ProcessSnapshot | None, live: bool = True
) -> RenderableType:
    """The screen for ``snapshot``: with ``live``, rates since ``previous`` (``-`` without
    one); else totals (messages handled, CPU seconds)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    elapsed = 0.0 if previous is None else snapshot.time - previous.time
    before: dict[tuple[int, int], ActorRow] = {}
    if previous is not None:
        for system in previous.systems:
            for row in system.actors:
                before[system.system_id, row.actor_id] = row
    actors = sum(len(s.actors) for s in snapshot.systems)
    cpu = _percent(snapshot.cpu_seconds, previous.cpu_seconds if previous else None, elapsed)
    if not live:
        cpu = "-" if snapshot.cpu_seconds is None else f"{snapshot.cpu_seconds:.1f} s"
    header = Text.assemble(
        ("interactors top" if live else "interactors stats", "bold"),
        f"  pid {snapshot.pid}  ",
        f"RSS {_mib(snapshot.rss_bytes)}  CPU {cpu}  ",
        f"{actors} actor{'' if actors == 1 else 's'}  ",
        ("q quits" if live else "", "dim"),
    )
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold reverse")
    for title in ("ACTOR", "STATE", "ISOLATION"):
        table.add_column(title, no_wrap=True)
    rate_title, cpu_title = ("MSG/S", "CPU %") if live else ("MESSAGES", "CPU s")
    for title in ("MAILBOX", rate_title, "ASKS", "ERRORS", "RESTARTS", cpu_title):
        table.add_column(title, justify="right", no_wrap=True)
    for system in snapshot.systems:
        for row in system.actors:
            old = before.get((system.system_id, row.actor_id))
            rate, cpu = "-", _percent(row.cpu_seconds, old.cpu_seconds if old else None, elapsed)
            if not live:
                rate = f"{row.messages_handled:,}"
                cpu = "-" if row.cpu_seconds is None else f"{row.cpu_seconds:.2f}"
            elif old is not None and elapsed > 0:
                rate = f"{(row.messages_handled - old.messages_handled) / elapsed:,.0f}"
            table.add_row(
                row.name,
                Text(row.state, style=STATE_STYLES.get(row.state, "")),
                row.isolation,
                f"{row.mailbox_depth}/{row.mailbox_size}",
                rate,
                str(row.asks_in_flight),
                str(row.errors),
                str(row.restarts),
                cpu,
            )
    parts: list[RenderableType] = [header, Text(), table, Text()]
    states = {row.name: row for system in snapshot.systems for row in system.actors}
    for system in snapshot.systems:
        parts.extend(_tree(node, states) for node in system.tree)
    return Group(*parts)


def _tree(node: TreeNode, states: dict[str, ActorRow]) -> Tree:
    from rich.text import Text
    from rich.tree import Tree

    def label(node: TreeNode) -> Text:
        by = f", started by {node.started_by}" if node.started_by else ""
        if node.kind == "supervisor":
            status = " gave up" if node.failed else ""
            return Text.assemble((node.name, "bold"), f" ({node.strategy}{by}){status}")
        row = states.get(node.name)
        state = row.state if row is not None else "gone"
        count = 0 if row is None else row.restarts
        restarts = f", {count} restart{'' if count == 1 else 's'}" if count else ""
        return Text.assemble(
            node.name,
            " ",
            (state, STATE_STYLES.get(state, "")),
            f" [{node.restart}{restarts}{by}]",
        )

    tree = Tree(label(node), guide_style="dim")

    def add(branch: Tree, children: list[TreeNode]) -> None:
        for child in children:
            add(branch.add(label(child)), child.children)

    add(tree, node.children)
    return tree


def _percent(now: float | None, before: float | None, elapsed: float) -> str:
    if now is None or before is None or elapsed <= 0:
        return "-"
    return f"{100 * (now - before) / elapsed:.0f}%"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / (1 << 20):.1f} MiB"
