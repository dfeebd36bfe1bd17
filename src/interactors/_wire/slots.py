"""Per-actor counters in memory shared by the host and the actors' interpreters.

An actor writes its counters (messages handled, errors, the message in flight and since
when) into a slot of a ``memfd``-backed ``mmap``; the host reads them for statistics and
for the hang watchdog without sending the actor a message. Slots are unsigned 64-bit
fields. Stdlib only: imported inside actors' interpreters. The host hands slots out with
``_host/slot_area.py``.
"""

from __future__ import annotations

import mmap

TYPE_CHECKING = False  # typing is not imported at run time: actors import this
if TYPE_CHECKING:
    from typing import Final


FIELDS: Final = 21
HANDLED: Final = 0
ERRORS: Final = 1
CURRENT_SEQ: Final = 2  # sequence number of the message being handled, 0 when idle
BUSY_SINCE: Final = 3  # time.monotonic_ns() when it started
IN_FLIGHT_ASK: Final = 4  # msg_id of the ask being handled, 0 for none
PARKED: Final = 5  # 1 while the worker sleeps on its wake-up fd
INCARNATION: Final = 6  # bumped by the worker at each (re)start
OWNER: Final = 7  # token of the worker the host listens to; others must leave
REPLY_PARKED: Final = 8  # 1 while the worker waits for replies to its own asks
HEARTBEAT: Final = 9  # monotonic_ns of an async actor's loop's last tick, 0 when none
INTERRUPT: Final = 10  # set by the host to break a running handler: INTERRUPT_STOP or _TERMINATE
FAILING_STARTS: Final = 11  # starts left to fail (testing.fail_next_start); outlives workers
# Batches of the host's tells (backend.put_batch), written by the worker only; they outlive
# workers, so a restarted actor goes on with the batch its last incarnation was handling.
BATCH_ITEM: Final = 12  # the batch being handled, 0 for none
BATCH_BASE: Final = 13  # BATCH_TAKEN when it was taken
BATCH_ITEMS: Final = 14  # batches taken from the mailbox, ever
BATCH_TAKEN: Final = 15  # messages of batches begun, ever (the host counts what it put)
# Where the answer to the ask in flight goes when another actor asked it (0 for the host's
# asks and tells): ``reply_qid << PEER_SHIFT | reply_fd``. Should the worker die or be
# abandoned with it, the host answers that actor (its asks never hang either).
IN_FLIGHT_PEER: Final = 16
PEER_SHIFT: Final = 20  # above any fd a queue item can name (_arena's _FD_BITS is 17)
# Set by the host, in the slot whose PARKED flag an actor's address names, when the actor
# is gone for good, before it takes what is left in the mailbox to refuse it. A sender
# that puts on a mailbox reads it after the put: set, the put may have come after that
# take (the queue is destroyed later, with what is in it), so the sender treats the actor
# as stopped; not set, the host's take comes after the put and answers an ask.
CLOSED: Final = 17
# The PARKED flag code of the actor this one waits for, synchronously, to answer its ask
# (0 when none): see _inside/waiting.py, which refuses a cycle of such waits.
WAITING_ON: Final = 18
# The id of the ask it waits for then, and the id of the last answer another actor put for
# it (written by that actor before the put): equal, its wait is over, though it may wake
# only later, so it is no link of a cycle.
WAITING_MSG: Final = 19
ANSWERED: Final = 20

# Values of INTERRUPT: why the host breaks the running handler.
INTERRUPT_STOP: Final = 1  # ref.stop() / shutdown: the actor leaves for good
INTERRUPT_TERMINATE: Final = 2  # a supervisor ends the incarnation (a restart follows)


def closed_code(parked_code: int) -> int:
    """The CLOSED flag of the slot whose PARKED flag ``parked_code`` names (a flag code,
    or a field index in a view of the slots: the same offset)."""
    return parked_code - PARKED + CLOSED


def waits_on_code(parked_code: int) -> int:
    """The WAITING_ON field of the slot whose PARKED flag ``parked_code`` names (the
    WAITING_MSG and ANSWERED fields follow it)."""
    return parked_code - PARKED + WAITING_ON


def answered_code(reply_parked_code: int) -> int:
    """The ANSWERED field of the slot whose REPLY_PARKED flag ``reply_parked_code`` names
    (the flag an actor's asks carry, for its answer's wake-up)."""
    return reply_parked_code - REPLY_PARKED + ANSWERED


def flag_code(fd: int, field: int) -> int:
    """One int naming a flag field (chunk fd and field index), for envelopes; -1 = none."""
    return fd << 16 | field


SLOTS_PER_CHUNK: Final = 128
CHUNK_BYTES: Final = SLOTS_PER_CHUNK * FIELDS * 8


def slot_fields(fd: int, index: int) -> tuple[mmap.mmap, memoryview, int]:
    """Map chunk ``fd``; return the map, a u64 view and the first field index of the slot."""
    area = mmap.mmap(fd, CHUNK_BYTES)
    return area, memoryview(area).cast("Q"), index * FIELDS
