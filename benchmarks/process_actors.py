"""The actor that benchmarks/process.py runs in a process: numpy work and an echo."""

from __future__ import annotations

from typing import Any

import numpy as np

import interactors


class Numeric(interactors.Actor):
    def ping(self) -> int:
        return 1

    def echo(self, value: Any) -> Any:
        return value

    def work(self, n: int, rounds: int) -> float:
        a = np.arange(n * n, dtype=np.float64).reshape(n, n) / (n * n)
        total = 0.0
        for _ in range(rounds):
            total += float((a @ a).sum())
        return total
