"""Every exception interactors raises, in one tree.

Stdlib only: this module is imported inside actors' interpreters too.

::

    InteractorsError                    base of everything below
    ├── SpawnError                      the actor could not be started (inner traceback attached)
    │   └── IsolationError              its module cannot load in an own-GIL interpreter
    ├── EncodeError                     an argument or result cannot be encoded; nothing was sent
    ├── DecodeError                     a received payload could not be decoded
    ├── MailboxFull                     tell_nowait() on a full mailbox; nothing was sent
    ├── ActorError                      a handler raised: remote type, message and traceback
    │   └── ActorCrashed                the actor died with the message in flight or queued
    ├── UnknownMethodError              (also AttributeError) no such public method on the actor
    ├── ActorStopped                    the actor is stopped (or stopping) and takes no messages
    ├── SupervisorGaveUp                restart intensity exceeded at the root of a supervision tree
    ├── ChildError                      (also LookupError) a supervisor refused a child operation
    ├── SystemClosed                    the ActorSystem is not running
    ├── ConfigError                     (also ValueError) a settings file or option is invalid
    └── AppError                        `interactors run`: the app cannot be found, imported or run

    HandlerTimeout (a BaseException)    injected into a handler past its handler_timeout

Every public type says ``interactors.X`` in reprs and tracebacks (``__module__`` is set to
the public package), never the private module that defines it.

    InteractorsWarning                  base of the warnings
    └── IsolationFallbackWarning        isolation="auto" fell back to a shared-GIL interpreter
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

__all__ = (
    "ActorCrashed",
    "ActorError",
    "ActorStopped",
    "AppError",
    "ChildError",
    "ConfigError",
    "DecodeError",
    "EncodeError",
    "HandlerTimeout",
    "InteractorsError",
    "InteractorsWarning",
    "IsolationError",
    "IsolationFallbackWarning",
    "MailboxFull",
    "SpawnError",
    "SupervisorGaveUp",
    "SystemClosed",
    "UnknownMethodError",
)


class InteractorsError(Exception):
    """Base class of every error raised by interactors."""


class SpawnError(InteractorsError):
    """An actor could not be started.

    ``remote_traceback`` holds the traceback formatted inside the actor's interpreter (the
    import or ``__init__``/``on_start`` failure), or ``None`` when the failure was host-side.
    """

    def __init__(self, message: str, remote_traceback: str | None = None) -> None:
        if remote_traceback:
            message = f"{message}\n\nRemote traceback:\n{remote_traceback.rstrip()}"
        super().__init__(message)
        self.remote_traceback = remote_traceback

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles whole (an actor's ``self.spawn`` gets the host's error): the message
        # already holds the remote traceback, so __init__ is not called again.
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class IsolationError(SpawnError):
    """The actor's module imports an extension that cannot load in an own-GIL interpreter.

    ``extension`` names the offending module (e.g. ``"msgspec._core"``). Spawn the actor with
    ``isolation="shared_gil"`` (or ``"auto"`` to fall back with a warning).
    """

    def __init__(self, message: str, extension: str, remote_traceback: str | None = None) -> None:
        super().__init__(message, remote_traceback)
        self.extension = extension


class EncodeError(InteractorsError, TypeError):
    """A value could not be encoded by the codec. Nothing was sent; the actor is untouched."""


class DecodeError(InteractorsError):
    """A received payload could not be decoded by the codec."""


class MailboxFull(InteractorsError):
    """The mailbox is full: ``tell_nowait`` refused the message (nothing was sent).

    Use ``await ref.tell...`` to wait for room instead, or spawn with a larger ``mailbox_size``.
    """


class ActorError(InteractorsError):
    """A handler raised an exception inside the actor.

    Attributes: ``type_name`` (qualified name of the remote exception type), ``remote_message``,
    ``remote_traceback`` (formatted in the actor's interpreter) and ``actor`` (the actor's name).
    The original exception is chained as ``__cause__`` when it could be decoded.
    """

    def __init__(
        self,
        actor: str,
        type_name: str,
        remote_message: str,
        remote_traceback: str,
    ) -> None:
        # "ActorCrashed: actor 'x' died ..." rather than "ActorCrashed: ActorCrashed: ...".
        same = type_name.rpartition(".")[2] == type(self).__name__
        prefix = "" if same else f"{type_name}: "
        super().__init__(f"{prefix}{remote_message} (in actor {actor!r})")
        self.actor = actor
        self.type_name = type_name
        self.remote_message = remote_message
        self.remote_traceback = remote_traceback

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickles with its cause (the original exception): a caller of a caller gets both.
        args = (self.actor, self.type_name, self.remote_message, self.remote_traceback)
        return type(self), args, {"__cause__": self.__cause__}

    def __str__(self) -> str:
        text = super().__str__()
        if self.remote_traceback:
            text += f"\n\nRemote traceback:\n{self.remote_traceback.rstrip()}"
        return text


class ActorCrashed(ActorError):
    """The actor died (crashed, hung and was stopped, or exited) with this message in flight."""


class UnknownMethodError(InteractorsError, AttributeError):
    """The actor has no public method of that name. The message lists the ones it has."""

    @classmethod
    def of(cls, actor: str, method: str, methods: Iterable[str]) -> UnknownMethodError:
        """The error for ``method`` sent to ``actor`` (a description), which has ``methods``."""
        names = ", ".join(sorted(methods)) or "none"
        return cls(f"actor {actor} has no public method {method!r}; it has: {names}")


class ActorStopped(InteractorsError):
    """The actor is stopped or stopping; it takes no more messages."""


class SupervisorGaveUp(InteractorsError):
    """A supervisor exceeded its restart intensity and the failure reached the root."""


class ChildError(InteractorsError, LookupError):
    """A supervisor refused ``start_child``/``terminate_child``/``restart_child``/``delete_child``.

    ``reason`` is OTP's word for why: ``"not_found"`` (no child of that name),
    ``"already_started"`` / ``"already_present"`` (the name is taken by a running / a
    terminated child: pick another name, or ``restart_child`` / ``delete_child`` it),
    ``"running"`` (restart or delete a child only once ``terminate_child`` ended it),
    ``"stopped"`` (the supervisor is stopped or gave up), ``"max_children"`` (a dynamic
    supervisor runs as many instances as it may), ``"simple_one_for_one"``
    (``restart_child``/``delete_child`` are not supported on a dynamic supervisor).
    ``child`` is the child's name.
    """

    def __init__(self, message: str, reason: str, child: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.child = child


class SystemClosed(InteractorsError):
    """The ActorSystem is not running (not entered yet, or already shut down)."""


class ConfigError(InteractorsError, ValueError):
    """A config file or option is unreadable or invalid; the message names the key."""


class AppError(InteractorsError):
    """The app named on the command line cannot be found, imported or run."""


class HandlerTimeout(BaseException):
    """Injected into a handler that ran longer than the actor's ``handler_timeout``.

    A BaseException, so that handlers catching ``Exception`` do not swallow it.
    """


class ActorInterrupted(BaseException):
    """Private: injected into a running handler when its actor is being stopped.

    A BaseException (like :class:`HandlerTimeout`), so handlers catching ``Exception`` do
    not swallow it. The asker of the interrupted message gets ``ActorCrashed``.
    """


class InteractorsWarning(UserWarning):
    """Base class of interactors' warnings."""


class IsolationFallbackWarning(InteractorsWarning):
    """``isolation="auto"`` started an actor in a shared-GIL interpreter; the message says why."""


for _public in __all__:
    globals()[_public].__module__ = "interactors"
del _public
