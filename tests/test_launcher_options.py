"""``interactors run``'s uvicorn-style options, run for real as subprocesses: arguments after
``--``, ``INTERACTORS_*`` variables, ``--env-file``, ``--log-config``, ``--factory``, the
reload filters and the "N actors running" line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interactors._exceptions import ConfigError
from interactors._launcher.environ import parse_env
from test_cli import APPS, ROOT, TIMEOUT, _env, events, run_app, wait_for

__all__ = ("events",)  # the fixture


def _startup(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if " running launcher_apps:" in line]
    assert len(lines) == 1, stderr
    return lines[0]


def test_arguments_after_double_dash_reach_the_app_in_sys_argv() -> None:
    result = run_app("launcher_apps:show", "--", "--port", "8000", "--", "-x")
    assert result.returncode == 0, result.stderr
    assert "argv ['launcher_apps:show', '--port', '8000', '--', '-x']\n" in result.stdout


def test_app_arguments_without_double_dash_are_a_usage_error() -> None:
    result = run_app("launcher_apps:show", "8000")
    assert result.returncode == 2
    assert "put the app's arguments after --: 8000" in result.stderr


def test_settings_precedence_is_file_then_environment_then_command_line(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('backend = "trio"\nisolation = "auto"\nlog_format = "json"\n')
    result = run_app(
        "--config",
        str(config),
        "--backend",
        "AsyncIO",  # (words in any case)
        "launcher_apps:show",
        INTERACTORS_BACKEND="trio",  # the command line wins over it
        INTERACTORS_ISOLATION="shared_gil",  # wins over the file
    )
    assert result.returncode == 0, result.stderr
    message = json.loads(result.stderr.splitlines()[0])["message"]  # the file's log_format
    assert "on asyncio (isolation shared_gil," in message


def test_every_option_reads_its_environment_variable(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "interactors", "run", "launcher_apps:make_app"],
        cwd=tmp_path,
        env=_env(
            INTERACTORS_APP_DIR=str(APPS),
            INTERACTORS_FACTORY="true",
            INTERACTORS_LOG_LEVEL="WARNING",  # (words in any case)
            INTERACTORS_MAILBOX_SIZE="7",
        ),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "factory app: pong\n"
    assert "running launcher_apps" not in result.stderr  # an info line, below warning


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("INTERACTORS_MAILBOX_SIZE", "big", "INTERACTORS_MAILBOX_SIZE: Expected `int`, got `str`"),
        ("INTERACTORS_MAILBOX_SIZE", "big", "(got 'big')"),
        ("INTERACTORS_BACKEND", "tokio", "environment variable INTERACTORS_BACKEND: "),
        ("INTERACTORS_FACTORY", "maybe", "INTERACTORS_FACTORY: expected 1/true/yes/on"),
    ],
)
def test_bad_environment_variable_exits_2_naming_it(
    variable: str, value: str, message: str
) -> None:
    result = run_app("launcher_apps:show", **{variable: value})
    assert result.returncode == 2
    assert message in result.stderr


def test_env_file_is_loaded_before_the_settings(tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text(
        "# settings for the app\n"
        "\n"
        "export MESSAGE='hello # not a comment'\n"
        "INTERACTORS_LOG_FORMAT=json  # a comment\n"
        "INTERACTORS_ISOLATION=auto\n"
    )
    result = run_app(
        "--env-file", str(env_file), "launcher_apps:show", INTERACTORS_ISOLATION="shared_gil"
    )
    assert result.returncode == 0, result.stderr
    assert "MESSAGE hello # not a comment\n" in result.stdout
    message = json.loads(result.stderr.splitlines()[0])["message"]
    assert "(isolation shared_gil," in message  # a variable already set wins over the file


def test_parse_env() -> None:
    text = (
        "A=1\n"
        "  export B = two words  # comment\n"
        'C="line\\nbreak \\"q\\""\n'
        "D='$literal \\n'\n"
        "E=\n"
        "#F=no\n"
    )
    assert parse_env(text) == {
        "A": "1",
        "B": "two words",
        "C": 'line\nbreak "q"',
        "D": "$literal \\n",
        "E": "",
    }
    with pytest.raises(ConfigError, match=r"env file, line 2: expected KEY=VALUE"):
        parse_env("A=1\nnot a pair\n")
    with pytest.raises(ConfigError, match="line 1: the value has no closing"):
        parse_env("A='open\n")


def test_missing_env_file_exits_2(tmp_path: Path) -> None:
    result = run_app("--env-file", str(tmp_path / "none.env"), "launcher_apps:show")
    assert result.returncode == 2
    assert f"env file {tmp_path / 'none.env'}: cannot read it" in result.stderr


LOG_CONFIG = {
    "version": 1,
    "formatters": {"custom": {"format": "CUSTOM %(levelname)s %(name)s | %(message)s"}},
    "handlers": {
        "err": {
            "class": "logging.StreamHandler",
            "formatter": "custom",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "INFO", "handlers": ["err"]},
}


def test_log_config_json_configures_logging(tmp_path: Path) -> None:
    path = tmp_path / "logging.json"
    path.write_text(json.dumps(LOG_CONFIG))
    result = run_app("--log-config", str(path), "--log-format", "json", "launcher_apps:show")
    assert result.returncode == 0, result.stderr
    assert "CUSTOM WARNING launcher_apps | the app logs" in result.stderr
    assert "CUSTOM INFO interactors | interactors " in result.stderr  # the start-up line
    assert "CUSTOM INFO interactors | exit code 0" in result.stderr


def test_log_config_toml_example_configures_logging() -> None:
    result = run_app("--log-config", str(ROOT / "examples" / "logging.toml"), "launcher_apps:show")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].endswith(" [INFO] interactors | exit code 0"), result.stderr
    assert any(line.endswith(" [WARNING] launcher_apps | the app logs") for line in lines)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("logging.ini", "[loggers]", "name it *.json, *.toml, *.yaml or *.yml"),
        ("logging.json", "{", "not valid JSON"),
        ("logging.json", '{"handlers": {"h": {"class": "no.Such"}}}', "dictConfig refused it"),
    ],
)
def test_bad_log_config_exits_2(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = run_app("--log-config", str(path), "launcher_apps:show")
    assert result.returncode == 2
    assert f"interactors run: error: log config {path}: " in result.stderr
    assert message in result.stderr


def test_factory_returns_the_app() -> None:
    result = run_app("--factory", "launcher_apps:make_app")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "factory app: pong\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("launcher_apps:make_app",), "or pass --factory if it returns the app"),
        (("--factory", "launcher_apps:show"), "is `async def`; a factory is a plain function"),
        (
            ("--factory", "launcher_apps:makes_a_plain_function"),
            'the result of --factory "launcher_apps:makes_a_plain_function" is a plain '
            "function; make it `async def` (an `async def main(system)`, an `async def "
            "main()` or a Supervisor tree)\n",
        ),
        (
            ("--factory", "launcher_apps:makes_nothing"),
            'the result of --factory "launcher_apps:makes_nothing" is None; expected',
        ),
        (
            ("--factory", "launcher_apps:failing_factory"),
            'calling "launcher_apps:failing_factory" raised RuntimeError: no database configured',
        ),
    ],
)
def test_factory_mistakes_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    result = run_app(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_actor_count_is_announced_once_the_app_started_its_actors() -> None:
    result = run_app("launcher_apps:spawns_three")
    assert result.returncode == 0, result.stderr
    assert "isolation isolated, pid " in _startup(result.stderr)
    counted = [line for line in result.stderr.splitlines() if "running" in line]
    assert counted[1].endswith("3 actors running"), result.stderr
    assert "stopping 3 actors" in result.stderr


def test_reload_options_need_reload() -> None:
    result = run_app("--reload-exclude", "*.tmp", "launcher_apps:show")
    assert result.returncode == 2
    assert "--reload-exclude is for --reload: add --reload" in result.stderr


RELOADABLE = """\
import os
import sys


async def main():
    with open(os.environ["CLI_APPS_LOG"], "a") as f:
        f.write("started {version} " + " ".join(sys.argv) + "\\n")
    import anyio

    await anyio.sleep_forever()
"""


def test_reload_watches_the_reload_dirs_with_include_and_exclude(
    tmp_path: Path, events: Path
) -> None:
    app_dir, data_dir = tmp_path / "app", tmp_path / "data"
    app_dir.mkdir()
    data_dir.mkdir()
    (app_dir / "reloadable.py").write_text(RELOADABLE.format(version=1))
    command = [sys.executable, "-m", "interactors", "run", "--reload", "--app-dir", str(app_dir)]
    command += ["--reload-dir", str(data_dir), "--reload-include", "*.cfg"]
    command += ["--reload-exclude=skip_*", "reloadable:main", "--", "--port", "8000"]
    with subprocess.Popen(
        command, cwd=ROOT, env=_env(events), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        wait_for(events, "started 1 reloadable:main --port 8000", process=process)  # type: ignore[arg-type]
        (app_dir / "reloadable.py").write_text(RELOADABLE.format(version=2))  # not watched
        (data_dir / "skip_me.cfg").write_text("excluded")
        (data_dir / "notes.txt").write_text("not included")
        time.sleep(1.0)  # watchfiles reports within ~50 ms (+ 1.6 s debounce at most)
        (data_dir / "app.cfg").write_text("included")
        wait_for(events, "started 2 reloadable:main --port 8000", process=process)  # type: ignore[arg-type]
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert events.read_text().count("started") == 2
    assert b"reload: app.cfg changed: restarting the app" in err
    for ignored in (b"skip_me", b"notes.txt", b"reloadable.py"):
        assert ignored not in err
    assert b"excluding skip_*" in err


def test_metrics_port_taken_exits_2_with_one_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_app("--metrics-port", str(port), "launcher_apps:show")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, result.stderr
    assert f"cannot serve metrics on 127.0.0.1:{port}" in errors[0]
    assert "choose another port" in errors[0]
    assert "Traceback" not in result.stderr
    assert "argv" not in result.stdout  # the app never ran
