"""An actor class in a module that imports :mod:`typing` at run time, as many applications'
modules do: the "RSS per idle actor, module imports typing" row of the spawn scenario.

Every actor's interpreter imports its class's module, and with it ``typing``, which costs
each interpreter about 1 MiB (the other benchmark actors' module keeps it out).
"""

from __future__ import annotations

from typing import Any

import interactors


class TypedEcho(interactors.Actor):
    def ping(self, value: Any) -> Any:
        return value
