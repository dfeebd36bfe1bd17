"""Spawn options shared by ActorSystem, ChildSpec and the settings file: names and checks."""

from __future__ import annotations

from typing import Final, Literal

Isolation = Literal["isolated", "shared_gil", "process", "auto"]
ISOLATIONS: Final = ("isolated", "shared_gil", "process", "auto")
ON_ERROR: Final = ("resume", "restart", "stop")
DEFAULT_SHUTDOWN: Final = 5.0


def check_isolation(isolation: str) -> None:
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {ISOLATIONS}, got {isolation!r}")
