"""Administering a running supervisor: OTP's supervisor_SUITE child cases, on real actors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import anyio
import pytest

import interactors
from interactors import Backoff, ChildCounts, ChildError, ChildSpec, Supervisor, testing
from sup_actors import Recorder

pytestmark = pytest.mark.anyio

FAST = Backoff(min=0.0, max=0.0, jitter=0.0)


def events(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def counts(specs: int, active: int, supervisors: int = 0, restarting: int = 0) -> ChildCounts:
    return ChildCounts(specs, active, restarting, supervisors, specs - supervisors)


def tree(path: Path, *names: str, strategy: str = "one_for_one") -> Supervisor:
    children = [ChildSpec(Recorder, str(path), name=n) for n in names]
    return Supervisor(strategy=strategy, backoff=FAST, children=children, name="top")  # type: ignore[arg-type]


async def test_start_child_refuses_a_name_in_use_running_or_terminated(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(tree(log, "a"))
            assert sup.count_children() == counts(1, 1)
            b = await sup.start_child(ChildSpec(Recorder, str(log), name="b"))
            assert isinstance(b, interactors.ActorRef)
            assert await b.ask.add(2) == 2
            assert sup.child("b") == b
            assert sup.children() == ["a", "b"]
            assert sup.count_children() == counts(2, 2)
            with pytest.raises(ChildError, match="already has a child 'a'") as running:
                await sup.start_child(ChildSpec(Recorder, str(log), name="a"))
            assert (running.value.reason, running.value.child) == ("already_started", "a")
            await sup.terminate_child("a")
            with pytest.raises(ChildError, match="restart_child or delete_child") as kept:
                await sup.start_child(ChildSpec(Recorder, str(log), name="a"))
            assert kept.value.reason == "already_present"
            assert sup.count_children() == counts(2, 1)
            assert events(log) == ["a:start", "b:start", "a:stop"]


async def test_terminate_then_restart_starts_the_child_again_from_its_spec(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(tree(log, "a", "b"))
            old = sup.child("a")
            await old.ask.add(5)
            await sup.terminate_child("a")
            assert not old.is_alive()
            assert system.lookup("a") is None
            a, b = sup.which_children()
            assert (a.name, a.ref, a.state, a.restart, a.supervisor) == (
                "a",
                None,
                "terminated",
                "permanent",
                False,
            )
            assert (b.name, b.ref, b.state) == ("b", sup.child("b"), "running")
            with pytest.raises(dataclasses.FrozenInstanceError):
                a.state = "running"  # type: ignore[misc]
            with pytest.raises(KeyError, match=r"'a' of 'top' is terminated: restart_child\('a'\)"):
                sup.child("a")
            await sup.terminate_child("a")  # terminating twice is harmless, as in OTP
            new = await sup.restart_child("a")
            assert isinstance(new, interactors.ActorRef)
            assert new.name == "a"
            assert new != old
            assert await new.ask.get() == 0  # a fresh instance from the spec
            assert sup.child("a") == new
            assert system.lookup("a") == new
            assert sup.count_children() == counts(2, 2)
            with pytest.raises(ChildError, match="terminate_child it first") as error:
                await sup.restart_child("a")
            assert error.value.reason == "running"
            # The restarted child is supervised again.
            await testing.crash(new)
            await testing.wait_restarts(new, 1)
            assert sup.which_children()[0].restarts == 1
            assert events(log) == ["a:start", "b:start", "a:stop", "a:start", "a:start"]


async def test_delete_child_only_once_terminated(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(tree(log, "a", "b"))
            with pytest.raises(ChildError, match="terminate_child it before") as running:
                await sup.delete_child("a")
            assert running.value.reason == "running"
            assert sup.child("a").is_alive()
            await sup.terminate_child("a")
            await sup.delete_child("a")
            assert sup.children() == ["b"]
            assert sup.count_children() == counts(1, 1)
            for operation in (sup.restart_child, sup.delete_child, sup.terminate_child):
                with pytest.raises(ChildError, match="has no child 'a'") as missing:
                    await operation("a")
                assert missing.value.reason == "not_found"
                assert isinstance(missing.value, LookupError)
            # The name is free again.
            again = await sup.start_child(ChildSpec(Recorder, str(log), name="a"))
            assert sup.children() == ["b", "a"]
            assert await again.ask.get() == 0


async def test_a_temporary_childs_spec_is_never_kept(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(tree(log, "a"))
            spec = ChildSpec(Recorder, str(log), name="t", restart="temporary")
            t = await sup.start_child(spec)
            assert [c.restart for c in sup.which_children()] == ["permanent", "temporary"]
            await sup.terminate_child("t")
            assert not t.is_alive()
            assert sup.children() == ["a"]
            assert sup.count_children() == counts(1, 1)
            with pytest.raises(ChildError) as error:
                await sup.restart_child("t")
            assert error.value.reason == "not_found"


async def test_a_terminated_child_stays_terminated_when_its_siblings_restart(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(tree(log, "a", "b", "c", strategy="one_for_all"))
            await sup.terminate_child("c")
            a = sup.child("a")
            await testing.crash(a)
            await testing.wait_restarts(sup.child("b"), 1)
            # b's new incarnation counts itself a moment before the host sees it running
            while [c.state for c in sup.which_children()] != ["running", "running", "terminated"]:  # noqa: ASYNC110  (states are not signalled)
                await anyio.sleep(0.005)
            assert events(log)[4:] == ["b:stop", "a:start", "b:start"]
            assert sup.count_children() == counts(3, 2)


async def test_nested_supervisor_as_a_child(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(tree(log, "a"))
            inner = Supervisor(name="inner", children=[ChildSpec(Recorder, str(log), name="x")])
            ref = await sup.start_child(inner)
            assert isinstance(ref, interactors.SupervisorRef)
            assert ref.children() == ["x"]
            assert sup.count_children() == counts(2, 2, supervisors=1)
            await sup.terminate_child("inner")
            assert system.lookup("x") is None
            info = sup.which_children()[1]
            assert (info.name, info.ref, info.state, info.supervisor) == (
                "inner",
                None,
                "terminated",
                True,
            )
            with pytest.raises(KeyError, match="is terminated"):
                sup.supervisor("inner")
            again = await sup.restart_child("inner")
            assert isinstance(again, interactors.SupervisorRef)
            assert await again.child("x").ask.add(1) == 1
            assert sup.count_children() == counts(2, 2, supervisors=1)
            assert events(log) == ["a:start", "x:start", "x:stop", "x:start"]


async def test_a_stopped_supervisor_takes_no_child(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            sup = await system.start(tree(log, "a"))
            await sup.stop()
            with pytest.raises(ChildError, match="has stopped") as error:
                await sup.start_child(ChildSpec(Recorder, str(log), name="b"))
            assert error.value.reason == "stopped"
            with pytest.raises(TypeError, match="ChildSpec, Supervisor or Pool"):
                await sup.start_child(Recorder)  # type: ignore[arg-type]


async def test_terminate_child_takes_a_ref_as_well_as_a_name(tmp_path: Path) -> None:
    log = tmp_path / "log"
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            nested = Supervisor(name="inner", children=[ChildSpec(Recorder, str(log), name="x")])
            top = await system.start(tree(log, "a", "b"))
            inner = await top.start_child(nested)
            await top.terminate_child(top.child("a"))
            await top.terminate_child(inner)
            assert [(c.name, c.state) for c in top.which_children()] == [
                ("a", "terminated"),
                ("b", "running"),
                ("inner", "terminated"),
            ]
            with pytest.raises(TypeError, match="a child's name or ref"):
                await top.terminate_child(3)  # type: ignore[arg-type]


async def test_a_restarted_subtree_is_not_stopped_for_wait_stopped(tmp_path: Path) -> None:
    spec = Supervisor(
        name="top",
        backoff=FAST,
        children=[
            Supervisor(name="sub", children=[ChildSpec(Recorder, str(tmp_path / "e"), name="a")]),
            interactors.Pool(Recorder, str(tmp_path / "p"), size=1, name="calcs"),
        ],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            top = await system.start(spec)
            for name in ("sub", "calcs"):
                await top.terminate_child(name)
                child = await top.restart_child(name)
                sub = child if isinstance(child, interactors.SupervisorRef) else child.supervisor
                assert not sub.stopped
                with anyio.move_on_after(0.3) as waited:
                    await sub.wait_stopped()  # (it runs: this waits)
                assert waited.cancelled_caught, f"{name}: wait_stopped() returned while it runs"


async def test_a_subtree_stopped_by_its_own_handle_leaves_its_parent(tmp_path: Path) -> None:
    spec = Supervisor(
        name="top",
        backoff=FAST,
        children=[
            ChildSpec(Recorder, str(tmp_path / "e"), name="solo"),
            interactors.Pool(Recorder, str(tmp_path / "p"), size=2, name="calcs"),
            Supervisor(name="sub", children=[ChildSpec(Recorder, str(tmp_path / "s"), name="a")]),
        ],
    )
    with anyio.fail_after(30):
        async with interactors.ActorSystem() as system:
            top = await system.start(spec)
            await top.child("solo").stop()
            await top.pool("calcs").stop()
            await top.supervisor("sub").stop()
            assert top.children() == []  # as the actor stopped by its ref: gone, not "stopping"
            assert top.count_children() == counts(0, 0)
            pool = await top.start_child(
                interactors.Pool(Recorder, str(tmp_path / "p"), size=2, name="calcs")
            )
            assert await pool.ask.add(1) == 1  # the name is free again
