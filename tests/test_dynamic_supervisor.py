"""Dynamic supervisors (OTP's simple_one_for_one) and significant children (auto_shutdown),
in the spirit of OTP's supervisor_SUITE, on real actors."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

import interactors
from interactors import Backoff, ChildError, ChildSpec, DynamicSupervisor, Supervisor, testing
from sup_actors import Instance, Recorder

pytestmark = pytest.mark.anyio

FAST = Backoff(min=0.0, max=0.0, jitter=0.0)


async def until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (the supervisor handles an exit in a task of its own)."""
    for _ in range(500):
        if condition():
            return
        await anyio.sleep(0.01)
    raise AssertionError("condition still false after 5 s")


def events(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def jobs(log: Path, **flags: object) -> DynamicSupervisor:
    return DynamicSupervisor(
        child=ChildSpec(Instance, str(log), "tpl"),
        backoff=FAST,
        name="jobs",
        **flags,  # type: ignore[arg-type]
    )


# -- dynamic supervisors ------------------------------------------------------------------


async def test_start_child_appends_its_args_to_the_template_and_names_the_instance(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(jobs(log))
            assert sup.children() == []
            a = await sup.start_child("a")
            b = await sup.start_child("b", "c")
            assert await a.ask.args() == ["tpl", "a"]
            assert await b.ask.args() == ["tpl", "b", "c"]
            assert sup.children() == ["jobs-1", "jobs-2"]
            assert sup.child("jobs-2") == b
            assert sup.count_children().active == 2
        assert sorted(events(log)) == ["jobs-1:start", "jobs-1:stop", "jobs-2:start", "jobs-2:stop"]


async def test_a_crash_restarts_only_that_instance_with_its_own_args(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(jobs(log))
            a = await sup.start_child("a")
            b = await sup.start_child("b")
            await testing.crash(b)
            await testing.wait_restarts(b, 1)
            assert await b.ask.args() == ["tpl", "b"]
            assert await a.ask.args() == ["tpl", "a"]
            assert [c.restarts for c in sup.which_children()] == [0, 1]
            assert events(log) == ["jobs-1:start", "jobs-2:start", "jobs-2:start"]


async def test_restarts_of_all_instances_count_toward_one_intensity(tmp_path: Path) -> None:
    log = tmp_path / "log"

    async def body() -> None:
        async with interactors.ActorSystem() as system:
            sup = await system.start(jobs(log, max_restarts=2, within=30))
            refs = [await sup.start_child(str(n)) for n in range(3)]
            for ref in refs:  # one crash each: three restarts of the supervisor
                await testing.crash(ref)
            await anyio.sleep(30)  # cancelled when the supervisor gives up

    with anyio.fail_after(30), pytest.raises(interactors.SupervisorGaveUp, match="'jobs'"):
        await body()


async def test_max_children_is_a_bound_with_a_typed_error(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(jobs(log, max_children=2))
            await sup.start_child("a")
            await sup.start_child("b")
            with pytest.raises(ChildError, match="max_children=2") as refused:
                await sup.start_child("c")
            assert refused.value.reason == "max_children"
            await sup.terminate_child("jobs-1")  # frees a place
            c = await sup.start_child("c")
            assert await c.ask.args() == ["tpl", "c"]
            assert c.name == "jobs-3"  # (the refused start took no number)
    with pytest.raises(ValueError, match="takes no children"):
        DynamicSupervisor(child=ChildSpec(Instance), children=[ChildSpec(Instance)])
    with pytest.raises(TypeError, match="needs child=ChildSpec"):
        DynamicSupervisor()


async def test_terminate_child_stops_and_forgets_one_instance(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(jobs(log))
            a = await sup.start_child("a")
            b = await sup.start_child("b")
            await sup.terminate_child("jobs-1")
            assert sup.children() == ["jobs-2"]  # as in OTP: no spec kept for an instance
            with pytest.raises(interactors.ActorStopped):
                await a.ask.args()
            assert await b.ask.args() == ["tpl", "b"]
            assert events(log) == ["jobs-1:start", "jobs-2:start", "jobs-1:stop"]


async def test_terminate_child_takes_the_instances_ref(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(jobs(tmp_path / "log"))
            a = await sup.start_child("a")
            b = await sup.start_child("b")
            assert isinstance(a, interactors.ActorRef)
            await sup.terminate_child(a)  # OTP: terminate_child(Sup, Pid)
            assert await a.wait_stopped() == "shutdown"
            assert sup.children() == ["jobs-2"]
            with pytest.raises(ChildError, match="no child <ActorRef 'jobs-1'") as gone:
                await sup.terminate_child(a)
            assert gone.value.reason == "not_found"
            assert await b.ask.args() == ["tpl", "b"]


@pytest.mark.parametrize("operation", ["restart_child", "delete_child"])
async def test_restart_and_delete_child_are_not_supported(tmp_path: Path, operation: str) -> None:
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(jobs(tmp_path / "log"))
            await sup.start_child("a")
            for name in ("jobs-1", "jobs-9"):  # running, or no such instance
                with pytest.raises(ChildError, match="not supported on a dynamic") as refused:
                    await getattr(sup, operation)(name)
                assert refused.value.reason == "simple_one_for_one"
            assert sup.children() == ["jobs-1"]


async def test_instances_stop_all_at_once_not_one_by_one(tmp_path: Path) -> None:
    log = tmp_path / "log"
    count, cleanup = 12, 0.5  # one by one: 6 s; all at once: about 0.5 s
    with anyio.fail_after(60):
        async with interactors.ActorSystem() as system:
            sup = await system.start(
                DynamicSupervisor(
                    child=ChildSpec(Instance, str(log), stop_seconds=cleanup), name="many"
                )
            )
            for n in range(count):
                await sup.start_child(str(n))
            started = time.monotonic()
            await sup.stop()
            took = time.monotonic() - started
            assert sup.children() == []
            assert sup.stopped
    assert events(log).count("many-1:stop") == 1
    assert sum(e.endswith(":stop") for e in events(log)) == count
    assert took < count * cleanup / 2, f"stopping {count} instances took {took:.2f} s"


# -- significant children and auto_shutdown ---------------------------------------------------


def job(log: Path, mode: str, *significant: str) -> Supervisor:
    children = [
        ChildSpec(Instance, str(log), name=n, restart="transient", significant=True)
        for n in significant
    ]
    children.append(ChildSpec(Recorder, str(log), name="helper"))
    return Supervisor(name="job", backoff=FAST, auto_shutdown=mode, children=children)  # type: ignore[arg-type]


async def test_any_significant_ends_the_supervisor_when_one_exits_normally(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(job(log, "any_significant", "a", "b"))
            with pytest.raises(interactors.ActorCrashed):
                await sup.child("a").ask.exit(0)
            assert await sup.wait_stopped() == "normal"  # auto_shutdown: it ended normally
            assert sup.stopped
            assert not sup.failed
            assert sup.children() == []
            # a ended by itself; its supervisor stopped the others, in reverse order
            assert events(log) == ["a:start", "b:start", "helper:start", "helper:stop", "b:stop"]


async def test_a_restarted_significant_child_does_not_end_its_supervisor(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(job(log, "any_significant", "a"))
            a = sup.child("a")
            await testing.crash(a)  # transient: a crash is restarted, not an end
            await testing.wait_restarts(a, 1)
            assert not sup.stopped
            assert sup.children() == ["a", "helper"]


async def test_all_significant_waits_for_every_significant_child(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(job(log, "all_significant", "a", "b"))
            a, b = sup.child("a"), sup.child("b")
            with pytest.raises(interactors.ActorCrashed):
                await a.ask.exit(0)
            await a.wait_stopped()
            await until(lambda: sup.children() == ["b", "helper"])
            assert not sup.stopped
            with pytest.raises(interactors.ActorCrashed):
                await b.ask.exit(0)
            await sup.wait_stopped()
            assert sup.children() == []


async def test_a_nested_job_supervisor_ends_normally_for_its_parent(tmp_path: Path) -> None:
    log = tmp_path / "log"
    inner = job(log, "any_significant", "a")
    inner = Supervisor(
        name="job", restart="transient", auto_shutdown="any_significant", children=inner.children
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            app = await system.start(
                Supervisor(name="app", children=[inner, ChildSpec(Recorder, str(log), name="r")])
            )
            nested = app.supervisor("job")
            with pytest.raises(interactors.ActorCrashed):
                await nested.child("a").ask.exit(0)
            await nested.wait_stopped()
            await until(lambda: app.children() == ["r"])  # transient, normal end: no restart
            assert not app.failed
            assert await app.child("r").ask.add(1) == 1


def test_a_significant_child_must_be_transient_or_temporary() -> None:
    with pytest.raises(ValueError, match='must be restart="transient" or "temporary"'):
        ChildSpec(Instance, name="x", significant=True)
    with pytest.raises(ValueError, match="significant and permanent"):
        Supervisor(name="s", significant=True)
    with pytest.raises(ValueError, match="auto_shutdown must be one of"):
        Supervisor(auto_shutdown="sometimes")  # type: ignore[arg-type]
    assert ChildSpec(Instance, restart="temporary", significant=True).significant
