"""The ``interactors`` command: ``interactors run module:attribute`` launches an app.

``main(argv)`` is the console script and ``python -m interactors``. It catches SIGINT and
SIGTERM before importing anything heavy, reads the options and the config file, sets up
logging, loads the app and hands it to the launcher (or, with ``--reload``, to the
reloader). It returns the exit code; see ``interactors run --help`` for the codes.

Module level imports are stdlib only, so that the signal handlers go in within
milliseconds of the process starting.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._version import __version__
from .signals import SHUTDOWN_SIGNALS, SignalLatch

if TYPE_CHECKING:
    import argparse

    from .reload import Reloader

__all__ = ("main",)

DESCRIPTION = """\
Run APP, an `async def main(system)` (given a started ActorSystem), an
`async def main()`, or a Supervisor tree (started and kept running until the process is
signalled). SIGINT/SIGTERM stop it gracefully: the app is cancelled and every actor's
on_stop runs; a second signal forces the exit.

Arguments after `--` are the app's: it sees them in sys.argv[1:] (sys.argv[0] is APP).
Every option can also be set with an INTERACTORS_* environment variable (--log-level:
INTERACTORS_LOG_LEVEL; flags take 1/0, repeated options a comma-separated list), as can
every settings-file key; precedence: settings file < environment < command line.
"""

EXIT_CODES = """\
exit codes:
  0    done (the app returned, or was stopped by a signal and shut down cleanly)
  1    the app raised; its traceback is logged
  2    bad usage: options, config file, or APP not found / not importable / wrong type
  3    the root supervisor gave up
  4    actors could not be stopped within the shutdown timeout (the process left
       with os._exit)
  130  forced by a second SIGINT (143 for SIGTERM: 128 + the signal number)

examples:
  interactors run examples.pipeline:main
  interactors run --backend trio --config interactors.toml myapp.main:main
  interactors run --env-file .env --log-config logging.toml myapp.main:main -- --port 8000
"""


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``interactors``."""
    import argparse  # after the signal handlers are in: it takes ~15 ms

    parser = argparse.ArgumentParser(
        prog="interactors",
        description="Actors in sub-interpreters with their own GIL.",
    )
    parser.add_argument("--version", action="version", version=f"interactors {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run an app: `interactors run module:attribute`",
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--version", action="version", version=f"interactors {__version__}")
    run.add_argument("app", metavar="APP", help='"module:attribute", e.g. examples.pipeline:main')
    run.add_argument(
        "app_args", nargs="*", metavar="-- ARGS", help="the app's arguments, in sys.argv[1:]"
    )
    run.add_argument(
        "--app-dir",
        metavar="DIR",
        help="look for APP's module in DIR first (inserted in sys.path; default: .)",
    )
    run.add_argument(
        "--factory",
        action="store_true",
        help="APP is a zero-argument function that returns the app; call it once at start",
    )
    run.add_argument(
        "--env-file",
        metavar="FILE",
        help="load KEY=VALUE lines from FILE into the environment first (variables "
        "already set win)",
    )
    run.add_argument(
        "--config",
        metavar="FILE",
        help="settings file, TOML (*.toml) or JSON (*.json): backend, isolation, codec, "
        "mailbox_size, shutdown_timeout, spare_interpreters, log_level, log_format; "
        "options given here override it",
    )
    run.add_argument(
        "--backend",
        type=str.lower,
        choices=("asyncio", "trio"),
        help="event loop (default: asyncio)",
    )
    run.add_argument(
        "--isolation",
        type=str.lower,
        choices=("isolated", "shared_gil", "process", "auto"),
        help="where actors run: own-GIL interpreter, shared-GIL interpreter, own process, "
        "or own-GIL with a fallback to a process (default: isolated)",
    )
    run.add_argument(
        "--log-level",
        type=str.lower,
        choices=("debug", "info", "warning", "error", "critical"),
        help="lowest level logged to stderr (default: info)",
    )
    run.add_argument(
        "--log-format",
        type=str.lower,
        choices=("text", "json"),
        help="log lines as text or JSON (default: text)",
    )
    run.add_argument(
        "--log-config",
        metavar="FILE",
        help="configure logging with the logging.config.dictConfig dictionary in FILE "
        "(*.json, *.toml; *.yaml with PyYAML) instead of --log-level/--log-format",
    )
    run.add_argument(
        "--shutdown-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds each actor gets to stop on shutdown; the whole shutdown gets this "
        "plus 2 s before the process is ended (default: 5)",
    )
    run.add_argument(
        "--reload",
        action="store_true",
        help="run APP in a child process and restart it when a source file in --app-dir "
        "changes (needs the `reload` extra: watchfiles)",
    )
    for name, meta, text in _RELOAD_OPTIONS:
        run.add_argument(name, action="append", metavar=meta, help=text)
    run.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="export Prometheus metrics on http://HOST:PORT/metrics (needs the `metrics` "
        "extra: prometheus_client)",
    )
    run.add_argument(
        "--metrics-host",
        metavar="HOST",
        help="address the metrics exporter binds (default: 127.0.0.1, this machine only)",
    )
    _add_observe_commands(commands)
    return parser


_RELOAD_OPTIONS = (
    ("--reload-dir", "DIR", "with --reload: watch DIR instead of --app-dir (repeatable)"),
    (
        "--reload-include",
        "GLOB",
        "with --reload: also restart on files matching GLOB (repeatable; always included: "
        "*.py *.pyx *.pyi *.toml *.json)",
    ),
    (
        "--reload-exclude",
        "GLOB",
        "with --reload: ignore files (or directories) matching GLOB (repeatable)",
    ),
)


def _add_observe_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    stats = commands.add_parser(
        "stats",
        help="print a snapshot of a running app's actors",
        description="Print one snapshot of the actors of a running app (its process serves a "
        "control socket: every `interactors run`, or an ActorSystem(control=True)).",
    )
    stats.add_argument("--json", action="store_true", help="print it as JSON, for scripts")
    stats.add_argument(
        "pid", type=int, nargs="?", metavar="PID", help="the app's process (default: the only one)"
    )
    top = commands.add_parser(
        "top",
        help="show a running app's actors live (q quits)",
        description="Show the actors and the supervision tree of a running app, refreshed "
        "every second; q quits. Needs the `top` extra (rich).",
    )
    top.add_argument(
        "pid", type=int, nargs="?", metavar="PID", help="the app's process (default: the only one)"
    )


def main(argv: Sequence[str] | None = None, latch: SignalLatch | None = None) -> int:
    """Run the ``interactors`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit code. Installs process-wide SIGINT/SIGTERM handlers, so call it from
    the main thread of a program that it may own (``latch``: handlers already installed by
    the caller, earlier still).
    """
    latch = latch or SignalLatch().install()
    args_list = list(sys.argv[1:] if argv is None else argv)
    app_args: list[str] = []
    if "--" in args_list:  # the rest is the app's, untouched
        split = args_list.index("--")
        args_list, app_args = args_list[:split], args_list[split + 1 :]
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
        if getattr(args, "app_args", None):
            parser.error(f"put the app's arguments after --: {' '.join(args.app_args)}")
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    if args.command in ("stats", "top"):
        from .top import stats_main, top_main

        return top_main(args.pid) if args.command == "top" else stats_main(args.pid, args.json)
    if args.command != "run":
        parser.print_help(sys.stderr)
        return 2
    args.app_args = app_args
    return _run(args, args_list, latch)


def _run(args: argparse.Namespace, args_list: list[str], latch: SignalLatch) -> int:
    # Imported here, after the signal handlers are in (see the module docstring).
    import os

    from .app import AppError, check_spec, load_app
    from .config import ConfigError, load_settings
    from .environ import env_flag, env_list, env_name, load_env_file
    from .launch import ExitCode, Launcher
    from .logconfig import apply_log_config, configure_logging

    overrides = {
        "backend": args.backend,
        "isolation": args.isolation,
        "log_level": args.log_level,
        "log_format": args.log_format,
        "shutdown_timeout": args.shutdown_timeout,
        "metrics_port": args.metrics_port,
        "metrics_host": args.metrics_host,
    }
    runner: Launcher | Reloader
    try:
        env_file = args.env_file or os.environ.get(env_name("env-file"))
        if env_file:
            load_env_file(env_file)
        for option in ("app-dir", "config", "log-config"):  # the environment's, if not given
            key = option.replace("-", "_")
            setattr(args, key, getattr(args, key) or os.environ.get(env_name(option)) or None)
        args.app_dir = args.app_dir or "."
        args.factory = args.factory or env_flag("factory")
        args.reload = args.reload or env_flag("reload")
        for option, _, _ in _RELOAD_OPTIONS:
            key = option[2:].replace("-", "_")
            if getattr(args, key) and not args.reload:
                raise AppError(f"{option} is for --reload: add --reload, or drop {option}")
            setattr(args, key, getattr(args, key) or env_list(option))
        settings = load_settings(args.config, overrides, os.environ)
        if settings.backend == "trio" and not _importable("trio"):
            raise AppError("--backend trio needs trio: pip install 'interactors[trio]'")
        if args.reload:
            check_spec(args.app)  # the rest is checked by the child, again at each change
            if not _importable("watchfiles"):
                raise AppError("--reload needs watchfiles: pip install 'interactors[reload]'")
        if settings.metrics_port is not None and not _importable("prometheus_client"):
            raise AppError(
                "--metrics-port needs prometheus_client: pip install 'interactors[metrics]'"
            )
        if args.log_config:
            apply_log_config(args.log_config)
        else:
            configure_logging(settings.log_level, settings.log_format)
        if args.reload:
            from .reload import Reloader, SourceFilter

            child = _child_arguments(args_list)
            command = [sys.executable, "-m", "interactors", *child, "--", *args.app_args]
            os.environ[env_name("reload")] = "0"  # the child runs the app itself
            dirs = args.reload_dir or [args.app_dir]
            watch = SourceFilter(dirs, args.reload_include, args.reload_exclude)
            runner = Reloader(command, dirs, settings, latch, watch)
        else:
            # The app sees its own arguments, as if it were the program (documented).
            sys.argv = [args.app, *args.app_args]
            runner = Launcher(load_app(args.app, args.app_dir, args.factory), settings, latch)
    except (AppError, ConfigError) as exc:
        print(f"interactors run: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    code = runner.run()
    # The run is over and its exit code decided. Python removes its signal handlers while
    # it finalizes: a signal arriving then would end the process by that signal instead of
    # with this code. Keep SIGINT/SIGTERM pending (blocked) until the process is gone.
    signal.pthread_sigmask(signal.SIG_BLOCK, SHUTDOWN_SIGNALS)
    return code


def _child_arguments(args_list: list[str]) -> list[str]:
    """The command line without --reload and its options, for the reloader's child."""
    child: list[str] = []
    skip_value = False
    for arg in args_list:
        name = arg.partition("=")[0]
        if skip_value:
            skip_value = False
        elif arg == "--reload" or name in {option for option, _, _ in _RELOAD_OPTIONS}:
            skip_value = "=" not in arg and arg != "--reload"
        else:
            child.append(arg)
    return child


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
