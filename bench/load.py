"""Load without loss, the full run: many complete setups at once under gunicorn.

Run by hand (tests/test_load.py is the short run inside `make test`):

    .venv/bin/python bench/load.py                       # 200 customers, PostgreSQL
    .venv/bin/python bench/load.py --database sqlite      # the same on SQLite (WAL)
    .venv/bin/python bench/load.py --approve-after 240    # a long wait on step 4

Each customer has their own organization and Constant Contact app, signs in and goes
through steps 1-4 over HTTP (the device flow against a local sandbox, access allowed
--approve-after seconds after the code shows, status asked every --poll-every
seconds like the page's script) until "Your integration is now active!".
PostgreSQL comes from BENCH_DATABASE_SERVER (default
postgresql://postgres@127.0.0.1:5432); a throwaway database is made and dropped.
Prints the figures and the table for bench/README.md; exits 1 if anything was lost.
"""

import argparse
import json
import os
import re
import secrets
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import machine  # noqa: E402
from bench.run import serve  # noqa: E402
from tests.helpers import journeys  # noqa: E402
from tests.helpers.live import free_port  # noqa: E402
from tests.helpers.live import gunicorn  # noqa: E402
from tests.helpers.live import migrate  # noqa: E402
from tests.helpers.live import wizard_environment  # noqa: E402
from tests.helpers.sandbox import sandbox_settings  # noqa: E402
from wizard import create_app  # noqa: E402
from wizard.platform.extensions import db  # noqa: E402
from wizard.sandbox.testing import get_stats  # noqa: E402

# An access line: 127.0.0.1 "GET /path" 200 2747 159.6ms <request id>
ACCESS = re.compile(r'" (\d{3}) \S+ ([\d.]+)ms')
SERVER = os.environ.get("BENCH_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432")


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """Yield the URL of an empty database for this run; drop it afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'wizard.sqlite'}"
        return
    # A name of its own, so runs and test sessions never share a database.
    name = f"wizard_load_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def log_trouble(log: Path) -> dict[str, Any]:
    """Count what the workers complained about; time requests inside the workers."""
    text = log.read_text(errors="replace")
    answers = ACCESS.findall(text)
    inside = [float(ms) / 1000 for _, ms in answers]
    return {
        "tracebacks": text.count("Traceback"),
        "database_locked": text.count("database is locked"),
        "worker_timeouts": text.count("WORKER TIMEOUT"),
        "logged_5xx": sum(status.startswith("5") for status, _ in answers),
        # Time in the worker; the rest of what clients saw was waiting in the queue.
        "in_worker_p50_ms": journeys.percentile(inside, 0.5) if inside else None,
        "in_worker_p99_ms": journeys.percentile(inside, 0.99) if inside else None,
    }


def main() -> None:
    """Serve the sandbox and the wizard, run the setups, check, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--clients", type=int, help="at once (default: everyone)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--database", choices=["postgresql", "sqlite"])
    parser.add_argument("--poll-every", type=float, default=2.0)
    parser.add_argument("--approve-after", type=float, default=6.0)
    parser.set_defaults(database="postgresql")
    options = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="wizard-load-"))
    print(f"Logs in {logs}", flush=True)
    key = Fernet.generate_key().decode()
    cc_port = free_port()
    cc = f"http://127.0.0.1:{cc_port}"
    with database(options.database, logs) as database_url:
        settings = sandbox_settings(cc) | {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "ENCRYPTION_KEYS": key,
            "PUBLIC_BASE_URL": "http://127.0.0.1",
            # Everyone arrives from one address here: limits per person, not per IP.
            "SIGN_IN_RATE_LIMIT": "100000 per minute",
        }
        env = wizard_environment(settings)
        migrate(env)
        app = create_app(dict(settings), commands=False)
        emails = journeys.add_customers(app, options.people)
        sandbox_env = env | {
            "WIZARD_SANDBOX_TEST_CONTROL": "true",
            "WIZARD_SANDBOX_DATABASE_URL": f"sqlite:///{logs / 'sandbox.sqlite'}",
        }
        flask = [sys.executable, "-m", "flask", "--app", "wizard"]
        with (
            serve(
                [*flask, "sandbox", "--port", str(cc_port)],
                f"{cc}/__sandbox__/stats",
                sandbox_env,
                logs / "sandbox.log",
            ),
            gunicorn(
                env | {"GUNICORN_LOG": str(logs / "wizard.log")}, options.workers
            ) as base_url,
        ):
            print(f"{options.people} setups on {options.database}", flush=True)
            done, seconds = journeys.setup_many(
                base_url,
                cc,
                emails,
                options.clients or options.people,
                poll_every=options.poll_every,
                approve_after=options.approve_after,
            )
            stats = get_stats(cc)
        problems = journeys.check_saved(app, emails)
        with app.app_context():
            db.engine.dispose()
    summary = journeys.summarize(done, seconds)
    result = {
        "machine": machine(),
        "database": options.database,
        "workers": options.workers,
        "clients": options.clients or options.people,
        "approve_after": options.approve_after,
        "summary": summary,
        "lost_or_doubled": problems,
        "sandbox": {
            "device_authorizations": stats["device_authorizations"],
            "device_polls": stats["device_polls"],
            "slow_downs": stats["slow_downs"],
            "apps_that_polled": len(stats["token_requests"]["by_client_id"]),
        },
        "log": log_trouble(logs / "wizard.log"),
    }
    (logs / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "summary"}, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "steps"}, indent=2))
    print(journeys.markdown(summary))
    clean = (
        not summary["failed"]
        and not summary["server_errors"]
        and not problems
        and summary["active"] == options.people
        and stats["slow_downs"] == 0
        and not result["log"]["logged_5xx"]
    )
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
