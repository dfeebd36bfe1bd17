"""``python -m interactors``: the ``interactors`` command."""

from ._launcher.cli import main

raise SystemExit(main())
