"""A CPU-bound actor for the embedding examples: it counts primes in pure Python.

Stdlib and interactors only, since each actor's interpreter imports this module.
"""

from __future__ import annotations

import interactors


def count_primes(below: int) -> int:
    """How many primes are smaller than ``below`` (trial division: slow on purpose)."""
    count = 1 if below > 2 else 0
    for n in range(3, below, 2):
        divisor = 3
        while divisor * divisor <= n:
            if n % divisor == 0:
                break
            divisor += 2
        else:
            count += 1
    return count


class PrimeCounter(interactors.Actor):
    """Answers ``count(below)`` in its own interpreter, in parallel with its peers."""

    def count(self, below: int) -> int:
        return count_primes(below)

    def count_named(self, below: int) -> tuple[int, str]:
        """The count, and the name of the actor that counted (in a pool, the one chosen)."""
        return count_primes(below), self.name
