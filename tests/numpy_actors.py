"""numpy actors: the module imports numpy at the top, as real code does."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

import interactors


class Numeric(interactors.Actor):
    """numpy inside an actor: it refuses to load in an own-GIL interpreter."""

    def work(self, n: int, rounds: int) -> float:
        a = np.arange(n * n, dtype=np.float64).reshape(n, n) / (n * n)
        total = 0.0
        for _ in range(rounds):
            total += float((a @ a).sum())
        return total

    def pid(self) -> int:
        return os.getpid()

    def echo(self, value: Any) -> Any:
        return value

    def double(self, array: Any) -> Any:
        return array * 2

    def total(self, array: Any) -> float:
        return float(array.sum())
