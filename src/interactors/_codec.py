"""Codecs: how message payloads (arguments and results) become queue-shareable values.

The only module that imports msgspec, and only when the msgspec codec is used: this module
is imported inside actors' interpreters, where msgspec cannot load (it does not declare
support for own-GIL sub-interpreters).

A codec is named by a *spec* string so that the actor's interpreter can build the same
codec: ``"pickle"`` (the default), ``"msgspec"`` or ``"package.module:factory"`` for a
user codec (a callable returning a :class:`Codec`).
"""

from __future__ import annotations

import importlib
import io
import pickle
from typing import Any, Final, Protocol, runtime_checkable

from ._exceptions import DecodeError, EncodeError

__all__ = ("Codec", "MsgspecCodec", "PickleCodec", "codec_from_spec")

# Buffers at least this large travel out of band (no pickle copy).
OUT_OF_BAND_MIN: Final = 64 * 1024

Encoded = bytes | tuple[Any, ...]


@runtime_checkable
class Codec(Protocol):
    """Turns a payload into bytes (or a tuple of bytes and buffers) and back.

    ``spec`` is the string the actor's interpreter uses to build the same codec. ``encode``
    raises :class:`~interactors.EncodeError` for values it cannot carry.
    """

    spec: str

    def encode(self, obj: Any) -> Encoded: ...

    def decode(self, data: Encoded) -> Any: ...


def _same(view: Any) -> Any:
    return view


def _to_bytes(view: Any) -> bytes:
    return bytes(view)


def _to_bytearray(view: Any) -> bytearray:
    return bytearray(view)


class _BufferPickler(pickle.Pickler):
    """Sends large bytes-like values out of band: the queue shares them, pickle never copies.

    A ``memoryview`` or ``PickleBuffer`` arrives as a memoryview over the sender's memory
    (zero copy; the sender's buffer stays locked while it is held); large ``bytes`` and
    ``bytearray`` values keep their type at the cost of one copy on arrival.
    """

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is memoryview:
            return _same, (pickle.PickleBuffer(obj),)
        if kind is bytes and len(obj) >= OUT_OF_BAND_MIN:
            return _to_bytes, (pickle.PickleBuffer(obj),)
        if kind is bytearray and len(obj) >= OUT_OF_BAND_MIN:
            return _to_bytearray, (pickle.PickleBuffer(obj),)
        return NotImplemented


def _wants_buffers(obj: Any) -> bool:
    """Cheap look at the top of a payload for values worth sending out of band."""
    if type(obj) is tuple:
        return any(_wants_buffers(item) for item in obj)
    if type(obj) is dict:
        return any(_wants_buffers(item) for item in obj.values())
    kind = type(obj)
    if kind is memoryview or kind is pickle.PickleBuffer:
        return True
    return (kind is bytes or kind is bytearray) and len(obj) >= OUT_OF_BAND_MIN


class PickleCodec:
    """Pickle protocol 5; large buffers travel out of band through the queue, uncopied."""

    spec = "pickle"

    def encode(self, obj: Any) -> Encoded:
        try:
            if not _wants_buffers(obj):
                return pickle.dumps(obj, 5)
            buffers: list[pickle.PickleBuffer] = []
            stream = io.BytesIO()
            _BufferPickler(stream, 5, buffer_callback=buffers.append).dump(obj)
        except Exception as exc:
            raise EncodeError(
                f"cannot pickle {_describe(obj)}: {exc}. Send plain data (numbers, strings, "
                "bytes, containers of them, picklable objects) or choose another codec."
            ) from exc
        return (stream.getvalue(), *(buffer.raw() for buffer in buffers))

    def decode(self, data: Encoded) -> Any:
        try:
            if isinstance(data, bytes):
                return pickle.loads(data)
            return pickle.loads(data[0], buffers=data[1:])
        except Exception as exc:
            raise DecodeError(f"cannot unpickle a payload: {exc!r}") from exc


class MsgspecCodec:
    """MessagePack through msgspec: fast, but only where msgspec can load.

    msgspec cannot be imported in an own-GIL interpreter, so actors using this codec must
    run with ``isolation="shared_gil"``. Tuples decode as lists.
    """

    spec = "msgspec"

    def __init__(self) -> None:
        import msgspec

        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder()
        self._errors = (msgspec.EncodeError, TypeError, ValueError, OverflowError)

    def encode(self, obj: Any) -> Encoded:
        try:
            return self._encoder.encode(obj)
        except self._errors as exc:
            raise EncodeError(f"msgspec cannot encode {_describe(obj)}: {exc}") from exc

    def decode(self, data: Encoded) -> Any:
        try:
            return self._decoder.decode(data)  # type: ignore[arg-type]
        except Exception as exc:
            raise DecodeError(f"msgspec cannot decode a payload: {exc!r}") from exc


def _describe(obj: Any) -> str:
    text = repr(obj)
    return text if len(text) <= 80 else text[:77] + "..."


_BUILTIN: dict[str, type[Any]] = {"pickle": PickleCodec, "msgspec": MsgspecCodec}
_cache: dict[str, Codec] = {}


def codec_from_spec(spec: str | Codec | None) -> Codec:
    """The codec for ``spec`` (a name, ``"module:factory"``, or a codec instance)."""
    if spec is None:
        spec = "pickle"
    if not isinstance(spec, str):
        if not isinstance(spec, Codec):
            raise TypeError(f"codec must be a spec string or a Codec, got {spec!r}")
        return spec
    codec = _cache.get(spec)
    if codec is None:
        if spec in _BUILTIN:
            codec = _BUILTIN[spec]()
        elif ":" in spec:
            module_name, _, attr = spec.partition(":")
            factory = getattr(importlib.import_module(module_name), attr)
            codec = factory()
        else:
            raise ValueError(
                f"unknown codec {spec!r}: use 'pickle', 'msgspec' or 'package.module:factory'"
            )
        _cache[spec] = codec
    return codec
