"""Argument checks: spawn, ChildSpec, Supervisor, Backoff, ActorSystem and the settings file
refuse a bad value with a TypeError/ValueError that names the argument and the value."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

import interactors
from interactors import Backoff, ChildSpec, Supervisor
from interactors._launcher.config import load_settings
from sup_actors import Plain as PlainActor

SPEC_CASES: list[tuple[Callable[[], object], type[Exception], str]] = [
    (lambda: ChildSpec(PlainActor, shutdown=-10), ValueError, "shutdown .* got -10"),
    (lambda: ChildSpec(PlainActor, shutdown=math.nan), ValueError, "shutdown .* got nan"),
    (lambda: ChildSpec(PlainActor, mailbox_size=0), ValueError, "mailbox_size .* got 0"),
    (lambda: ChildSpec(PlainActor, mailbox_size=True), TypeError, "mailbox_size .* got True"),
    (lambda: ChildSpec(PlainActor, max_concurrency=0), ValueError, "max_concurrency .* got 0"),
    (lambda: ChildSpec(PlainActor, handler_timeout=0), ValueError, "handler_timeout .* got 0"),
    (lambda: ChildSpec(PlainActor, handler_timeout=-1.5), ValueError, "handler_timeout .* -1.5"),
    (lambda: ChildSpec(PlainActor, handler_timeout=math.inf), ValueError, "handler_timeout .*inf"),
    (lambda: ChildSpec(PlainActor, on_error="ignore"), ValueError, "on_error .* 'ignore'"),
    (lambda: ChildSpec(PlainActor, isolation="none"), ValueError, "isolation .* 'none'"),
    (lambda: ChildSpec(PlainActor, restart="always"), ValueError, "restart .* 'always'"),
    (lambda: ChildSpec(dict), TypeError, "actor must be a class defined in Python .*'dict'"),
    (lambda: ChildSpec(42), TypeError, "actor must be an actor class .* got 42"),  # type: ignore[arg-type]
    (lambda: Supervisor(max_restarts=math.inf), TypeError, "max_restarts .* got inf"),  # type: ignore[arg-type]
    (lambda: Supervisor(max_restarts=-1), ValueError, "max_restarts .* got -1"),
    (lambda: Supervisor(max_restarts=True), TypeError, "max_restarts .* got True"),
    (lambda: Supervisor(within=math.inf), ValueError, "within .* got inf"),
    (lambda: Supervisor(within=0), ValueError, "within .* got 0"),
    (lambda: Supervisor(shutdown=-1), ValueError, "shutdown .* got -1"),
    (lambda: Supervisor(strategy="all_for_one"), ValueError, "strategy .* 'all_for_one'"),  # type: ignore[arg-type]
    (lambda: Supervisor(children=["x"]), TypeError, "ChildSpec or Supervisor, got 'x'"),  # type: ignore[list-item]
    (lambda: Supervisor(children=[PlainActor]), TypeError, "got <class"),  # type: ignore[list-item]
    (lambda: Supervisor(backoff=1.0), TypeError, "backoff must be a Backoff, got 1.0"),  # type: ignore[arg-type]
    (lambda: Backoff(max=math.inf), ValueError, "Backoff max .* got inf"),
    (lambda: Backoff(min=-1), ValueError, "Backoff min .* got -1"),
    (lambda: Backoff(min=2, max=1), ValueError, "Backoff max must be at least min"),
    (lambda: Backoff(jitter=math.nan), ValueError, "Backoff jitter .* got nan"),
    (lambda: interactors.ActorSystem(mailbox_size=0), ValueError, "mailbox_size .* got 0"),
    (
        lambda: interactors.ActorSystem(shutdown_timeout=math.nan),
        ValueError,
        "shutdown_timeout .* got nan",
    ),
    (lambda: interactors.ActorSystem(shutdown_timeout=0), ValueError, "shutdown_timeout .* 0"),
    (
        lambda: interactors.ActorSystem(spare_interpreters=-1),
        ValueError,
        "spare_interpreters .* got -1",
    ),
    (lambda: interactors.ActorSystem(max_restarts=math.inf), TypeError, "max_restarts .* inf"),  # type: ignore[arg-type]
    (lambda: interactors.ActorSystem(within=-5), ValueError, "within .* got -5"),
]


@pytest.mark.parametrize(("make", "error", "message"), SPEC_CASES)
def test_bad_arguments_are_refused_by_name(
    make: Callable[[], object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"mailbox_size": 0}, ValueError, "mailbox_size must be at least 1, got 0"),
        ({"max_concurrency": 0}, ValueError, "max_concurrency must be at least 1, got 0"),
        ({"handler_timeout": 0}, ValueError, "handler_timeout .* got 0"),
        ({"handler_timeout": math.nan}, ValueError, "handler_timeout .* got nan"),
        ({"shutdown": -10}, ValueError, "shutdown .* got -10"),
        ({"on_error": "retry"}, ValueError, "on_error must be one of .* got 'retry'"),
    ],
)
@pytest.mark.anyio
async def test_spawn_refuses_bad_options_and_starts_nothing(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            with pytest.raises(error, match=message):
                await system.spawn("actors:Counter", **options)
            assert system.actors() == []


@pytest.mark.parametrize("actor", [dict, int, 42, None])
@pytest.mark.anyio
async def test_spawn_refuses_what_is_not_an_actor_class(actor: Any) -> None:
    with anyio.fail_after(20):
        async with interactors.ActorSystem() as system:
            with pytest.raises(TypeError, match=r"^actor must be "):
                await system.spawn(actor)
            assert system.actors() == []
            # a plain class with methods is an actor, as before
            ref = await system.spawn(PlainActor)
            assert await ref.ask.hello() == "hello"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("shutdown_timeout = inf", "shutdown_timeout must be a finite number of seconds"),
        ("shutdown_timeout = nan", "shutdown_timeout"),
        ("shutdown_timeout = 0", "shutdown_timeout"),
        ("mailbox_size = 0", "mailbox_size"),
        ("mailbox_size = true", "Expected `int`, got `bool` - at `\\$.mailbox_size`"),
        ("spare_interpreters = -1", "spare_interpreters"),
    ],
)
def test_the_settings_file_follows_the_same_rules(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(text + "\n")
    with pytest.raises(interactors.ConfigError, match=message):
        load_settings(str(path))
    with pytest.raises(interactors.ConfigError, match="option --shutdown-timeout"):
        load_settings(None, {"shutdown_timeout": math.inf})
