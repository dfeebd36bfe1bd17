"""The wire format between the host and actors: message kinds and envelope layouts.

Envelopes are tuples of plain values (int, str, bytes, float, bool, None, memoryview) that
cross-interpreter queues share natively, so routing a message never needs a codec. Only
the payload (arguments, results) goes through a :class:`~interactors.Codec`, and not even
that when every argument is a plain value.

Stdlib only: imported inside actors' interpreters.

To an actor's mailbox::

    (kind, msg_id, method, fmt, payload, reply_qid, reply_fd, reply_flag)

To a reply queue (the host's, or an actor's own)::

    (kind, msg_id, fmt, payload)

``reply_flag`` names the asker's "waiting for replies" flag in shared memory (see
``_slots.flag_code``): the replier writes the asker's eventfd only while the flag is set,
or always when it is -1 (the host's event loop).

``fmt`` says how ``payload`` is carried: ``PLAIN`` (the args tuple / the result itself,
made of plain values) or ``ENCODED`` (codec output for ``(args, kwargs)`` / the result).
"""

from __future__ import annotations

from .._exceptions import ActorCrashed, ActorError, ActorInterrupted, EncodeError, HandlerTimeout

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any, Final


# Messages into a mailbox.
ASK: Final = 1
TELL: Final = 2
STOP: Final = 3
# On the control queue (ahead of the mailbox):
START: Final = 4  # build an instance from the payload's arguments and serve
TERMINATE: Final = 5  # end the incarnation (on_stop runs), keep the worker for a restart
EXIT: Final = 6  # leave the worker: the interpreter's thread returns
RESTART: Final = 7  # build a fresh instance with the same arguments, in place
LOG_LEVELS: Final = 8  # the host's logging levels changed: payload ((name, level), ...)
# In a mailbox, as the backend hands it over: (BATCH, item), several of the host's tells
# in one queue item (backend.put_batch; backend.BATCHED is this number).
BATCH: Final = 9

# Messages into a reply queue.
REPLY_OK: Final = 10
REPLY_ERROR: Final = 11
REPLY_CRASHED: Final = 12  # the actor died with (or before handling) the message
STARTED: Final = 13
START_FAILED: Final = 14
# Notices to the host (kinds >= EXITED answer no waiter).
EXITED: Final = 20  # posted by the host thread that ran the interpreter, when it returns
CRASHED: Final = 21  # posted by a worker whose handler failed under on_error="restart"/"stop"
TELL_FAILED: Final = 22  # a tell's handler raised under on_error="resume": the host logs it
LOGS: Final = 23  # a batch of log records made inside an actor: the host re-emits them
STOP_ACTOR: Final = 24  # an actor asks the host to stop an actor (``PeerRef.stop()``)
SPAWN_ACTOR: Final = 25  # an actor asks the host to spawn an actor it owns (``Actor.spawn``)
MONITOR: Final = 26  # an actor asks to be told when another stops for good (``Actor.monitor``)

# Payload formats.
PLAIN: Final = 0
ENCODED: Final = 1

# Why a start failed (first item of a START_FAILED payload).
FAIL_IMPORT: Final = "import"
FAIL_ISOLATION: Final = "isolation"
FAIL_INIT: Final = "init"
FAIL_CODEC: Final = "codec"

# A payload of one of these types holds no buffer: its envelope needs no look for one.
SCALARS: Final = frozenset({int, float, bool, type(None)})
PLAIN_TYPES: Final = SCALARS | {str, bytes}
# Queues share ints only in this range; larger ones go through the codec.
INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1


# An actor's address: every value a ref needs to reach the actor, shareable as is.
#   (system_id, actor_id, name, mailbox_qid, mailbox_fd, methods, parked_flag)
Address = tuple[int, int, str, int, int, tuple[str, ...], int]


def encode_call(codec: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, Any]:
    """``(fmt, payload)`` for a call: the args tuple as is when every argument is a plain
    value (no codec needed), else the codec's encoding of ``(args, kwargs)``.

    The host's ``tell_nowait`` checks the same rule in its own pass, with the batch's size
    bound (``_host/messaging.py``: ``_plain_and_small``): a change here goes there too."""
    if not kwargs:
        plain = PLAIN_TYPES
        for arg in args:
            kind = type(arg)
            if kind not in plain or (kind is int and not INT_MIN <= arg <= INT_MAX):
                break
        else:
            return PLAIN, args
    return ENCODED, encode_value(codec, (args, kwargs or None))


def encode_value(codec: Any, value: Any) -> Any:
    """``codec.encode(value)``; whatever goes wrong is an :class:`EncodeError` (the cause
    chained), so a sender sees one error type for a value that cannot be sent."""
    try:
        return codec.encode(value)
    except EncodeError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit, HandlerTimeout, ActorInterrupted):
        raise
    except BaseException as exc:
        try:
            why = f"{type(exc).__qualname__}: {exc}"
        except Exception:
            why = type(exc).__qualname__
        raise EncodeError(f"codec {codec.spec!r} cannot encode a value: {why}") from exc


def cause(type_name: str, message: str) -> str:
    """What ended a worker, as answers and logs say it: ``"SystemExit: 3"``, or the type
    alone when its message is empty."""
    return f"{type_name}: {message}" if message else type_name


def ending(type_name: str, message: str) -> tuple[str, bool]:
    """What ended a worker, as the asks it cut off say it, and whether that was abnormal:
    ``SystemExit`` with no code or code 0 is a normal exit."""
    why = cause(type_name, message)
    if type_name == "SystemExit" and message in ("", "0", "None"):
        return f"a normal exit ({why})", False
    return why, True


def exit_words(info: tuple[str, ...] | None) -> str:
    """How a worker ended, from its exit ``(type, message, traceback)``: a process's own
    words ("the actor's process was killed by SIGKILL"), or :func:`ending`'s."""
    if not info:
        return "it exited"
    if info[0] in ("", "Killed", "ProcessExit"):
        return info[1]
    return ending(info[0], info[1])[0]


def died_handling(actor: str, msg_id: int, why: str) -> tuple[Any, ...]:
    """The ActorCrashed answer to ask ``msg_id``, whose handler never finished: its worker
    died or was abandoned, or its incarnation ended under it (``why``)."""
    message = f"actor {actor!r} died handling this message: {why}"
    return (REPLY_CRASHED, msg_id, PLAIN, ("ActorCrashed", message, "", None))


def named_method(method: Any) -> str:
    """The name of the method passed to the call form (``ref.ask(Counter.add, 5)``)."""
    if isinstance(method, str):
        raise TypeError(
            f"ref.ask(...) and ref.tell(...) take a method of the actor's class, as in "
            f"ref.ask(Counter.add, 5), not its name: write ref.ask.{method}(...), or "
            f"getattr(ref.ask, {method!r})(...) for a name known at run time"
        )
    name = getattr(method, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(
            f"ref.ask(...) and ref.tell(...) take a method of the actor's class, as in "
            f"ref.ask(Counter.add, 5); got {method!r}"
        )
    return name


# Builds a ref from an address where it lands: set by the host's ref module on the host,
# and by the worker inside an actor's interpreter (refs that work from there).
ref_factory: Any = None


def rebuild_ref(address: Address) -> Any:
    """Unpickle an ActorRef where it lands: inside an actor, or on the host."""
    if ref_factory is None:
        raise RuntimeError("an ActorRef can only be unpickled where interactors runs actors")
    return ref_factory(address)


def raise_reply(envelope: tuple[Any, ...], actor: str, decode: Any) -> Any:
    """The value carried by a reply envelope, or raise the error it carries."""
    kind, _msg_id, fmt, payload = envelope
    if kind == REPLY_OK:
        return payload if fmt == PLAIN else decode(payload)
    type_name, message, text, blob = payload
    error_type = ActorCrashed if kind == REPLY_CRASHED else ActorError
    error = error_type(actor, type_name, message, text)
    cause: BaseException | None = None
    if blob is not None:
        try:
            import pickle

            cause = pickle.loads(blob)
        except Exception:
            cause = None
    raise error from cause
