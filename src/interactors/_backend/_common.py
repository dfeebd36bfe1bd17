"""What the backend's two sides share: the markers that ``get`` returns. Stdlib only:
actors' interpreters import it."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Final


class _Unbound:
    """Marker for a queue item whose sending interpreter was destroyed before delivery."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNBOUND"


UNBOUND: Final = _Unbound()

# ``get`` returns ``(BATCHED, item)`` for an item holding several envelopes (put_batch).
# The same number as envelope.BATCH, the kind the receiving actor dispatches on.
BATCHED: Final = 9
