"""An actor module that imports msgspec at module level (it refuses own-GIL interpreters)."""

from __future__ import annotations

from typing import Any

import msgspec

import interactors


class JsonActor(interactors.Actor):
    def encode(self, value: Any) -> bytes:
        return msgspec.json.encode(value)

    def echo(self, value: Any) -> Any:
        return value
