"""Serve the wizard as production does (gunicorn, CSRF checked), talk to it by HTTP."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a loopback port nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def migrate(env: dict[str, str]) -> None:
    """Build the schema with the real `flask db upgrade` command."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wizard", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def run_python(
    env: dict[str, str], *args: str, check: bool = False
) -> "subprocess.CompletedProcess[str]":
    """Run Python in the repository with this environment; capture what it says."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=check,
    )


def import_wsgi(env: dict[str, str]) -> "subprocess.CompletedProcess[str]":
    """Import the production entry point the way gunicorn does, in a fresh process."""
    return run_python(env, "-c", "import wsgi")


def wizard_environment(settings: dict[str, Any]) -> dict[str, str]:
    """Return this process's environment with the settings as WIZARD_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIZARD_")}
    env |= {f"WIZARD_{key}": str(value) for key, value in settings.items()}
    # Served like production: not in testing mode, CSRF checked, a poller per worker.
    env["WIZARD_TESTING"] = "false"
    env["WIZARD_WTF_CSRF_ENABLED"] = "true"
    env["WIZARD_POLLER"] = "true"
    return env


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(session: requests.Session, url: str) -> requests.Response:
    """Send a form the way a browser does: the page's CSRF token, no redirects."""
    token = csrf_token(session.get(url, timeout=10).text)
    return session.post(
        url, data={"csrf_token": token}, allow_redirects=False, timeout=30
    )


def wait_until_done(session: requests.Session, status_url: str) -> dict[str, Any]:
    """Poll the status like the page's script does, until it stops waiting."""
    for _ in range(100):
        result = session.get(status_url, timeout=10).json()
        if result["state"] != "waiting":
            return result
        threading.Event().wait(0.2)
    raise AssertionError("the attempt never finished")


def signed_in_session(base_url: str, email: str, password: str) -> requests.Session:
    """Sign in to a served wizard through its form (CSRF token and all)."""
    session = requests.Session()
    page = session.get(f"{base_url}/sign-in", timeout=10)
    session.post(
        f"{base_url}/sign-in",
        data={
            "email": email,
            "password": password,
            "csrf_token": csrf_token(page.text),
        },
        timeout=10,
    ).raise_for_status()
    return session


@contextmanager
def gunicorn(
    env: dict[str, str],
    workers: int = 2,
    port: int | None = None,
    started: list["subprocess.Popen[bytes]"] | None = None,
) -> Iterator[str]:
    """Serve wsgi:app with gunicorn (on a free port unless given); yield its URL.

    ``started`` receives the master process, for tests that kill its workers.
    """
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--graceful-timeout",
        "2",
        "wsgi:app",
    ]
    log = open(env.get("GUNICORN_LOG", os.devnull), "w")  # noqa: SIM115
    # gunicorn's control socket lives in XDG_RUNTIME_DIR (else ~/.gunicorn): give
    # each instance its own, or instances run side by side take each other's.
    runtime = tempfile.TemporaryDirectory(prefix="gunicorn-")
    env = env | {"XDG_RUNTIME_DIR": runtime.name}
    try:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    except OSError:
        log.close()
        runtime.cleanup()
        raise
    if started is not None:
        started.append(process)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base_url}/sign-in", timeout=5).close()
                break
            except (requests.ConnectionError, requests.Timeout):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        runtime.cleanup()


def press_at_once(
    session: requests.Session,
    urls: list[str],
    timeout: float = 60,
    data: dict[str, str] | None = None,
) -> list[requests.Response]:
    """Post one form from many copies of a signed-in browser at the same moment.

    Each URL gets its own request (with the page's CSRF token and ``data``); a
    barrier releases them together, as when many people press Test connection at once.
    """
    with pressing_at_once(session, urls, timeout, data) as answers:
        pass
    return answers


@contextmanager
def pressing_at_once(
    session: requests.Session,
    urls: list[str],
    timeout: float = 60,
    data: dict[str, str] | None = None,
) -> Iterator[list[requests.Response]]:
    """Press as press_at_once does; the block runs while the requests are in flight.

    For tests that hold one of them at the sandbox and look at the others before
    letting it go; the answers are all in once the block has ended.
    """
    token = csrf_token(session.get(urls[0], timeout=timeout).text)
    barrier = threading.Barrier(len(urls))
    answers: list[requests.Response] = []

    def press(url: str) -> None:
        with requests.Session() as own:
            own.cookies.update(session.cookies)
            own.headers.update(session.headers)
            barrier.wait()
            form = (data or {}) | {"csrf_token": token}
            answers.append(own.post(url, data=form, timeout=timeout))

    threads = [threading.Thread(target=press, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    try:
        yield answers
    finally:
        for thread in threads:
            thread.join()
