"""Actors inside an ASGI service: the app's lifespan owns an ActorSystem.

    uvicorn examples.asgi_app:app

``GET /primes?below=N`` counts primes on the least busy actor of a pool of prime counters.
The counting runs in the actor's own interpreter, with its own GIL: the event loop keeps
serving meanwhile, and concurrent requests count in parallel on different actors.
``GET /stats`` shows how many requests each actor has handled. Stopping the server
stops the actors (their interpreters are destroyed before the process exits).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import interactors
from examples.primes import PrimeCounter

MAX_BELOW = 5_000_000


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
    async with interactors.ActorSystem() as system:
        # One ref over supervised copies: each request goes to the least busy one.
        counters = await system.spawn_pool(
            PrimeCounter, size=max(2, os.process_cpu_count() or 2), policy="least_busy"
        )
        # The state is handed to every request as request.state.
        yield {"system": system, "counters": counters}


async def primes(request: Request) -> JSONResponse:
    try:
        below = int(request.query_params.get("below", "100000"))
    except ValueError:
        return JSONResponse({"error": "below must be an integer"}, status_code=400)
    if not 0 <= below <= MAX_BELOW:
        return JSONResponse({"error": f"below must be in 0..{MAX_BELOW}"}, status_code=400)
    count, actor = await request.state.counters.ask.count_named(below)
    return JSONResponse({"below": below, "primes": count, "actor": actor})


async def stats(request: Request) -> JSONResponse:
    actors = request.state.system.statistics().actors
    return JSONResponse({actor.name: actor.messages_handled for actor in actors})


app = Starlette(
    routes=[Route("/primes", primes), Route("/stats", stats)],
    lifespan=lifespan,
)
