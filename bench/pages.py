"""Time the pages people repeat most, in-process through Flask's test client.

Run by hand (not part of `make test`), for A/B comparisons of one change at a time:

    .venv/bin/python bench/pages.py             # SQLite, 2,000 requests a page
    .venv/bin/python bench/pages.py --postgres  # PostgreSQL (BENCH_DATABASE_SERVER)
    .venv/bin/python bench/pages.py --profile integrations  # pyinstrument

The app is built as in production (no TESTING, CSRF on), on a fresh migrated
database: one customer signed in, a draft at step 2 and an attempt waiting on step 4.
Prints milliseconds per request, the best of --rounds rounds.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from wizard import create_app  # noqa: E402
from wizard.models import AuthorizationAttempt  # noqa: E402
from wizard.models import Integration  # noqa: E402
from wizard.models import Organization  # noqa: E402
from wizard.models import User  # noqa: E402
from wizard.platform.columns import utcnow  # noqa: E402
from wizard.platform.extensions import db  # noqa: E402
from wizard.web.authorize import tickets  # noqa: E402

SERVER = os.environ.get("BENCH_DATABASE_SERVER", "postgresql://postgres@127.0.0.1:5432")
DATABASE = "wizard_pages_bench"
EMAIL = "owner@bench.example"
PASSWORD = "bench-password-1"
API_KEY = "4f5e8a8c-1d2b-4c3d-9e8f-0a1b2c3d4e5f"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def database_url(postgres: bool, directory: str) -> str:
    """Make a fresh database and return its URL."""
    if not postgres:
        return f"sqlite:///{directory}/bench.sqlite"
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{DATABASE}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return f"{SERVER}/{DATABASE}"


def build(url: str) -> Flask:
    """Build the app as production does (CSRF on, not TESTING) and migrate."""
    settings = {
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-to-pass",
        "DATABASE_URL": url,
        "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "http://wizard.bench",
        # One person stands for thousands here: the limit's cost stays, not its bar.
        "STATUS_POLL_RATE_LIMIT": "100000000 per minute",
    }
    app = create_app(settings)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    return app


def seed(app: Flask) -> tuple[int, int, int]:
    """Store the customer, a draft at step 2, and an attempt waiting on step 4."""
    now = utcnow()
    with app.app_context():
        organization = Organization(name="Bench")
        user = User(email=EMAIL, organization=organization)
        user.set_password(PASSWORD)
        draft = Integration(organization=organization, api_key=API_KEY)
        created = Integration(
            organization=organization, status="authorizing", api_key=API_KEY,
            list_id="a1b2c3d4-0000-4000-8000-000000000001",
        )  # fmt: skip
        db.session.add_all([user, draft, created])
        db.session.flush()
        attempt = AuthorizationAttempt(
            integration_id=created.id,
            flow="device",
            started_at=now,
            expires_at=now + timedelta(hours=1),
            provider_expires_at=now + timedelta(hours=1),
            user_code="ABCDWXYZ",
            interval=5,
            next_poll_at=now + timedelta(hours=1),
        )
        db.session.add(attempt)
        db.session.commit()
        return draft.id, created.id, attempt.id


def sign_in(client: FlaskClient) -> None:
    """Sign in through the form, CSRF token and all."""
    token = CSRF.search(client.get("/sign-in").text)
    assert token, "no CSRF token on the sign-in page"
    answer = client.post(
        "/sign-in",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 302, answer.status_code


def timed(client: FlaskClient, url: str, count: int, ticket: bool = False) -> float:
    """Return milliseconds per GET of url over count requests."""
    held: str | None = None
    start = time.perf_counter()
    for _ in range(count):
        headers = {tickets.HEADER: held} if held else {}
        answer = client.get(url, headers=headers)
        if answer.status_code != 200:
            raise SystemExit(f"{url}: {answer.status_code}")
        if ticket:
            held = answer.json.get("ticket") or held
    return (time.perf_counter() - start) * 1000 / count


def pages(app: Flask, ids: tuple[int, int, int]) -> dict[str, tuple[FlaskClient, str]]:
    """Return each measured page: the client that asks for it and its URL."""
    draft, created, attempt = ids
    stranger, customer = app.test_client(), app.test_client()
    sign_in(customer)
    status = f"/integrations/{created}/authorize/{attempt}/status"
    return {
        "sign-in": (stranger, "/sign-in"),
        "integrations": (customer, "/integrations"),
        "step2": (customer, f"/integrations/{draft}/list-id"),
        "status": (customer, status),
        "status-rows": (customer, status),
    }


PAGES = ["sign-in", "integrations", "step2", "status", "status-rows"]


def main() -> None:
    """Measure each page; print ms per request."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=PAGES)
    parser.add_argument("--only", action="append", default=[])
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        app = build(database_url(options.postgres, directory))
        measured = pages(app, seed(app))
        if options.profile:
            profile(measured[options.profile], options.count, options.profile)
            return
        results: dict[str, list[float]] = {}
        for _round in range(options.rounds):
            for name, (client, url) in measured.items():
                if options.only and name not in options.only:
                    continue
                timed(client, url, 200, name == "status")  # warm up
                took = timed(client, url, options.count, name == "status")
                results.setdefault(name, []).append(took)
        kind = "postgresql" if options.postgres else "sqlite"
        for name, runs in results.items():
            best, median = min(runs), statistics.median(runs)
            print(
                f"{kind:10} {name:13} best {best:.3f} ms  median {median:.3f} ms  "
                f"({options.count} x {len(runs)})"
            )


def profile(page: tuple[FlaskClient, str], count: int, name: str) -> None:
    """Profile count requests of one page with pyinstrument."""
    from pyinstrument import Profiler

    client, url = page
    timed(client, url, 200, name == "status")
    profiler = Profiler(interval=0.0002)
    profiler.start()
    timed(client, url, count, name == "status")
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
