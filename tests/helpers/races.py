"""Watch a race from outside the processes in it: who holds, who waits (Linux /proc).

A test holds one side of a race (a request at the sandbox, a lock) and then needs
facts, not guesses: which process sent the held request, which one holds the
database lock, how many callers wait at that lock right now.
"""

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask

from wizard.platform import threads
from wizard.platform.extensions import db
from wizard.sandbox.testing import held
from wizard.sandbox.testing import held_ports
from wizard.sandbox.testing import release
from wizard.sandbox.testing import wait_until_held

# SQLite's WAL write lock is this byte of the -shm file (WALINDEX_LOCK_OFFSET).
WAL_WRITE_LOCK_BYTE = 120


def wait_for(condition: Callable[[], bool], what: str, within: float = 30.0) -> None:
    """Wait until ``condition()`` holds; fail naming ``what`` if it never does.

    ``within`` only bounds a test that is already broken; nothing is timed by it.
    """
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def workers_of(master: "subprocess.Popen[bytes]") -> list[int]:
    """Return the pids of a gunicorn master's workers (its children), from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == master.pid:
                children.append(int(entry.name))
    return children


def _sockets(local_port: int, remote_port: int) -> set[str]:
    """Return the socket inodes of TCP connections from local_port to remote_port."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local = int(fields[1].rsplit(":", 1)[1], 16)
            remote = int(fields[2].rsplit(":", 1)[1], 16)
            if (local, remote) == (local_port, remote_port):
                found.add(f"socket:[{fields[9]}]")
    return found


def owner_of_connection(pids: list[int], local_port: int, remote_port: int) -> int:
    """Return the one process among ``pids`` whose socket is local_port->remote_port.

    A TCP connection's ports name it on this host: this is exact, unlike "some
    connection to that server" (a pooled keep-alive one would count too).
    """
    wanted = _sockets(local_port, remote_port)
    owners = []
    for pid in pids:
        try:
            descriptors = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        except OSError:
            continue
        if wanted & descriptors:
            owners.append(pid)
    assert len(owners) == 1, f"connection {local_port}->{remote_port}: {owners}"
    return owners[0]


def sender_of_held(cc: str, endpoint: str, pids: list[int]) -> int:
    """Return the process that sent the one request the sandbox holds at endpoint."""
    ports = held_ports(cc, endpoint)
    assert len(ports) == 1, f"held at {endpoint}: {ports}"
    return owner_of_connection(pids, ports[0], urlsplit(cc).port or 80)


def lock_holder(app: Flask, pids: list[int]) -> int:
    """Return the process among ``pids`` holding the integration row's lock.

    PostgreSQL: the one backend holding a FOR UPDATE (RowShareLock) on the table
    that waits for nothing, traced to its client by its port. SQLite: the process
    holding the WAL write lock (a byte of the -shm file), from /proc/locks.
    """
    with app.app_context():
        engine = db.engine
        url = engine.url
        if engine.dialect.name == "sqlite":
            shm = os.stat(f"{url.database}-shm")
        else:
            with engine.connect() as connection:
                ports = connection.execute(
                    sa.text(
                        "SELECT a.client_port FROM pg_locks l "
                        "JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.relation = 'integration'::regclass "
                        "AND l.mode = 'RowShareLock' AND l.granted "
                        "AND a.wait_event_type IS DISTINCT FROM 'Lock'"
                    )
                ).scalars()
                ports = list(ports)
            assert len(ports) == 1, f"row lock holders: {ports}"
            return owner_of_connection(pids, ports[0], url.port or 5432)
    device = f"{os.major(shm.st_dev):02x}:{os.minor(shm.st_dev):02x}:{shm.st_ino}"
    holders = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if fields[1:4] == ["POSIX", "ADVISORY", "WRITE"] and fields[5] == device:
            if int(fields[6]) == WAL_WRITE_LOCK_BYTE and int(fields[4]) in pids:
                holders.append(int(fields[4]))
    assert len(holders) == 1, f"SQLite write lock holders: {holders}"
    return holders[0]


def _sleeping_threads(pids: list[int], tids: set[int] | None) -> set[tuple[int, int]]:
    """Return the (pid, tid) of request threads sleeping in the kernel's nanosleep
    (a worker's background threads, named "bg-...", may wait at the lock too)."""
    sleeping = set()
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            if tids is not None and int(task.name) not in tids:
                continue
            try:
                wchan = (task / "wchan").read_text()
                name = (task / "comm").read_text()
            except OSError:
                continue
            if "nanosleep" in wchan and not name.startswith(threads.PREFIX):
                sleeping.add((pid, int(task.name)))
    return sleeping


def wait_until_waiting_at_the_lock(
    app: Flask, count: int, pids: list[int], tids: set[int] | None = None
) -> None:
    """Wait until ``count`` callers wait for the integration row's lock; fail if not.

    PostgreSQL says so itself: a backend whose FOR UPDATE waits on a Lock. SQLite
    keeps no list of waiters: a connection that finds the write lock taken sleeps
    in its busy handler (the kernel's nanosleep) and tries again, and nothing else
    in a request thread sleeps that way (gunicorn's threads wait in epoll or on
    futexes; the poller and presence writer, which may want the lock too, are left
    out by name).
    Once seen there, a thread stays at the lock while the holder holds it, so the
    threads seen at any sample add up. ``tids`` narrows SQLite's watch to threads of
    this process (the test's own threads sleep too).
    """
    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":

            def waiting() -> int:
                with engine.connect() as connection:
                    return connection.execute(
                        sa.text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' "
                            "AND query ILIKE '%FOR UPDATE%'"
                        )
                    ).scalar_one()

            wait_for(lambda: waiting() >= count, f"{count} waiting at the row lock")
            assert waiting() == count
            return
    seen: set[tuple[int, int]] = set()

    def all_seen() -> bool:
        seen.update(_sleeping_threads(pids, tids))
        return len(seen) >= count

    wait_for(all_seen, f"{count} waiting at SQLite's write lock: saw {seen}")
    assert len(seen) == count, seen


def one_refresh_for_all(
    app: Flask, cc: str, waiting: int, masters: list["subprocess.Popen[bytes]"]
) -> None:
    """Wait until the sandbox holds one refresh and ``waiting`` callers in the
    masters' workers wait at the row lock for it; then let the refresh go.

    The test has held refreshes at the sandbox (``hold``) before pressing.
    """
    try:
        wait_until_held(cc, "token", 1)
        workers = [pid for master in masters for pid in workers_of(master)]
        wait_until_waiting_at_the_lock(app, waiting, workers)
        assert held(cc, "token") == {"taken": 1, "waiting": 1}
    finally:
        release(cc, "token")


def room_for(callers: int) -> dict[str, Any]:
    """Served settings that let ``callers`` requests all be in flight at once.

    Each worker gets a thread and a pooled database connection per caller (gunicorn
    may hand one worker all of them), and a call to Constant Contact may last longer
    than the test holds it: a held refresh waits for the test, never times out.
    """
    return {
        "THREADS": callers,
        "SQLALCHEMY_ENGINE_OPTIONS": json.dumps(
            {"hide_parameters": True, "pool_size": callers}
        ),
        "CC_HTTP_TIMEOUT_SECONDS": 60,
        "CC_REQUEST_BUDGET_SECONDS": 60,
    }
