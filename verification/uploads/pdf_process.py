"""The separate process the structural PDF screen (``pdf_objects``) runs in, so its time and memory have hard
limits.

pypdf is pure Python and cannot be interrupted in a thread: it parses a string at about a microsecond a byte
(a 4 MiB string took 4 s), and a 60 KiB file whose object stream inflates to 60 MiB took it a minute and
1.3 GiB in-process. So ``screen_objects_in_child`` hands the file to a process forked from a fork server that
has pypdf imported already (a fork costs milliseconds, not an interpreter's start), which limits its own CPU
time (``RLIMIT_CPU``) and the memory it may add (``RLIMIT_AS``); the parent waits at most ``WALL_SECONDS``
and then kills it. A child that runs out of time or memory, or dies, is ``pdf_unsupported``.
"""

from __future__ import annotations

import multiprocessing
import resource
from multiprocessing.connection import Connection

from verification.errors import InvalidValue
from verification.uploads.limits import MIB
from verification.uploads.pdf_objects import REFUSALS, screen_objects, unsupported

CPU_SECONDS = 4
WALL_SECONDS = 6.0
MEMORY_GROWTH = 128 * MIB  # what the child may allocate beyond what it was forked with

# The fork server is one single-threaded process started on first use: forking it is safe where forking this
# (threaded) process would not be. It imports this module and the main module once (every entry point guards
# its main code: the `idv` script, pytest, `python -m service`, whose package __main__ multiprocessing never
# imports again), so a child has nothing left to import.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["__main__", __name__])


def screen_objects_in_child(data: bytes) -> int:
    """``pdf_objects.screen_objects`` in a child process with hard limits; raise InvalidValue as it does."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(target=_screen_in_child, args=(sender, data), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(WALL_SECONDS):
            raise unsupported()
        outcome, value = receiver.recv()
    except (EOFError, OSError):  # it died: killed at its CPU limit, or out of memory
        raise unsupported() from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if outcome == "pages" and isinstance(value, int):
        return value
    raise REFUSALS.get(value, unsupported)()


def _screen_in_child(sender: Connection, data: bytes) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    limit = _address_space() + MEMORY_GROWTH
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        outcome: tuple[str, int | str] = ("pages", screen_objects(data))
    except InvalidValue as refused:
        outcome = ("refused", refused.code)
    sender.send(outcome)
    sender.close()


def _address_space() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
