"""The threads' stand-in for an actor: a thread answering on a pair of ``SimpleQueue``s."""

from __future__ import annotations

import queue
import threading
from typing import Any


class EchoThread:
    """A thread sending back whatever arrives on its inbox, until it gets ``None``."""

    def __init__(self, name: str) -> None:
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name=name)
        self.thread.start()

    def _serve(self) -> None:
        inbox, outbox = self.inbox, self.outbox
        while (item := inbox.get()) is not None:
            outbox.put(item)

    def ask(self, item: Any) -> Any:
        self.inbox.put(item)
        return self.outbox.get()

    def stop(self) -> None:
        self.inbox.put(None)
        self.thread.join()
