"""A Ctrl-C that CPython handles while the main thread sleeps on an ask's answer.

``python ctrl_c_elsewhere.py isolated|process|call``: a BlockingActorSystem asks an actor
(of that isolation) that never answers (it naps in C), or ``call`` runs a 600 s sleep on
the system's loop; 0.3 s later a helper thread sends itself SIGINT. The
handler then runs in the helper, and the main thread, asleep in ``result()``, is not
woken by the signal: what happens to a Ctrl-C that lands just as a wait begins. The
script prints ``waiting``, then ``interrupted after S s`` once the KeyboardInterrupt
reaches it. Stdlib and interactors only.
"""

from __future__ import annotations

import signal
import sys
import threading
import time

import anyio

import interactors


class Napper(interactors.Actor):
    def nap(self) -> None:
        time.sleep(600)


def poke() -> None:
    time.sleep(0.3)
    signal.pthread_kill(threading.get_ident(), signal.SIGINT)


if __name__ == "__main__":
    with interactors.BlockingActorSystem(shutdown_timeout=0.5) as system:
        if sys.argv[1] != "call":
            napper = system.spawn(Napper, isolation=sys.argv[1])
            answer = napper.ask.nap()
        threading.Thread(target=poke, daemon=True).start()
        print("waiting", flush=True)
        started = time.monotonic()
        try:
            if sys.argv[1] == "call":
                system.call(anyio.sleep, 600)
            else:
                answer.result()
        except KeyboardInterrupt:
            print(f"interrupted after {time.monotonic() - started:.2f} s", flush=True)
