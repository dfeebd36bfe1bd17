"""interactors: actors in sub-interpreters with their own GIL, with OTP-style supervision.

Host-side names (``ActorSystem``, ``ActorRef``, ``run``, ...) are imported lazily: this
package is also imported inside every actor's interpreter (actor classes subclass
``interactors.Actor``), where only the stdlib-only parts are needed and anyio and msgspec
should not be loaded.
"""

from __future__ import annotations

from ._actor import Actor as Actor
from ._exceptions import ActorCrashed as ActorCrashed
from ._exceptions import ActorError as ActorError
from ._exceptions import ActorStopped as ActorStopped
from ._exceptions import AppError as AppError
from ._exceptions import ChildError as ChildError
from ._exceptions import ConfigError as ConfigError
from ._exceptions import DecodeError as DecodeError
from ._exceptions import EncodeError as EncodeError
from ._exceptions import HandlerTimeout as HandlerTimeout
from ._exceptions import InteractorsError as InteractorsError
from ._exceptions import InteractorsWarning as InteractorsWarning
from ._exceptions import IsolationError as IsolationError
from ._exceptions import IsolationFallbackWarning as IsolationFallbackWarning
from ._exceptions import MailboxFull as MailboxFull
from ._exceptions import SpawnError as SpawnError
from ._exceptions import SupervisorGaveUp as SupervisorGaveUp
from ._exceptions import SystemClosed as SystemClosed
from ._exceptions import UnknownMethodError as UnknownMethodError
from ._version import __version__ as __version__
from ._wire.codec import MsgspecCodec as MsgspecCodec
from ._wire.codec import PickleCodec as PickleCodec

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Any

if TYPE_CHECKING:
    from ._host.blocking import BlockingActorSystem as BlockingActorSystem
    from ._host.blocking_refs import BlockingActorRef as BlockingActorRef
    from ._host.blocking_tree import BlockingActorPool as BlockingActorPool
    from ._host.blocking_tree import BlockingSupervisorRef as BlockingSupervisorRef
    from ._host.log_levels import refresh_log_levels as refresh_log_levels
    from ._host.ref import ActorRef as ActorRef
    from ._host.run import run as run
    from ._host.statistics import ActorStatistics as ActorStatistics
    from ._host.statistics import SystemStatistics as SystemStatistics
    from ._host.system import ActorSystem as ActorSystem
    from ._inside.children import PendingSpawn as PendingSpawn
    from ._inside.peer import PeerRef as PeerRef
    from ._inside.peer import PendingReply as PendingReply
    from ._inside.peer_pool import PeerPool as PeerPool
    from ._supervision.admin import ChildCounts as ChildCounts
    from ._supervision.admin import ChildInfo as ChildInfo
    from ._supervision.dynamic import DynamicSupervisor as DynamicSupervisor
    from ._supervision.pool_spec import Pool as Pool
    from ._supervision.ref import ActorPool as ActorPool
    from ._supervision.ref import PoolStatistics as PoolStatistics
    from ._supervision.ref import SupervisorRef as SupervisorRef
    from ._supervision.spec import Backoff as Backoff
    from ._supervision.spec import ChildSpec as ChildSpec
    from ._supervision.spec import Supervisor as Supervisor
    from ._wire.codec_protocol import Codec as Codec

_LAZY = {
    "Codec": "._wire.codec_protocol",
    "BlockingActorPool": "._host.blocking_tree",
    "BlockingActorRef": "._host.blocking_refs",
    "BlockingActorSystem": "._host.blocking",
    "BlockingSupervisorRef": "._host.blocking_tree",
    "Backoff": "._supervision.spec",
    "ChildSpec": "._supervision.spec",
    "DynamicSupervisor": "._supervision.dynamic",
    "Supervisor": "._supervision.spec",
    "SupervisorRef": "._supervision.ref",
    "ChildCounts": "._supervision.admin",
    "ChildInfo": "._supervision.admin",
    "ActorPool": "._supervision.ref",
    "PoolStatistics": "._supervision.ref",
    "Pool": "._supervision.pool_spec",
    "ActorRef": "._host.ref",
    "ActorStatistics": "._host.statistics",
    "ActorSystem": "._host.system",
    "SystemStatistics": "._host.statistics",
    "run": "._host.run",
    "refresh_log_levels": "._host.log_levels",
    "PeerPool": "._inside.peer_pool",
    "PeerRef": "._inside.peer",
    "PendingReply": "._inside.peer",
    "PendingSpawn": "._inside.children",
}

__all__ = (
    "Actor",
    "ActorCrashed",
    "ActorError",
    "ActorPool",
    "ActorRef",
    "ActorStatistics",
    "ActorStopped",
    "ActorSystem",
    "AppError",
    "Backoff",
    "BlockingActorPool",
    "BlockingActorRef",
    "BlockingActorSystem",
    "BlockingSupervisorRef",
    "ChildCounts",
    "ChildError",
    "ChildInfo",
    "ChildSpec",
    "Codec",
    "ConfigError",
    "DecodeError",
    "DynamicSupervisor",
    "EncodeError",
    "HandlerTimeout",
    "InteractorsError",
    "InteractorsWarning",
    "IsolationError",
    "IsolationFallbackWarning",
    "MailboxFull",
    "MsgspecCodec",
    "PeerPool",
    "PeerRef",
    "PendingReply",
    "PendingSpawn",
    "PickleCodec",
    "Pool",
    "PoolStatistics",
    "SpawnError",
    "Supervisor",
    "SupervisorGaveUp",
    "SupervisorRef",
    "SystemClosed",
    "SystemStatistics",
    "UnknownMethodError",
    "__version__",
    "refresh_log_levels",
    "run",
)


def __getattr__(name: str) -> Any:
    from importlib import import_module

    if name == "testing":  # the submodule, as `import interactors.testing` would give it
        value = import_module(".testing", __name__)
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'interactors' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
