"""PNG charts of a result document, drawn with matplotlib's Agg backend (no display needed).

matplotlib is optional: without it the suite still writes its tables and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .frameworks import BY_NAME

# (scenario, file suffix, title, metrics, log scale)
BAR_CHARTS: tuple[tuple[str, str, str, tuple[str, ...], bool], ...] = (
    (
        "ask",
        "ask",
        "Asks per second (higher is better)",
        ("asks/s, 1 caller", "asks/s, 100 callers (asyncio)", "actor→actor round trips/s"),
        True,
    ),
    (
        "tell",
        "tell",
        "Tells per second (higher is better)",
        ("tells/s into one actor, small", "fan-in 8→1 msgs/s, small"),
        True,
    ),
    (
        "payload",
        "payload",
        "64 MiB round trip, ms (lower is better)",
        ("64 MiB round trip, bytes", "64 MiB round trip, memoryview"),
        True,
    ),
    (
        "spawn",
        "spawn",
        "Spawn to first answer, ms (lower is better)",
        ("first answer, 1 actor",),
        True,
    ),
    (
        "spawn",
        "memory",
        "RSS per idle worker, MiB (lower is better)",
        ("RSS per idle actor",),
        False,
    ),
)


def _label(name: str) -> str:
    return BY_NAME[name].label if name in BY_NAME else name


def _values(results: dict[str, Any], scenario: str, metric: str) -> dict[str, float]:
    cells = results["scenarios"].get(scenario, {}).get("cells", {})
    out = {}
    for name, cell in cells.items():
        for r in cell.get("rows", []):
            if r["metric"] == metric and r["value"]:
                out[name] = float(r["value"])
    return out


def draw(results: dict[str, Any], directory: Path, stem: str) -> list[Path]:
    """Write every chart the results have data for; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    cpu = results["scenarios"].get("cpu", {}).get("cells", {})
    if cpu:
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for name, cell in cpu.items():
            walls = {
                r["workers"]: r["value"] for r in cell.get("rows", []) if "wall" in r["metric"]
            }
            if 1 in walls:
                xs = sorted(walls)
                ax.plot(xs, [walls[1] / walls[x] for x in xs], marker="o", label=_label(name))
        cores = results["machine"].get("nproc") or 2
        ax.axhline(cores, color="grey", linestyle=":", label=f"{cores} cores")
        ax.set_xscale("log", base=2)
        ax.set_xticks([1, 2, 4, 8], ["1", "2", "4", "8"])
        ax.set_xlabel("workers")
        ax.set_ylabel("speedup vs 1 worker")
        ax.set_title("CPU-bound Python: speedup (higher is better)")
        ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(_save(fig, directory / f"{stem}-cpu.png"))
        plt.close(fig)
    for scenario, suffix, title, metrics, log in BAR_CHARTS:
        series = {metric: _values(results, scenario, metric) for metric in metrics}
        names = [
            n
            for n in results["scenarios"].get(scenario, {}).get("cells", {})
            if any(n in s for s in series.values())
        ]
        if not names:
            continue
        fig, ax = plt.subplots(figsize=(8, 0.28 * len(names) * len(metrics) + 1.5))
        height = 0.8 / len(metrics)
        for i, metric in enumerate(metrics):
            ys = [k + i * height for k in range(len(names))]
            ax.barh(ys, [series[metric].get(n, 0) for n in names], height=height, label=metric)
        ax.set_yticks(
            [k + height * (len(metrics) - 1) / 2 for k in range(len(names))],
            [_label(n) for n in names],
        )
        ax.invert_yaxis()
        if log:
            ax.set_xscale("log")
        ax.set_title(title)
        if len(metrics) > 1:
            ax.legend(fontsize=8)
        fig.tight_layout()
        written.append(_save(fig, directory / f"{stem}-{suffix}.png"))
        plt.close(fig)
    return written


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    return path
