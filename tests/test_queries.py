"""Database work per request: the pages people repeat most stay cheap."""

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from tests.helpers.app import AppWith
from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import pollers_turn
from tests.helpers.attempts import start_attempt
from tests.helpers.integrations import make_integration
from tests.helpers.sandbox import device_app
from tests.helpers.sql import statements
from tests.helpers.users import sign_in
from wizard.domain import audit
from wizard.models import AuditEvent
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import Organization
from wizard.platform import crypto
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.platform.reads import WriteInReadOnlyPage
from wizard.platform.reads import reads_only
from wizard.sandbox.testing import get_stats
from wizard.web.auth import recent_users
from wizard.web.authorize import tickets

pytestmark = pytest.mark.sandboxed


@pytest.fixture(autouse=True)
def stopped_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the remembered signed-in user fresh however long a test takes: counts
    must not depend on the machine's speed (tests/test_recent_users.py times it)."""
    monkeypatch.setattr(recent_users, "monotonic", lambda: 1000.0)


def in_autocommit(conn: Any, _statement: str) -> bool:
    """Whether the driver itself (not SQLAlchemy's idea of it) is in autocommit."""
    driver = conn.connection.dbapi_connection
    if hasattr(driver, "autocommit") and not hasattr(driver, "total_changes"):
        return bool(driver.autocommit)  # psycopg
    return driver.isolation_level is None  # sqlite3


def test_a_status_check_reads_one_query_writes_nothing_and_never_asks(
    signed_in: FlaskClient, app: Flask, cc: str, device_integration: int
) -> None:
    start_attempt(signed_in, device_integration)
    attempt = attempt_of(app, device_integration)
    url = f"/integrations/{device_integration}/authorize/{attempt.id}/status"
    with statements(app) as sent:
        assert signed_in.get(url).json["state"] == "waiting"
    assert sent == ["SELECT", "SELECT"]  # her row, then remembered a moment
    # Due at once, and still only read: asking is the poller's.
    for due in (True, False):
        with statements(app) as sent:
            for _ in range(5):
                assert signed_in.get(url).json["state"] == "waiting"
        # Per check: the attempt joined to its integration and the other codes.
        assert sent == ["SELECT"] * 5, due
        assert get_stats(cc)["device_polls"] == (0 if due else 1)
        if due:
            assert pollers_turn(app) == 1


def test_a_status_check_its_ticket_answers_takes_no_connection(
    signed_in: FlaskClient, app: Flask, device_integration: int
) -> None:
    start_attempt(signed_in, device_integration)
    attempt = attempt_of(app, device_integration)
    url = f"/integrations/{device_integration}/authorize/{attempt.id}/status"
    assert pollers_turn(app) == 1  # asked once: the next ask is an interval away
    ticket = signed_in.get(url).json["ticket"]
    checkouts: list[object] = []

    def checked_out(*_: object) -> None:
        checkouts.append(True)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", checked_out)
    try:
        with statements(app) as sent:
            answer = signed_in.get(url, headers={tickets.HEADER: ticket})
            assert answer.json["state"] == "waiting"
        # A page that reads rows takes one, so the listener is listening.
        assert signed_in.get("/integrations").status_code == 200
    finally:
        event.remove(engine, "checkout", checked_out)
    assert (sent, checkouts) == ([], [True])


@pytest.mark.parametrize("path", ["/integrations", "/activity"])
def test_listing_pages_do_not_grow_with_the_number_of_integrations(
    signed_in: FlaskClient, app: Flask, cc: str, path: str
) -> None:
    def count() -> int:
        assert signed_in.get(path).status_code == 200  # her row, then remembered
        with statements(app) as sent:
            assert signed_in.get(path).status_code == 200
        return len(sent)

    key = device_app(cc)
    make_integration(app, key)
    few = count()
    for _ in range(10):
        integration_id = make_integration(app, key)
        start_attempt(signed_in, integration_id)
    assert count() == few


def test_a_signed_in_page_that_only_reads_is_one_round_trip(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    make_integration(app, device_app(cc))
    with app.app_context():
        # A draft on step 2: its API Key saved, no List ID yet.
        draft = Integration(organization_id=1, api_key=device_app(cc))
        db.session.add(draft)
        db.session.commit()
        draft_id = draft.id
    # The first page asks for her row, then its own rows: held contacts are
    # counted in the same query as the integrations.
    with statements(app) as sent:
        assert signed_in.get("/integrations").status_code == 200
    assert sent == ["SELECT", "SELECT"]
    # Then, for a second or so, a page that only reads is its own rows alone.
    for path in ("/integrations", f"/integrations/{draft_id}/list-id"):
        with statements(app) as sent:
            assert signed_in.get(path).status_code == 200, path
        assert sent == ["SELECT"], path


TENANTS = 10_000


def test_support_lists_ten_thousand_tenants_a_page_at_a_time(
    client: FlaskClient, app: Flask, support_user: int, monkeypatch: Any
) -> None:
    with app.app_context():
        db.session.execute(
            sa.insert(Organization),
            [{"name": f"Tenant {n:05d}"} for n in range(TENANTS)],
        )
        first_ids = db.session.scalars(
            db.select(Organization.id).order_by(Organization.name).limit(60)
        ).all()
        # Connected ones among them: a page must not need their tokens to list them.
        db.session.execute(
            sa.insert(Integration),
            [
                {
                    "organization_id": organization_id,
                    "status": "active",
                    "name": f"List {n}",
                    "access_token_encrypted": crypto.encrypt("access", "test"),
                    "refresh_token_encrypted": crypto.encrypt(
                        "refresh", "listing-test"
                    ),
                }
                for n, organization_id in enumerate(first_ids)
            ],
        )
        db.session.commit()
    assert sign_in(client, "helper@promopulse.test").status_code == 302

    def no_decrypting(*_: str) -> str:
        raise AssertionError("a listing decrypted a token")

    monkeypatch.setattr(crypto, "decrypt", no_decrypting)
    loaded: list[Organization] = []

    def count_loaded(target: Organization, _context: Any) -> None:
        loaded.append(target)

    event.listen(Organization, "load", count_loaded)
    try:
        for query in ({}, {"q": "tenant"}):
            pages = []
            for page in (1, 2):
                loaded.clear()
                with statements(app) as sent:
                    answer = client.get(
                        "/support/organizations" if not query else "/support",
                        query_string=query | {"page": page},
                    )
                assert answer.status_code == 200
                # All ten thousand match; a page reads its fifty, and one more to
                # know whether a next page follows.
                assert len(loaded) == 51
                pages.append((answer.text, len(sent)))
            (first, first_queries), (second, second_queries) = pages
            # Fifty a page, then a link on: page 2 starts where page 1 ended.
            assert len(re.findall(r'<th scope="row">', first)) == 50
            assert "Tenant 00000" in first and "Tenant 00049" in first
            assert "Tenant 00050" not in first and "Tenant 00050" in second
            assert "Next page" in first and "Previous page" in second
            assert "Active" in first  # the statuses, without the tokens
            # The user, the page of organizations, their integrations: no N+1.
            assert first_queries == second_queries == 3
    finally:
        event.remove(Organization, "load", count_loaded)


def test_support_queue_costs_the_same_for_one_customer_or_many(
    client: FlaskClient, app: Flask, support_user: int, monkeypatch: Any
) -> None:
    now = utcnow()

    def waiting(count: int) -> None:
        """Customers authorizing now, after a message shown to them, or whose
        connection needs re-authorizing: each with every reason for a row."""
        with app.app_context():
            for n in range(count):
                integration = Integration(
                    organization=Organization(name=f"Waiting {n}"),
                    status="needs_reauthorization",
                )
                db.session.add(integration)
                db.session.flush()
                db.session.add(
                    AuthorizationAttempt(
                        integration_id=integration.id,
                        flow="device",
                        started_at=now,
                        expires_at=now + timedelta(minutes=5),
                        provider_expires_at=now + timedelta(minutes=10),
                    )
                )
                audit.record("setup.error_shown", integration=integration)
            db.session.commit()

    def count() -> tuple[int, int]:
        with statements(app) as sent:
            answer = client.get("/support")
        assert answer.status_code == 200
        return answer.text.count('<th scope="row">'), len(sent)

    assert sign_in(client, "helper@promopulse.test").status_code == 302

    def no_decrypting(*_: str) -> str:
        raise AssertionError("the queue decrypted a secret")

    monkeypatch.setattr(crypto, "decrypt", no_decrypting)
    waiting(1)
    # The user, the queue, its integrations, their attempts, where her browser was.
    assert count() == (1, 5)
    waiting(20)
    assert count() == (21, 5)


def test_pages_that_only_read_run_without_a_transaction(
    signed_in: FlaskClient, app: Flask, device_integration: int
) -> None:
    for path in (
        "/integrations",
        "/activity",
        f"/integrations/{device_integration}/setup",
    ):
        with statements(app, in_autocommit) as seen:
            assert signed_in.get(path).status_code == 200, path
        assert seen and all(seen), path
    # Pages that write keep their transaction, on the same pooled connection.
    with statements(app, in_autocommit) as seen:
        assert start_attempt(signed_in, device_integration).status_code == 302
    assert seen and not any(seen)


def test_a_write_in_a_page_marked_read_only_is_refused_and_not_made(
    app_with: AppWith, customer: int
) -> None:
    app = app_with()

    @app.route("/writes-by-mistake")
    @reads_only
    def writes_by_mistake() -> str:
        audit.record("user.signed_in", organization_id=None)
        db.session.commit()
        return "written"

    def events() -> int:
        with app.app_context():
            return db.session.scalar(db.select(db.func.count(AuditEvent.id)))

    before = events()
    with pytest.raises(WriteInReadOnlyPage):  # a 500 outside testing
        app.test_client().get("/writes-by-mistake")
    assert events() == before
