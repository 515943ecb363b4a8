"""Benchmark the wizard under gunicorn on PostgreSQL beside a bare Flask baseline.

Run by hand (not part of `make test`), on a quiet machine:

    .venv/bin/python bench/run.py            # everything, about 8 minutes
    .venv/bin/python bench/run.py --quick    # shorter runs, for trying changes

Needs wrk (Debian's package `wrk`) and PostgreSQL (BENCH_DATABASE_SERVER, default
postgresql://postgres@127.0.0.1:5432; a database `wizard_bench` is made afresh).
Prints each result as it is measured and writes bench/results/latest.json.
"""

import argparse
import concurrent.futures
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.live import csrf_token  # noqa: E402
from tests.helpers.live import free_port  # noqa: E402
from tests.helpers.live import migrate  # noqa: E402
from tests.helpers.live import press_at_once  # noqa: E402
from tests.helpers.live import signed_in_session  # noqa: E402
from tests.helpers.live import wizard_environment  # noqa: E402
from tests.helpers.sandbox import sandbox_settings  # noqa: E402
from wizard.sandbox.testing import approve_device  # noqa: E402
from wizard.sandbox.testing import create_application  # noqa: E402
from wizard.sandbox.testing import get_stats  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432")
PASSWORD = "bench-password-1"
OWNER = "owner@bench.example"
CROWD = "crowd@bench.example"
LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
USER_AGENT = requests.utils.default_user_agent()


def fresh_database() -> str:
    """Make an empty database for this run; return its URL."""
    engine = sa.create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("DROP DATABASE IF EXISTS wizard_bench WITH (FORCE)"))
        connection.execute(sa.text("CREATE DATABASE wizard_bench"))
    engine.dispose()
    return f"{SERVER}/wizard_bench"


def wait_for(url: str, process: subprocess.Popen) -> None:
    """Wait until a server answers."""
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=2).close()
            return
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not start") from None
            time.sleep(0.1)


@contextmanager
def serve(
    command: list[str], probe: str, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen]:
    """Run a server process until the block ends."""
    with open(log, "w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_for(probe, process)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


def gunicorn(app: str, port: int, workers: int) -> list[str]:
    """Return the command serving a WSGI app with the production settings."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        app,
    ]


def wrk(
    url: str,
    connections: int,
    seconds: float,
    cookie: str | None = None,
    script: list[str] | None = None,
) -> dict[str, Any]:
    """Run wrk; return requests/s, p50 and p99 in ms, and errors."""
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{round(seconds)}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if cookie:
        # The same User-Agent as the session's: Flask-Login's strong session
        # protection ends a session whose browser changes.
        command += ["-H", f"Cookie: {cookie}", "-H", f"User-Agent: {USER_AGENT}"]
    if script:
        command += ["-s", script[0], url, "--", *script[1:]]
    else:
        command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    latency = {p: float(v) * UNITS[u] for p, v, u in LATENCY.findall(output)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    total = int(re.search(r"(\d+) requests in", output)[1])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": round(rate, 1),
        "p50_ms": round(latency["50"], 2),
        "p99_ms": round(latency["99"], 2),
        "requests": total,
        "non_2xx_3xx": int(bad[1]) if bad else 0,
        "socket_errors": sockets[1] if sockets else "",
    }


def memory_mb(master: subprocess.Popen) -> dict[str, list[float]]:
    """Return each worker's resident, proportional and private memory, in MB.

    Resident (RSS) counts pages shared with the master and the other workers in
    full; proportional (PSS) splits them among their sharers; private (USS) is
    what stopping that worker would free.
    """
    output = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master.pid)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sizes: dict[str, list[float]] = {"rss": [], "pss": [], "uss": []}
    for pid in output.split():
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value, *_ = line.split()
            fields[name.rstrip(":")] = int(value)
        private = fields["Private_Clean"] + fields["Private_Dirty"]
        for key, kb in (
            ("rss", fields["Rss"]),
            ("pss", fields["Pss"]),
            ("uss", private),
        ):
            sizes[key].append(round(kb / 1024, 1))
    return sizes


def session_cookie(session: requests.Session) -> str:
    """Return a signed-in session as a Cookie header value."""
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def post_form(
    session: requests.Session, url: str, data: dict[str, str] | None = None
) -> requests.Response:
    """Send a page's form with its CSRF token, without following the redirect."""
    token = csrf_token(session.get(url, timeout=30).text)
    return session.post(
        url,
        data={"csrf_token": token, **(data or {})},
        allow_redirects=False,
        timeout=30,
    )


def new_integration(session: requests.Session, base: str, api_key: str) -> int:
    """Go through Start now and step 1; return the draft's id."""
    started = post_form(
        session, f"{base}/integrations/new", {"token": secrets.token_hex(16)}
    )
    integration_id = int(started.headers["Location"].split("/")[2])
    post_form(
        session,
        f"{base}/integrations/{integration_id}/api-key",
        {"flow": "device", "api_key": api_key},
    )
    return integration_id


def start_attempt(session: requests.Session, base: str, integration_id: int) -> str:
    """Finish steps 2-3 if needed and start step 4; return the attempt's path."""
    response = post_form(session, f"{base}/integrations/{integration_id}/authorize")
    return urlsplit(response.headers["Location"]).path


def seed_pages(base: str, cc: str) -> dict[str, Any]:
    """Make the Bench organization's pages: a draft, a waiting attempt, an active."""
    session = signed_in_session(base, OWNER, PASSWORD)
    from wizard.sandbox import seed

    ids = []
    for _ in range(3):
        key = create_application(cc)["api_key"]
        integration_id = new_integration(session, base, key)
        ids.append(integration_id)
    draft, waiting, active = ids
    for integration_id in (waiting, active):
        post_form(
            session,
            f"{base}/integrations/{integration_id}/list-id",
            {"list_id": seed.NEWSLETTER_LIST_ID},
        )
        post_form(session, f"{base}/integrations/{integration_id}/check")
    waiting_path = start_attempt(session, base, waiting)
    active_path = start_attempt(session, base, active)
    page = session.get(f"{base}{active_path}", timeout=30).text
    code = re.search(r'id="activation-code"[^>]*>([A-Z]{4})-([A-Z]{4})<', page)
    approve_device(cc, code[1] + code[2])
    for _ in range(100):
        state = session.get(f"{base}{active_path}/status", timeout=30).json()
        if state["state"] != "waiting":
            break
        time.sleep(0.5)
    assert state["state"] == "done", state
    return {
        "session": session,
        "draft": draft,
        "active": active,
        "status_path": f"{waiting_path}/status",
    }


def status_script(paths: list[str], pause_ms: int) -> list[str]:
    """Return wrk's -s arguments for status checks that send tickets back."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths) + "\n")
    return [str(ROOT / "bench" / "status.lua"), listing.name, "2", str(pause_ms)]


def measure_pages(
    base: str, baseline: str, seeded: dict[str, Any], seconds: float
) -> list[dict[str, Any]]:
    """Each page and the baseline of the same size, at 32 connections."""
    cookie = session_cookie(seeded["session"])
    pages = [
        ("Sign-in page", "/sign-in", None, "page"),
        ("Integrations, signed in", "/integrations", cookie, "page"),
        ("Step 2 page", f"/integrations/{seeded['draft']}/list-id", cookie, "page"),
        # The page's script sends back each answer's ticket (bench/status.lua).
        ("Step 4 status poll", seeded["status_path"], cookie, "json", True),
        ("Step 4 status poll, no ticket", seeded["status_path"], cookie, "json"),
        (
            "Callback (unknown state; its 303 to the bare path)",
            "/callback/constant-contact-auth?code=abc&state=unknown",
            cookie,
            "page",
        ),
    ]
    rows = []
    for name, path, page_cookie, kind, *ticketed in pages:
        script = status_script([path], 0) if ticketed else None
        headers = {"Cookie": page_cookie} if page_cookie else {}
        # What wrk will be served: the page itself, not a redirect to sign in.
        answer = requests.get(
            f"{base}{path}", headers=headers, allow_redirects=False, timeout=30
        )
        # The callback answers 303 (the code and state leave the address bar).
        expected = 303 if path.startswith("/callback/") else 200
        assert answer.status_code == expected, (path, answer.status_code)
        size = len(answer.content)
        twin = f"{baseline}/{kind}/{size}"
        wrk(f"{base}{path}", 32, 2, page_cookie, script)  # warm up
        wrk(twin, 32, 2)
        wizard = wrk(f"{base}{path}", 32, seconds, page_cookie, script)
        bare = wrk(twin, 32, seconds)
        rows.append(
            {
                "page": name,
                "bytes": size,
                "wizard": wizard,
                "baseline": bare,
                "ratio": round(wizard["rps"] / bare["rps"], 2),
            }
        )
        print(f"  {name}: {wizard} vs {bare}", flush=True)
    return rows


def sweep(
    base: str, baseline: str, seeded: dict[str, Any], seconds: float
) -> list[dict[str, Any]]:
    """The Integrations page and its baseline from 1 to 256 connections."""
    cookie = session_cookie(seeded["session"])
    answer = requests.get(
        f"{base}/integrations",
        headers={"Cookie": cookie},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 200, answer.status_code
    size = len(answer.content)
    rows = []
    for connections in (1, 2, 4, 8, 16, 32, 64, 128, 256):
        wizard = wrk(f"{base}/integrations", connections, seconds, cookie)
        bare = wrk(f"{baseline}/page/{size}", connections, seconds)
        rows.append({"connections": connections, "wizard": wizard, "baseline": bare})
        print(f"  c={connections}: {wizard['rps']} vs {bare['rps']}", flush=True)
    return rows


def seed_crowd(
    base: str, cc: str, database_url: str, people: int
) -> tuple[requests.Session, list[str]]:
    """Put `people` integrations of the Crowd organization on step 4, waiting."""
    from wizard import create_app
    from wizard.models import Integration
    from wizard.models import Organization
    from wizard.platform.extensions import db
    from wizard.sandbox import seed

    def one_app(_: int) -> str:
        return create_application(cc)["api_key"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(one_app, range(people)))
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "ENCRYPTION_KEYS": os.environ["BENCH_KEY"],
            "SECRET_KEY": secrets.token_urlsafe(48),
        }
    )
    with app.app_context():
        organization = db.session.scalar(
            db.select(Organization).filter_by(name="Crowd")
        )
        rows = [
            Integration(
                organization_id=organization.id,
                status="created",
                flow="device",
                api_key=key,
                list_id=seed.NEWSLETTER_LIST_ID,
                name=f"Crowd list {n}",
            )
            for n, key in enumerate(keys)
        ]
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.id for row in rows]
        db.engine.dispose()
    session = signed_in_session(base, CROWD, PASSWORD)
    token = csrf_token(session.get(f"{base}/integrations", timeout=30).text)

    def start(integration_id: int) -> str:
        response = session.post(
            f"{base}/integrations/{integration_id}/authorize",
            data={"csrf_token": token},
            allow_redirects=False,
            timeout=60,
        )
        return urlsplit(response.headers["Location"]).path + "/status"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(start, ids))
    return session, paths


def waiting_crowd(
    base: str, cc: str, database_url: str, people: int, seconds: float, interval: int
) -> dict[str, Any]:
    """Everyone polls their status every 2.5 s; count upstream polls at the sandbox."""
    seeded_at = time.monotonic()
    session, paths = seed_crowd(base, cc, database_url, people)
    seeding = time.monotonic() - seeded_at
    probe = requests.get(
        f"{base}{paths[0]}",
        headers={"Cookie": session_cookie(session)},
        allow_redirects=False,
        timeout=30,
    )
    assert probe.status_code == 200, probe.status_code
    before = get_stats(cc)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(1) as approver:
        # While everyone waits, some allow access at the sandbox, spread over the
        # run: how late does the wizard notice each approval?
        approvals = approver.submit(approve_some, cc, database_url, paths, seconds)
        result = wrk(
            base,
            people,
            seconds,
            session_cookie(session),
            script=status_script(paths, 2500),
        )
        approved_at = approvals.result()
    elapsed = time.monotonic() - started
    after = get_stats(cc)
    lateness = noticed_late(database_url, approved_at)
    result |= {
        "approvals": len(approved_at),
        "approvals_noticed": len(lateness),
        "noticed_late_s_p50": percentile(lateness, 50),
        "noticed_late_s_p99": percentile(lateness, 99),
        "noticed_late_s_max": max(lateness, default=None),
    }
    polls = after["device_polls"] - before["device_polls"]
    # At most one poll per attempt per interval (Constant Contact's is 5 s).
    allowed = people * (int(elapsed // interval) + 1)
    result |= {
        "people": people,
        "seconds": round(elapsed, 1),
        "seeding_seconds": round(seeding, 1),
        "upstream_polls": polls,
        "upstream_polls_allowed": allowed,
        "polls_per_attempt_per_interval": round(
            polls / (people * elapsed / interval), 2
        ),
    }
    print(f"  waiting: {result}", flush=True)
    return result


def approve_some(
    cc: str, database_url: str, paths: list[str], seconds: float, count: int = 100
) -> dict[int, datetime]:
    """Allow access for ``count`` attempts at the sandbox, evenly over the first
    two thirds of the run; return when each was allowed."""
    ids = [int(path.split("/")[4]) for path in paths[:: max(1, len(paths) // count)]]
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        codes = dict(
            connection.execute(
                sa.text(
                    "SELECT id, user_code FROM authorization_attempt WHERE id IN "
                    f"({','.join(str(i) for i in ids)})"
                )
            ).all()
        )
    engine.dispose()
    approved_at: dict[int, datetime] = {}
    gap = seconds * 2 / 3 / max(1, len(ids))
    for attempt_id in ids:
        time.sleep(gap)
        approve_device(cc, codes[attempt_id])
        approved_at[attempt_id] = datetime.now(UTC)
    return approved_at


def noticed_late(database_url: str, approved_at: dict[int, datetime]) -> list[float]:
    """Seconds from each approval at the sandbox to the wizard recording it."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, finished_at FROM authorization_attempt "
                "WHERE outcome = 'approved' AND id IN "
                f"({','.join(str(i) for i in approved_at) or '0'})"
            )
        ).all()
    engine.dispose()
    return sorted(
        round((aware(finished) - approved_at[i]).total_seconds(), 2)
        for i, finished in rows
    )


def aware(moment: datetime) -> datetime:
    """Return the moment in UTC, whatever zone the database session handed back."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def percentile(values: list[float], p: int) -> float | None:
    """Return the p-th percentile of sorted values (nearest rank)."""
    if not values:
        return None
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def stampede(
    base: str, cc: str, database_url: str, seeded: dict[str, Any], users: int
) -> dict[str, Any]:
    """Many people use an expired connection at once: count refreshes upstream."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE integration SET token_expires_at = :t WHERE id = :id"),
            {"t": datetime.now(UTC) - timedelta(minutes=1), "id": seeded["active"]},
        )
    engine.dispose()
    before = get_stats(cc)["refreshes"]
    url = f"{base}/integrations/{seeded['active']}/test"
    statuses = [a.status_code for a in press_at_once(seeded["session"], [url] * users)]
    result = {
        "users": users,
        "statuses": sorted(set(statuses)),
        "refreshes": get_stats(cc)["refreshes"] - before,
    }
    print(f"  stampede: {result}", flush=True)
    return result


def machine() -> dict[str, Any]:
    """Describe where the numbers came from."""
    memory = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    model = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": model[1] if model else platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(int(memory) / 1024 / 1024),
        "python": platform.python_version(),
        "postgresql": subprocess.run(
            ["psql", "--version"], capture_output=True, text=True
        ).stdout.strip(),
    }


def main() -> None:
    """Start everything, measure, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() * 2)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument(
        "--interval",
        type=int,
        default=5,
        help="the sandbox's device polling interval in seconds (Constant Contact: 5)",
    )
    parser.add_argument(
        "--poll-threads",
        type=int,
        help="WIZARD_CC_POLLS_IN_FLIGHT, poller threads per worker (default: app's)",
    )
    parser.add_argument(
        "parts",
        nargs="*",
        default=["pages", "sweep", "waiting", "stampede"],
        help="pages, sweep, waiting, stampede",
    )
    options = parser.parse_args()
    seconds = 4 if options.quick else 10
    logs = Path(tempfile.mkdtemp(prefix="wizard-bench-"))
    database_url = fresh_database()
    os.environ["BENCH_KEY"] = Fernet.generate_key().decode()
    cc_port, app_port, bare_port = free_port(), free_port(), free_port()
    cc = f"http://127.0.0.1:{cc_port}"
    base = f"http://127.0.0.1:{app_port}"
    baseline = f"http://127.0.0.1:{bare_port}"
    settings = sandbox_settings(cc) | {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "ENCRYPTION_KEYS": os.environ["BENCH_KEY"],
        "PUBLIC_BASE_URL": base,
        "CC_HTTP_TIMEOUT_SECONDS": 10,
        # The limits stay on (their cost is measured) but high: here one person
        # stands for thousands, all behind one address.
        "SIGN_IN_RATE_LIMIT": "1000 per minute",
        "STATUS_POLL_RATE_LIMIT": "100000000 per minute",
        "AUTHORIZE_START_RATE_LIMIT": "100000 per minute",
        # The stampede is 64 presses of Test connection on one connection at once.
        "CONNECTION_ACTION_RATE_LIMIT": "100000 per minute",
        # As the README asks of several workers: one count for all, in Redis.
        "RATELIMIT_STORAGE_URI": os.environ.get(
            "BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"
        ),
        "RATELIMIT_KEY_PREFIX": f"wizard-bench-{secrets.token_hex(4)}",
    }
    if options.poll_threads:
        settings["CC_POLLS_IN_FLIGHT"] = options.poll_threads
    env = wizard_environment(settings)
    sandbox_env = env | {
        "WIZARD_SANDBOX_TEST_CONTROL": "true",
        "WIZARD_SANDBOX_DATABASE_URL": f"sqlite:///{logs}/sandbox.db",
        "WIZARD_SANDBOX_DAILY_LIMIT": "100000000",
        "WIZARD_SANDBOX_DEVICE_INTERVAL": str(options.interval),
    }
    migrate(env)
    flask = [sys.executable, "-m", "flask", "--app", "wizard"]
    for email, org in ((OWNER, "Bench Bakery"), (CROWD, "Crowd")):
        subprocess.run(
            [*flask, "users", "create", email, "--role", "customer"]
            + ["--org", org, "--password", PASSWORD],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    results: dict[str, Any] = {
        "machine": machine(),
        "workers": options.workers,
        "interval": options.interval,
    }
    print(f"Logs in {logs}", flush=True)
    with (
        serve(
            # One process (its holds and counts live in memory), kept-alive
            # connections as Constant Contact's own: werkzeug's server closes each.
            [
                *gunicorn("wizard.sandbox:create_app()", cc_port, 1),
                "--threads",
                "16",
                # Its counts must last the whole run: no recycling.
                "--max-requests",
                "0",
            ],
            f"{cc}/__sandbox__/stats",
            sandbox_env,
            logs / "sandbox.log",
        ),
        serve(
            gunicorn("wsgi:app", app_port, options.workers),
            f"{base}/healthz",
            env,
            logs / "wizard.log",
        ) as wizard_master,
        serve(
            gunicorn("bench.baseline:app", bare_port, options.workers),
            f"{baseline}/page/100",
            env,
            logs / "baseline.log",
        ) as baseline_master,
    ):
        seeded = seed_pages(base, cc)
        if "pages" in options.parts:
            print("Pages at 32 connections", flush=True)
            results["pages"] = measure_pages(base, baseline, seeded, seconds)
        if "sweep" in options.parts:
            print("Concurrency sweep", flush=True)
            results["sweep"] = sweep(base, baseline, seeded, max(3, seconds // 2))
        if "stampede" in options.parts:
            results["stampede"] = stampede(base, cc, database_url, seeded, 64)
        if "waiting" in options.parts:
            print(f"{options.people} people waiting on step 4", flush=True)
            results["waiting"] = waiting_crowd(
                base,
                cc,
                database_url,
                options.people,
                30 if options.quick else 60,
                options.interval,
            )
        results["memory_mb"] = {
            "wizard_workers": memory_mb(wizard_master),
            "baseline_workers": memory_mb(baseline_master),
        }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["memory_mb"]))
    print(f"Wrote {out / 'latest.json'}")


if __name__ == "__main__":
    main()
