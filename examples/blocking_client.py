"""Actors from a plain synchronous program: no ``async``, no event loop in sight.

    python -m examples.blocking_client

The system's event loop runs in a thread of its own. ``ask`` returns a future at once, so
the program sends every request first and then collects the answers, while the actors
count in parallel.
"""

from __future__ import annotations

import time

from examples.primes import PrimeCounter
from interactors import BlockingActorSystem

LIMITS = (150_000, 200_000, 250_000, 300_000)


def main() -> None:
    started = time.perf_counter()
    with BlockingActorSystem() as system:
        counters = [system.spawn(PrimeCounter, name=f"primes-{i}") for i in (1, 2)]
        futures = [counters[i % 2].ask(PrimeCounter.count, limit) for i, limit in enumerate(LIMITS)]
        for limit, future in zip(LIMITS, futures, strict=True):
            print(f"primes below {limit:,}: {future.result():,}")
    print(f"done in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
