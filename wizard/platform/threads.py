"""Background threads under names the kernel shows (top -H, py-spy, /proc).

A request thread and a background thread look alike to the kernel unless named:
operators reading `top -H`, and tests counting the threads that wait at a lock,
tell them apart by these names. Every background thread's name starts "bg-".
"""

import ctypes
import ctypes.util
import threading
from collections.abc import Callable

PREFIX = "bg-"
_PR_SET_NAME = 15  # linux/prctl.h
_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def name_this_thread(name: str) -> None:
    """Give the calling thread its kernel name, "bg-" + name (15 bytes at most)."""
    label = (PREFIX + name).encode()[:15]
    try:
        _libc.prctl(_PR_SET_NAME, label, 0, 0, 0)
    except AttributeError:  # no prctl (not Linux): the name is only for people
        pass


def background(name: str, work: Callable[..., None], *args: object) -> threading.Thread:
    """Return a daemon thread (not started) that runs work(*args) under its name."""

    def run() -> None:
        name_this_thread(name)
        work(*args)

    return threading.Thread(target=run, name=PREFIX + name, daemon=True)
