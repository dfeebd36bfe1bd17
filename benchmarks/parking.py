"""The event loop alone: how fast asyncio and trio park and resume 100 tasks.

Every ask that waits parks its task and resumes it once the answer is in, whatever the
framework does around that. This measures only that, with no messages: 100 tasks each park
``each`` times (an asyncio future; trio's ``wait_task_rescheduled``) and one driver task
resumes every parked one each turn of the loop, as the reply pump does with a batch of
answers. The trio/asyncio ratio of this floor bounds what "trio vs asyncio" can reach for
100 callers: the host's own work per ask is the same on both.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

TASKS = 100


async def _on_asyncio(each: int) -> float:
    loop = asyncio.get_running_loop()
    parked: list[asyncio.Future[None]] = []
    done = 0

    async def worker() -> None:
        nonlocal done
        for _ in range(each):
            future = loop.create_future()
            parked.append(future)
            await future
        done += 1

    async def driver() -> None:
        while done < TASKS:
            batch = parked[:]
            parked.clear()
            for future in batch:
                future.set_result(None)
            await asyncio.sleep(0)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(TASKS):
            group.create_task(worker())
        group.create_task(driver())
    return TASKS * each / (time.perf_counter() - start)


async def _on_trio(each: int) -> float:
    import outcome
    import trio

    low = trio.lowlevel
    parked: list[Any] = []
    done = 0

    def abort(_raise_cancel: Any) -> Any:
        return low.Abort.SUCCEEDED

    async def worker() -> None:
        nonlocal done
        for _ in range(each):
            parked.append(low.current_task())
            await low.wait_task_rescheduled(abort)
        done += 1

    async def driver() -> None:
        while done < TASKS:
            batch = parked[:]
            parked.clear()
            for task in batch:
                low.reschedule(task, outcome.Value(None))
            await low.checkpoint()

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for _ in range(TASKS):
            nursery.start_soon(worker)
        nursery.start_soon(driver)
    return TASKS * each / (time.perf_counter() - start)


def park_resume_rates(total: int, repeat: int) -> dict[str, float]:
    """Best parks-and-resumes per second of ``repeat`` runs, per library (``total`` each)."""
    import trio

    each = max(1, total // TASKS)
    return {
        "asyncio": max(asyncio.run(_on_asyncio(each)) for _ in range(repeat)),
        "trio": max(trio.run(_on_trio, each) for _ in range(repeat)),
    }
