"""Actors from a plain synchronous program: no ``async``, no event loop in sight.

    python -m examples.blocking_client

The system's event loop runs in a thread of its own. ``ask`` returns a future at once, so
the program sends every request first and then collects the answers, while the pool's
two actors count in parallel.
"""

from __future__ import annotations

import time

from examples.primes import PrimeCounter
from interactors import BlockingActorSystem

LIMITS = (150_000, 200_000, 250_000, 300_000)


def main() -> None:
    started = time.perf_counter()
    with BlockingActorSystem() as system:
        primes = system.spawn_pool(PrimeCounter, size=2, name="primes")  # one per CPU
        futures = [primes.ask(PrimeCounter.count, limit) for limit in LIMITS]
        for limit, future in zip(LIMITS, futures, strict=True):
            print(f"primes below {limit:,}: {future.result():,}")
    print(f"done in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
