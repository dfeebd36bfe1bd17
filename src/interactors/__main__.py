"""``python -m interactors``: the ``interactors`` command."""

from ._launcher.signals import SignalLatch

# First thing: a SIGINT/SIGTERM from now on is recorded, not fatal (see the launcher).
_latch = SignalLatch().install()

from ._launcher.cli import main  # noqa: E402

raise SystemExit(main(latch=_latch))
