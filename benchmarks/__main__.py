"""``python -m benchmarks [--quick] [--only SCENARIO] [--frameworks A,B] [--out DIR]``.

Runs the suite (every scenario for interactors and every installed peer, each cell in a
fresh process), prints a table per scenario and the core targets, and writes
``<out>/<date>.json`` (``<date>-quick.json`` for ``--quick``), a Markdown report and PNG
charts next to it. A full run also refreshes ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import core, documents, report, where
from .child import SCENARIOS
from .frameworks import BY_NAME
from .measure import fresh_bytecode, save_json
from .suite import ROOT, run_suite

RESULTS = Path(__file__).resolve().parent / "results"
DOCS = ROOT / "docs" / "performance.md"


def _names(text: str, known: tuple[str, ...] | list[str], what: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(known)})")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under 2 minutes")
    parser.add_argument(
        "--size", choices=("smoke", "quick", "full"), help="explicit size (smoke: seconds)"
    )
    parser.add_argument("--only", action="append", default=[], help="scenario(s), repeatable")
    parser.add_argument("--frameworks", default="", help="comma-separated subset")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    parser.add_argument(
        "--from-json",
        type=Path,
        metavar="FILE",
        help="measure nothing: redraw the report, charts and docs from a saved run",
    )
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="refresh docs/performance.md (default: on for a full run of every scenario)",
    )
    parser.add_argument(
        "--where",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="profile each message path for 'where the time goes' (default: full runs)",
    )
    options = parser.parse_args(argv)
    size = options.size or ("quick" if options.quick else "full")
    if options.where is None:
        options.where = size == "full"
    scenarios = _names(",".join(options.only), SCENARIOS, "scenario") or SCENARIOS
    frameworks = _names(options.frameworks, list(BY_NAME), "framework") or None

    if options.from_json:
        results = json.loads(options.from_json.read_text(encoding="utf-8"))
        size, scenarios = results["size"], tuple(results["scenarios"])
        names = tuple(results["frameworks"])
        frameworks = None if set(names) == set(BY_NAME) else names
    else:
        print(f"interactors benchmarks: {size} run, scenarios {', '.join(scenarios)}")
        fresh_bytecode()
        results = run_suite(size, scenarios, frameworks)
    results["core"] = core.evaluate(results)
    if options.where and not options.from_json:
        print("  where the time goes (profiled paths)", flush=True)
        results["where"] = where.measure(where.MESSAGES[size])
    results["versus"] = [report.versus(results, peer) for peer in ("pykka", "ray")]
    for scenario in scenarios:
        report.print_scenario(results, scenario)
    core.print_core(results["core"])
    print("\n" + "\n".join(report.versus_lines(results, ("pykka", "ray", "thespian"))))

    out: Path = options.out
    out.mkdir(parents=True, exist_ok=True)
    stem = results["date"] + ("" if size == "full" else f"-{size}")
    save_json(out / f"{stem}.json", results)
    charts = documents.charts(results, out, stem)
    (out / f"{stem}.md").write_text(
        documents.render(results, charts, image_prefix=""), encoding="utf-8"
    )
    print(f"\nwrote {out / stem}.json, .md and {len(charts)} charts ({results['seconds']} s)")
    refresh = (
        options.docs
        if options.docs is not None
        else (size == "full" and scenarios == SCENARIOS and frameworks is None)
    )
    if refresh and not out.resolve().is_relative_to(ROOT):
        print("docs/performance.md not refreshed: --out is outside the project")
    elif refresh:
        prefix = Path("..", out.resolve().relative_to(ROOT)).as_posix() + "/"
        DOCS.write_text(documents.render(results, charts, image_prefix=prefix), encoding="utf-8")
        print(f"refreshed {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
