"""The host side: the user's process and event loop (ActorSystem, cells, refs, run()).

May import the stdlib, anyio, msgspec, `_wire`, `_backend`, `_supervision` and the shared
top-level modules; never `_launcher`.
"""
