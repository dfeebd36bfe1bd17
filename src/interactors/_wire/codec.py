"""Codecs: how message payloads (arguments and results) become queue-shareable values.

The only module that imports msgspec, and only when the msgspec codec is used: this module
is imported inside actors' interpreters, where msgspec cannot load (it does not declare
support for own-GIL sub-interpreters).

A codec is named by a *spec* string so that the actor's interpreter can build the same
codec: ``"pickle"`` (the default), ``"msgspec"`` or ``"package.module:factory"`` for a
user codec (a callable returning a :class:`Codec`).
"""

from __future__ import annotations

from .._exceptions import ActorInterrupted, DecodeError, EncodeError, HandlerTimeout

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Final

    from .codec_protocol import Codec, Encoded

__all__ = ("MsgspecCodec", "PickleCodec", "codec_from_spec")

# Buffers at least this large travel out of band (no pickle copy).
OUT_OF_BAND_MIN: Final = 64 * 1024


def _same(view: Any) -> Any:
    # (a small buffer from a process actor arrives as the bytes of a marshalled frame: a
    # memoryview was sent, a memoryview arrives, whatever way it took)
    return view if type(view) is memoryview else memoryview(view)


def _cast(view: Any, fmt: Any, shape: tuple[int, ...]) -> Any:
    """Rebuild a typed or multi-dimensional memoryview over the received raw bytes."""
    return memoryview(view).cast("B").cast(fmt, shape)


def _view_reduction(view: memoryview) -> tuple[Any, ...]:
    """How a memoryview travels: its raw bytes out of band, then its format and shape."""
    import pickle

    if not view.contiguous:
        raise EncodeError(
            f"cannot send a non-contiguous memoryview (shape {view.shape}, strides "
            f"{view.strides}) without copying it: send view.tobytes() or a contiguous copy"
        )
    if view.format == "B" and view.ndim == 1:
        return _same, (pickle.PickleBuffer(view),)
    try:
        _cast(b"\0" * view.itemsize, view.format, (1,) * view.ndim)
    except (TypeError, ValueError) as exc:
        raise EncodeError(
            f"cannot send a memoryview of format {view.format!r} and shape {view.shape}: "
            f"it cannot be rebuilt on arrival ({exc}); send view.tobytes() or cast it to 'B'"
        ) from None
    return _cast, (pickle.PickleBuffer(view), view.format, view.shape)


def _to_bytes(view: Any) -> bytes:
    return bytes(view)


def _to_bytearray(view: Any) -> bytearray:
    return bytearray(view)


def _dump_with_buffers(obj: Any, top: list[Any]) -> tuple[Any, ...]:
    """Pickle ``obj`` sending large bytes-like values out of band: the queue shares them,
    pickle never copies them.

    A ``memoryview`` or ``PickleBuffer`` arrives as a memoryview over the sender's memory
    (zero copy; the sender's buffer stays locked while it is held); large ``bytes`` and
    ``bytearray`` values keep their type at the cost of one copy on arrival. ``top`` holds
    the values at the top of the payload (see :func:`_top_level`): the only places where a
    memoryview may be.
    """
    import io
    import pickle

    allowed = {id(value) for value in top if type(value) is memoryview}

    class BufferPickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            kind = type(obj)
            if kind is memoryview:
                if id(obj) not in allowed:
                    raise EncodeError(_NESTED_VIEW)
                return _view_reduction(obj)
            if kind is bytes and len(obj) >= OUT_OF_BAND_MIN:
                return _to_bytes, (pickle.PickleBuffer(obj),)
            if kind is bytearray and len(obj) >= OUT_OF_BAND_MIN:
                return _to_bytearray, (pickle.PickleBuffer(obj),)
            return NotImplemented

    buffers: list[pickle.PickleBuffer] = []
    stream = io.BytesIO()
    BufferPickler(stream, 5, buffer_callback=buffers.append).dump(obj)
    return (stream.getvalue(), *(buffer.raw() for buffer in buffers))


_SCALARS: Final = frozenset({int, float, str, bool, type(None), list, set, frozenset})


def _wants_buffers(obj: Any) -> bool:
    """Cheap look at the top of a payload for values worth sending out of band."""
    if type(obj) is tuple:
        return any(_wants_buffers(item) for item in obj)
    if type(obj) is dict:
        return any(_wants_buffers(item) for item in obj.values())
    kind = type(obj)
    if kind is memoryview or kind.__name__ == "PickleBuffer":
        return True
    if kind is bytes or kind is bytearray:
        return len(obj) >= OUT_OF_BAND_MIN
    if kind in _SCALARS or not hasattr(kind, "__buffer__"):
        return False
    # Any other PEP 3118 exporter (a numpy array, array.array): if it is large, its
    # pickle (protocol 5) hands its data out of band, uncopied.
    try:
        with memoryview(obj) as view:
            return view.nbytes >= OUT_OF_BAND_MIN
    except (TypeError, ValueError):  # e.g. an array of Python objects
        return False


_NESTED_VIEW: Final = (
    "a memoryview can be sent only as an argument of its own (or as the result itself), "
    "not inside a tuple, list or dict: pass it as a separate argument (it then crosses "
    "without a copy) or send bytes(view)"
)


def _top_level(obj: Any) -> list[Any]:
    """The values at the top of a payload: a call's arguments (``(args, kwargs)``), else
    the value itself (a result). One rule: memoryviews may be these, nothing deeper."""
    if type(obj) is tuple and len(obj) == 2 and type(obj[0]) is tuple:
        kwargs = obj[1]
        if kwargs is None:
            return list(obj[0])
        if type(kwargs) is dict:
            return [*obj[0], *kwargs.values()]
    return [obj]


class PickleCodec:
    """Pickle protocol 5; large buffers travel out of band through the queue, uncopied.

    pickle is imported on first use: an actor that only ever receives plain values (which
    need no codec) does not pay the memory for it.
    """

    spec = "pickle"

    def encode(self, obj: Any) -> Encoded:
        import pickle

        try:
            if not _wants_buffers(obj):
                try:
                    return pickle.dumps(obj, 5)
                except TypeError as exc:
                    if "memoryview" in str(exc):
                        raise EncodeError(_NESTED_VIEW) from None
                    raise
            return _dump_with_buffers(obj, _top_level(obj))
        except EncodeError:
            raise
        except _PASS_THROUGH:
            raise
        except BaseException as exc:
            # Anything else (RecursionError, a __reduce__ raising a BaseException) means
            # this value cannot be sent: say so, never let it escape as something else.
            raise EncodeError(
                f"cannot pickle {_describe(obj)}: {_reason(exc)}. Send plain data (numbers, "
                "strings, bytes, containers of them, picklable objects) or choose another codec."
            ) from exc

    def decode(self, data: Encoded) -> Any:
        try:
            return _unpickle(data)
        except Exception as exc:
            failure = exc
        # An object of a class defined in the host's main script, where that script is not
        # loaded yet (an actor of another module): load it, as multiprocessing's spawn
        # does, and try again.
        if load_main is not None and _names_main(failure):
            try:
                if load_main():
                    return _unpickle(data)
            except Exception as exc:
                raise DecodeError(
                    f"cannot unpickle a payload: it holds an object of a class defined in "
                    f"the main script, and loading that script here failed: {exc!r}. Move "
                    "the class into a module of its own."
                ) from exc
        hint = ""
        if "more than once per process" in str(failure):
            hint = (
                ". A single-phase-init extension module (numpy, for one) loads in one "
                "interpreter per process, and another one has it: run the actors that use "
                'it with isolation="process"'
            )
        raise DecodeError(f"cannot unpickle a payload: {failure!r}{hint}") from failure


# Set inside an actor's interpreter (or process): loads the host's main script as
# ``__mp_main__``; True if it did so just now (False: nothing to load, it is there).
load_main: Callable[[], bool] | None = None


def _unpickle(data: Encoded) -> Any:
    import pickle

    if isinstance(data, bytes):
        return pickle.loads(data)
    return pickle.loads(data[0], buffers=data[1:])


def _names_main(exc: BaseException) -> bool:
    """Whether unpickling failed for want of the main script's module or one of its names."""
    text = str(exc)
    return ("'__main__'" in text and isinstance(exc, AttributeError)) or "__mp_main__" in text


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


# Exceptions that interrupt the thread rather than describe the value: never converted.
_PASS_THROUGH: Final = (
    KeyboardInterrupt,
    SystemExit,
    GeneratorExit,
    HandlerTimeout,
    ActorInterrupted,
)


def _describe(obj: Any) -> str:
    """A short repr that cannot fail (deeply nested values, a raising ``__repr__``)."""
    import reprlib

    describer = reprlib.Repr(maxlevel=3, maxstring=60, maxother=60)
    try:
        text = describer.repr(obj)
    except Exception:
        text = f"<{type(obj).__qualname__} object>"
    return text if len(text) <= 80 else text[:77] + "..."


def _reason(exc: BaseException) -> str:
    """``str(exc)`` that cannot fail, and says which exception when it is empty."""
    try:
        text = str(exc)
    except Exception:
        text = ""
    name = type(exc).__qualname__
    if isinstance(exc, RecursionError):
        return f"it is nested too deeply ({name}: {text})"
    return f"{name}: {text}" if text else name


_BUILTIN: dict[str, type[Any]] = {"pickle": PickleCodec, "msgspec": MsgspecCodec}
_cache: dict[str, Codec] = {}


def codec_from_spec(spec: str | Codec | None) -> Codec:
    """The codec for ``spec`` (a name, ``"module:factory"``, or a codec instance)."""
    if spec is None:
        spec = "pickle"
    if not isinstance(spec, str):
        if not all(hasattr(spec, name) for name in ("spec", "encode", "decode")):
            raise TypeError(f"codec must be a spec string or a Codec, got {spec!r}")
        return spec
    codec = _cache.get(spec)
    if codec is None:
        if spec in _BUILTIN:
            codec = _BUILTIN[spec]()
        elif ":" in spec:
            module_name, _, attr = spec.partition(":")
            from importlib import import_module

            factory = getattr(import_module(module_name), attr)
            codec = factory()
        else:
            raise ValueError(
                f"unknown codec {spec!r}: use 'pickle', 'msgspec' or 'package.module:factory'"
            )
        _cache[spec] = codec
    return codec
