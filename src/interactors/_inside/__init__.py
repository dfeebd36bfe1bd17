"""What runs inside each actor's interpreter: the worker, serving, the watchdog, peer refs.

Stdlib only, with no `typing`, `anyio`, `msgspec`, `dataclasses` or `logging` at run time;
may import `_wire`, `_backend` and the shared top-level modules, never the host side.
"""
