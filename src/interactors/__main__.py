"""``python -m interactors``: the ``interactors`` command."""

from ._cli import main

raise SystemExit(main())
