"""What a failed interpreter creation leaves open is closed, and nothing else.

CPython 3.13.0 can fail to create an interpreter ("Failed to import encodings module")
and abandon the ``encodings`` file it was reading, open for good. The backend closes it
after the failure (``close_leaked_init_files``). The failure cannot be caused on demand,
so these tests open the files themselves, the way the abandoned import leaves them.
"""

from __future__ import annotations

import encodings
import importlib.util
import os
from pathlib import Path

from interactors._backend._lifecycle import close_leaked_init_files, open_fds

_PACKAGE = Path(encodings.__file__).parent


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _cached(module: str) -> str:
    path = importlib.util.cache_from_source(str(_PACKAGE / f"{module}.py"))
    assert os.path.exists(path), path
    return path


def _has_cache(module: str) -> bool:
    return os.path.exists(importlib.util.cache_from_source(str(_PACKAGE / f"{module}.py")))


def test_a_new_fd_on_an_encodings_file_is_closed() -> None:
    before = open_fds()
    init = os.open(_cached("__init__"), os.O_RDONLY)
    codec = os.open(_PACKAGE / "idna.py", os.O_RDONLY)
    close_leaked_init_files(before)
    assert not _is_open(init)
    assert not _is_open(codec)


def test_the_packages_init_is_closed_even_on_a_reused_number() -> None:
    """Another thread closed an fd during the creation, which then reused its number."""
    placeholder = os.open(os.devnull, os.O_RDONLY)
    before = open_fds()
    os.close(placeholder)
    init = os.open(_cached("__init__"), os.O_RDONLY)
    assert init == placeholder  # the lowest free number
    close_leaked_init_files(before)
    assert not _is_open(init)


def test_a_codec_an_actor_is_reading_is_left_open() -> None:
    """An fd on another module of the package that was open before the creation may be an
    import in progress elsewhere: it stays."""
    codec = os.open(_cached("idna"), os.O_RDONLY) if _has_cache("idna") else None
    source = os.open(_PACKAGE / "punycode.py", os.O_RDONLY)
    other = os.open(os.devnull, os.O_RDONLY)
    try:
        close_leaked_init_files(open_fds())
        assert _is_open(source)
        assert codec is None or _is_open(codec)
        assert _is_open(other)
    finally:
        for fd in (codec, source, other):
            if fd is not None:
                os.close(fd)


def test_the_listing_leaves_out_its_own_fd() -> None:
    """The next file opened was not open before (it takes the number the listing used)."""
    before = open_fds()
    fd = os.open(os.devnull, os.O_RDONLY)
    try:
        assert str(fd) not in before
        assert str(fd) in open_fds()
    finally:
        os.close(fd)
