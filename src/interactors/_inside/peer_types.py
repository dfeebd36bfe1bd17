"""What type checkers see of ``peer.ask`` / ``tell`` / ``tell_nowait`` (``_PeerMethods``).

Imported only by type checkers: inside actors the real objects are ``peer._PeerMethods``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # nothing here at run time (empty bodies, as in a stub)
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

    from .peer import PendingReply, _Sent

    A = TypeVar("A", default=Any)
    R = TypeVar("R", default=Any)
    Params = ParamSpec("Params")

    class _PeerAsk(Generic[A]):
        def __getattr__(self, method: str) -> Any: ...
        @overload
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], Awaitable[R]],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> PendingReply[R]: ...
        @overload
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], R],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> PendingReply[R]: ...
        def __call__(self, method: Any, /, *args: Any, **kwargs: Any) -> Any: ...

    class _PeerTell(Generic[A]):
        def __getattr__(self, method: str) -> Any: ...
        def __call__(
            self,
            method: Callable[Concatenate[A, Params], object],
            /,
            *args: Params.args,
            **kwargs: Params.kwargs,
        ) -> _Sent: ...
