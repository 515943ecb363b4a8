"""Background threads carry their names to the kernel, where tests and top see them."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from wizard.platform import threads


def _kernel_name() -> str:
    """The calling thread's name as /proc shows it."""
    return Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip()


def test_a_background_thread_is_named_for_the_kernel() -> None:
    seen: list[str] = []
    thread = threads.background("presence", lambda: seen.append(_kernel_name()))
    thread.start()
    thread.join()
    assert seen == ["bg-presence"]
    assert thread.daemon and thread.name == "bg-presence"


def test_a_long_name_is_cut_to_what_the_kernel_keeps() -> None:
    seen: list[str] = []
    thread = threads.background("a-very-long-name", lambda: seen.append(_kernel_name()))
    thread.start()
    thread.join()
    assert seen == ["bg-a-very-long-"]  # 15 bytes


def test_a_pools_threads_take_the_name_as_they_start() -> None:
    with ThreadPoolExecutor(
        1, initializer=threads.name_this_thread, initargs=("poll",)
    ) as pool:
        assert pool.submit(_kernel_name).result() == "bg-poll"
    assert not _kernel_name().startswith(threads.PREFIX)  # the caller keeps its own
