"""Turns a result document into tables: plain text for the terminal, Markdown for the docs.

Every scenario table has one row per metric and one column per framework, plus the
"cost vs raw" overhead column: how many times the cost of the raw primitives
interactors pays (time / raw time, or raw rate / rate; 1.0x = no overhead).
"""

from __future__ import annotations

import importlib
from typing import Any

from .frameworks import BY_NAME

OVERHEAD = "cost vs raw"


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "/s":
        if value >= 1e6:
            return f"{value / 1e6:.2f}M/s"
        if value >= 1e3:
            return f"{value / 1e3:.1f}k/s"
        return f"{value:.0f}/s"
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("ms", "µs", "s"):
        if value >= 100:
            return f"{value:,.0f} {unit}"
        if value >= 1:
            return f"{value:.2f} {unit}"
        return f"{value:.3f} {unit}"
    return f"{value:.2f} {unit}"


def scenario_title(scenario: str) -> str:
    module = importlib.import_module(f"benchmarks.{scenario}")
    return str(getattr(module, "TITLE", scenario))


def overhead(fw: dict[str, Any], raw: dict[str, Any]) -> float | None:
    """Cost of the framework relative to the raw primitives (> 1: slower)."""
    a, b = fw.get("value"), raw.get("value")
    if not a or not b:
        return None
    return float(b / a if fw["better"] == "higher" else a / b)


def _status(cell: dict[str, Any]) -> str:
    if cell.get("missing"):
        return "not installed"
    if "skipped" in cell:
        return "n/a" if "skipped in --quick" not in cell["skipped"] else "skipped"
    if "error" in cell:
        return "error"
    return "—"


def scenario_grid(results: dict[str, Any], scenario: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows (strings) of one scenario's table."""
    cells: dict[str, Any] = results["scenarios"][scenario]["cells"]
    names = list(cells)
    has_raw = "raw" in cells and "rows" in cells["raw"] and "interactors" in cells
    metrics: list[str] = []
    units: dict[str, str] = {}
    for name in names:
        for r in cells[name].get("rows", []):
            if r["metric"] not in units:
                metrics.append(r["metric"])
                units[r["metric"]] = r["unit"]
    header = ["metric"]
    for name in names:
        header.append(BY_NAME[name].label if name in BY_NAME else name)
        if name == "raw" and has_raw:
            header.append(OVERHEAD)
    lines = []
    for metric in metrics:
        line = [metric]
        for name in names:
            cell = cells[name]
            found = next((r for r in cell.get("rows", []) if r["metric"] == metric), None)
            line.append(fmt(found["value"], found["unit"]) if found else _status(cell))
            if name == "raw" and has_raw:
                ours = next(
                    (r for r in cells["interactors"].get("rows", []) if r["metric"] == metric),
                    None,
                )
                ratio = overhead(ours, found) if ours and found else None
                line.append("—" if ratio is None else f"{ratio:.2f}x")
        lines.append(line)
    return header, lines


def scenario_notes(results: dict[str, Any], scenario: str) -> list[str]:
    """What the table cannot show: errors, skips, how each peer was driven, row notes."""
    notes = []
    for name, cell in results["scenarios"][scenario]["cells"].items():
        label = BY_NAME[name].label if name in BY_NAME else name
        if cell.get("missing"):
            notes.append(f"{label}: not installed")
        elif "skipped" in cell:
            notes.append(f"{label}: {cell['skipped']}")
        elif "error" in cell:
            notes.append(f"{label}: error: {cell['error']}")
        else:
            seen = sorted({r["note"] for r in cell.get("rows", []) if r.get("note")})
            if seen:
                notes.append(f"{label}: " + "; ".join(seen))
    return notes


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=True)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in rows]
    return "\n".join(out)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(line) + " |" for line in rows]
    return "\n".join(out)


def print_scenario(results: dict[str, Any], scenario: str) -> None:
    header, rows = scenario_grid(results, scenario)
    print(f"\n== {scenario_title(scenario)} ({scenario}) ==")
    if rows:
        print(text_table(header, rows))
    for note in scenario_notes(results, scenario):
        print(f"  * {note}")


# -- interactors against each peer ----------------------------------------------------------


TIE = 0.05  # within 5%: the machine's noise, not a difference


def versus(results: dict[str, Any], peer: str) -> dict[str, Any]:
    """Rows where both interactors and ``peer`` have a number: ahead, behind or level."""
    ahead, behind, level = [], [], []
    for scenario, data in results["scenarios"].items():
        cells = data["cells"]
        ours = {r["metric"]: r for r in cells.get("interactors", {}).get("rows", [])}
        for theirs in cells.get(peer, {}).get("rows", []):
            mine = ours.get(theirs["metric"])
            if mine is None or mine["value"] is None or theirs["value"] is None:
                continue
            entry = (
                f"{scenario}: {theirs['metric']} "
                f"({fmt(mine['value'], mine['unit'])} vs {fmt(theirs['value'], theirs['unit'])})"
            )
            ratio = mine["value"] / theirs["value"]
            if mine["better"] == "lower":
                ratio = 1 / ratio
            if abs(ratio - 1) <= TIE:
                level.append(entry)
            else:
                (ahead if ratio > 1 else behind).append(entry)
    return {"peer": peer, "ahead": ahead, "behind": behind, "level": level}


def versus_lines(results: dict[str, Any], peers: tuple[str, ...]) -> list[str]:
    lines = []
    for peer in peers:
        if peer not in results["frameworks"]:
            continue
        label = BY_NAME[peer].label
        if results["frameworks"][peer]["version"] is None:
            lines.append(f"- vs {label}: not installed")
            continue
        v = versus(results, peer)
        total = len(v["ahead"]) + len(v["behind"]) + len(v["level"])
        if not total:
            lines.append(f"- vs {label}: no common rows in this run")
            continue
        lines.append(
            f"- vs {label}: interactors ahead on {len(v['ahead'])} of {total} rows, "
            f"level (within {TIE:.0%}) on {len(v['level'])}, behind on {len(v['behind'])}"
        )
        # Four spaces: Python-Markdown (the docs site) nests a list item only at four.
        lines += [f"    - behind: {entry}" for entry in v["behind"]]
    return lines
