"""Runs one benchmark cell (one scenario for one framework) in a fresh process.

``python -m benchmarks.child SCENARIO FRAMEWORK SIZE [OPTIONS_JSON]`` prints one line
``RESULT {json}`` with the cell's rows or the error it hit. A fresh process per cell keeps
frameworks from disturbing each other (threads left behind, forked children, memory that
RSS readings would count) and lets the suite bound each cell with a timeout.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from typing import Any

from .measure import SIZES

MARK = "RESULT "
SCENARIOS = ("cpu", "ask", "tell", "payload", "spawn", "scale", "restart", "supervise", "http_pool")


def run_cell(
    scenario: str, framework: str, size_name: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run a cell in this process; return ``{"rows": [...]}`` or ``{"error": "..."}``."""
    module = importlib.import_module(f"benchmarks.{scenario}")
    why = getattr(module, "unavailable", lambda: None)()  # a tool the scenario needs
    if why:
        return {"skipped": why}
    runner = module.RUNNERS.get(framework)
    if runner is None:
        reason = getattr(module, "NOT_APPLICABLE", {}).get(framework, "not applicable")
        return {"skipped": reason}
    begin = time.perf_counter()
    try:
        rows = runner(SIZES[size_name], **(options or {}))
    except ImportError as exc:
        return {"error": f"not installed or does not import: {exc}"}
    except Exception as exc:
        return {
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8),
        }
    return {"rows": rows, "seconds": round(time.perf_counter() - begin, 2)}


def main(argv: list[str]) -> int:
    scenario, framework, size_name = argv[:3]
    options = json.loads(argv[3]) if len(argv) > 3 else None
    result = run_cell(scenario, framework, size_name, options)
    sys.stdout.flush()
    print(MARK + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
