"""The launcher's signal latch: a second SIGINT/SIGTERM forces the exit, even when it
arrives in the middle of an import that the exit's own modules need."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# The second signal comes while the import the forced exit needs cannot happen (as when
# it interrupts the import of weakref, which logging needs): the exit still happens.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from interactors._launcher.signals import SignalLatch
    SignalLatch().install()
    sys.modules["interactors._host.exit_guard"] = None  # importing it now fails
    os.kill(os.getpid(), signal.{name})
    os.kill(os.getpid(), signal.{name})
    print("not reached")
    """
)


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_second_signal_exits_even_when_the_exit_cannot_import(name: str, code: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(name=name)], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == code, done.stderr
    assert f"leaving with exit code {code}: received {name} again" in done.stderr
    assert "not reached" not in done.stdout
