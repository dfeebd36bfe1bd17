"""The code of docs/actors.md, runnable: ``python -m examples.guide``."""

from __future__ import annotations

import logging
import sys

import anyio

import interactors
from examples.guide_actors import (
    Checker,
    Countdown,
    Hasher,
    Pipeline,
    Reporter,
    Slow,
    Splitter,
)


async def refs_travel(system: interactors.ActorSystem) -> None:
    hasher = await system.spawn(Hasher, name="hasher")
    pipeline = await system.spawn(Pipeline, hasher)  # pass the ref like any argument
    print("twice:", (await pipeline.ask.hash_twice("abc"))[:16])
    print("async:", (await pipeline.ask.hash_async("abc"))[:16])


async def typed_refs(system: interactors.ActorSystem) -> None:
    hasher = await system.spawn(Hasher)  # an ActorRef[Hasher]
    digest = await hasher.ask(Hasher.digest, b"abc", rounds=2)  # a str, for type checkers
    checker = await system.spawn(Checker, hasher)
    print("typed:", digest[:16], await checker.ask(Checker.matches, b"abc", digest, rounds=2))


async def errors(system: interactors.ActorSystem) -> None:
    hasher = system.lookup("hasher")
    assert hasher is not None
    try:
        await hasher.ask.digest("not bytes")  # bytes("...") raises inside the actor
    except interactors.ActorError as error:
        print("remote error:", error.type_name, "-", error.remote_message)
    try:
        await hasher.ask.no_such_method()
    except interactors.UnknownMethodError as error:
        print("unknown method:", str(error).split(";")[0])
    try:
        await hasher.ask.digest(lambda: None)  # cannot be pickled: nothing is sent
    except interactors.EncodeError:
        print("encode error at the sender")


async def cancellation(system: interactors.ActorSystem) -> None:
    slow = await system.spawn(Slow)
    with anyio.move_on_after(0.05):
        await slow.ask.nap(0.2)  # cancelled here; the actor finishes the nap anyway
    print("still fine:", await slow.ask.nap(0))
    try:
        await slow.options(timeout=0.05).ask.nap(1)
    except TimeoutError:
        print("timed out after 0.05 s")


async def stopping_itself(system: interactors.ActorSystem) -> None:
    countdown = await system.spawn(Countdown, 2)
    print("left:", await countdown.ask.tick(), await countdown.ask.tick())  # left: 1 0
    print("countdown:", await countdown.wait_stopped())  # countdown: normal


async def starting_actors(system: interactors.ActorSystem) -> None:
    splitter = await system.spawn(Splitter, 2)  # starts two hashers in its __init__
    digests = await splitter.ask.digest_all([b"a", b"b", b"c"])
    print("digests:", [digest[:8] for digest in digests])
    hashers = await splitter.ask.staff()
    extra = await splitter.ask.hire()
    await extra.stop()  # the splitter's monitor tells it: hasher_down(extra, "normal")
    await splitter.stop()  # the actors it started stop after it
    print("its hashers:", [await hasher.wait_stopped() for hasher in hashers])
    # its hashers: ['shutdown', 'shutdown']


async def big_buffers(system: interactors.ActorSystem) -> None:
    hasher = system.lookup("hasher")
    assert hasher is not None
    data = bytearray(32 * 1024 * 1024)
    # A memoryview crosses without a copy: the actor reads the sender's memory.
    print("32 MiB digest:", (await hasher.ask.digest(memoryview(data)))[:16])


async def introspection(system: interactors.ActorSystem) -> None:
    stats = system.lookup("hasher").statistics()  # type: ignore[union-attr]
    print("handled:", stats.messages_handled, "errors:", stats.errors, "state:", stats.state)
    print("actors:", [a.name for a in system.statistics().actors])


async def actor_logs(system: interactors.ActorSystem) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(actor)s] %(levelname)s %(name)s: %(message)s"))
    for name in ("examples.reporter", "py.warnings"):
        logging.getLogger(name).addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)  # before the spawn: the actor gets it too
    reporter = await system.spawn(Reporter, name="reporter")
    await reporter.ask.report(3)
    # [reporter] INFO examples.reporter: 3 items done
    # [reporter] WARNING py.warnings: .../guide_actors.py:...: FutureWarning: ...


async def main(system: interactors.ActorSystem) -> None:
    await refs_travel(system)
    await typed_refs(system)
    await errors(system)
    await cancellation(system)
    await stopping_itself(system)
    await starting_actors(system)
    await big_buffers(system)
    await introspection(system)
    await actor_logs(system)


if __name__ == "__main__":
    interactors.run(main)
