"""Isolation modes, the pre-spawn import check and codecs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import pytest

import interactors
from interactors import _backend as backend

pytestmark = pytest.mark.anyio


async def test_module_that_cannot_load_isolated_names_the_extension() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            with pytest.raises(interactors.IsolationError) as info:
                await system.spawn("msgspec_actors:JsonActor")
            error = info.value
            assert error.extension == "msgspec._core"
            assert "msgspec._core" in str(error)
            assert 'isolation="process"' in str(error)
            assert isinstance(error, interactors.SpawnError)
            # an import inside __init__ is caught the same way
            with pytest.raises(interactors.IsolationError, match=r"msgspec\._core"):
                await system.spawn("actors:WithMsgspec")


async def test_auto_isolation_falls_back_to_a_process_with_a_warning() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem(isolation="auto") as system:
            with pytest.warns(interactors.IsolationFallbackWarning, match=r"msgspec\._core"):
                actor = await system.spawn("msgspec_actors:JsonActor")
            assert actor.statistics().isolation == "process"
            assert await actor.ask.encode({"a": 1}) == b'{"a":1}'
            # pure-stdlib actors in the same system still get their own GIL
            counter = await system.spawn("actors:SyncCounter")
            assert counter.statistics().isolation == "isolated"


async def test_shared_gil_isolation_runs_msgspec_codec() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            actor = await system.spawn(
                "msgspec_actors:JsonActor", isolation="shared_gil", codec="msgspec"
            )
            assert actor.statistics().isolation == "shared_gil"
            assert await actor.ask.echo({"k": [1, 2]}) == {"k": [1, 2]}
            with pytest.raises(interactors.EncodeError, match="msgspec cannot encode"):
                await actor.ask.echo(object())


async def test_msgspec_codec_in_isolated_interpreter_fails_clearly() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem(codec="msgspec") as system:
            with pytest.raises(interactors.IsolationError, match="msgspec"):
                await system.spawn("actors:SyncCounter")


async def test_custom_codec_by_spec() -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem(codec="codecs_for_tests:json_codec") as system:
            echo = await system.spawn("actors:Echo")
            # JSON has no tuples: the args tuple comes back as a list
            assert await echo.ask.echo(["x"]) == [["x"]]
            assert system.codec.spec == "codecs_for_tests:json_codec"


def test_bad_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="isolation must be one of"):
        interactors.ActorSystem(isolation="nope")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown codec"):
        interactors.ActorSystem(codec="nope")
    with pytest.raises(ValueError, match="mailbox_size"):
        interactors.ActorSystem(mailbox_size=0)


def test_worker_imports_in_an_isolated_interpreter_without_anyio_or_msgspec() -> None:
    iid = backend.new_interpreter(isolated=True)
    try:
        code = textwrap.dedent(
            f"""
            import sys
            sys.path[:] = {sys.path!r}
            import interactors._inside.worker
            import interactors
            class Probe(interactors.Actor):
                pass
            # msgspec cannot load here; the others would cost every actor memory for nothing
            heavy = ("anyio", "msgspec", "trio", "asyncio", "typing", "dataclasses", "pickle")
            loaded = sorted(m for m in heavy if m in sys.modules)
            if loaded:
                raise RuntimeError(f"the worker pulled in {{loaded}}")
            """
        )
        assert backend.run(iid, code, {}) is None
    finally:
        backend.destroy_interpreter(iid)


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="the 3.13 backend's workaround")
def test_a_new_interpreter_has_imported_the_queue_module_already() -> None:
    # Python 3.13.0 counts _interpqueues instances without a lock (cpython#125716): an
    # import racing a destroy can lose a count, and at zero every queue of the process is
    # freed (a segfault in the next queue call; reproduced raw in 800-2400 rounds of two
    # concurrent imports). The backend imports it while creating, under its destroy lock.
    iid = backend.new_interpreter(isolated=True)
    try:
        code = "import sys\nassert '_interpqueues' in sys.modules, sorted(sys.modules)\n"
        assert backend.run(iid, code, {}) is None
    finally:
        backend.destroy_interpreter(iid)


def test_actors_importing_datetime_at_one_instant_do_not_crash_the_process() -> None:
    # CPython 3.13: the first interpreter to import _datetime sets up its static types
    # without a lock; four actors doing it at one instant crashed the process in 28 runs
    # of 30 ("double free or corruption"). The race happens once per process: three runs.
    app = Path(__file__).parent / "apps" / "first_imports.py"
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, str(app)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.split() == ["2020-01-02"] * 4


def test_class_in_main_script_works_like_multiprocessing_spawn(tmp_path: Path) -> None:
    script = tmp_path / "script_app.py"
    script.write_text(
        textwrap.dedent(
            """
            import interactors

            class Greeter(interactors.Actor):
                def greet(self, who):
                    return f"hello {who} from {__name__}"

            async def main(system):
                greeter = await system.spawn(Greeter)
                print(await greeter.ask.greet("script"))

            if __name__ == "__main__":
                interactors.run(main)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hello script from __mp_main__"


def test_values_of_main_script_classes_reach_actors_of_other_modules(tmp_path: Path) -> None:
    # As with multiprocessing's spawn: the actor loads the main script (as __mp_main__)
    # when a value of one of its classes arrives, and the value comes back as the host's.
    (tmp_path / "echo_actors.py").write_text(
        textwrap.dedent(
            """
            import interactors

            class Echo(interactors.Actor):
                def echo(self, value):
                    return value

                def describe(self, value):
                    return f"{type(value).__module__}.{type(value).__qualname__}"
            """
        )
    )
    script = tmp_path / "values_app.py"
    script.write_text(
        textwrap.dedent(
            """
            import dataclasses
            import interactors
            from echo_actors import Echo

            @dataclasses.dataclass
            class Point:
                x: int
                y: int

            async def main(system):
                for isolation in ("isolated", "process"):
                    echo = await system.spawn(Echo, isolation=isolation)
                    back = await echo.ask.echo(Point(3, 4))
                    print(isolation, back == Point(3, 4), await echo.ask.describe(back))

            if __name__ == "__main__":
                interactors.run(main)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "isolated True __mp_main__.Point",
        "process True __mp_main__.Point",
    ]


def test_class_in_interactive_code_is_refused() -> None:
    code = textwrap.dedent(
        """
        import interactors

        class Greeter(interactors.Actor):
            def greet(self):
                return 1

        async def main(system):
            try:
                await system.spawn(Greeter)
            except interactors.SpawnError as exc:
                print("refused:", exc)

        interactors.run(main)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "refused:" in result.stdout
    assert "Put it in a module" in result.stdout
