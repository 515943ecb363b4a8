"""Contacts added while a connection cannot be used are held, sealed, once per
person, and sent in order, each once, when it works again."""

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

from tests.helpers.attempts import allowed_on_device
from tests.helpers.connections import connect
from tests.helpers.users import sign_in
from wizard.constant_contact.api import Person
from wizard.domain import contacts
from wizard.domain import held
from wizard.domain import sending
from wizard.domain import verification
from wizard.models import AuditEvent
from wizard.models import HeldContact
from wizard.models import Integration
from wizard.platform import crypto
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import delete_list
from wizard.sandbox.testing import hold
from wizard.sandbox.testing import list_members
from wizard.sandbox.testing import release
from wizard.sandbox.testing import remove_access
from wizard.sandbox.testing import set_faults
from wizard.sandbox.testing import wait_until_held

pytestmark = pytest.mark.sandboxed

CONSENT = "Ticked 'Send me offers' at the till, 2026-12-07"


def _add(app: Flask, integration_id: int, email: str, first: str = "") -> str:
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        return contacts.add_contact(
            integration, email, consent=CONSENT, first_name=first
        )


def _replay(app: Flask, integration_id: int) -> held.Replayed:
    with app.app_context():
        return held.replay(db.session.get(Integration, integration_id))


def _held(app: Flask, integration_id: int) -> int:
    with app.app_context():
        return held.waiting(integration_id)


def _replayed_domains(app: Flask, integration_id: int) -> list[str]:
    with app.app_context():
        events = db.session.scalars(
            db.select(AuditEvent)
            .filter_by(integration_id=integration_id, action="contact.added")
            .order_by(AuditEvent.id)
        ).all()
        return [e.details["email_domain"] for e in events if e.details.get("replayed")]


def _api_key(app: Flask, integration_id: int) -> str:
    with app.app_context():
        return db.session.get(Integration, integration_id).api_key


def _access_removed(app: Flask, cc: str, integration_id: int) -> Callable[[], None]:
    remove_access(cc, _api_key(app, integration_id))
    return lambda: None  # mended by authorizing again, below


def _list_deleted(app: Flask, cc: str, integration_id: int) -> Callable[[], None]:
    with app.app_context():
        list_id = db.session.get(Integration, integration_id).list_id
    delete_list(cc, list_id)
    return lambda: delete_list(cc, list_id, deleted=False)


def _down(app: Flask, cc: str, integration_id: int) -> Callable[[], None]:
    set_faults(cc, {"sign_up_form": "503"})
    return lambda: set_faults(cc, {})


def _over_quota(app: Flask, cc: str, integration_id: int) -> Callable[[], None]:
    set_faults(cc, {"sign_up_form": "quota_exceeded"})

    def next_day() -> None:
        set_faults(cc, {})
        with app.app_context():
            row = db.session.get(Integration, integration_id)
            row.last_checked_at = utcnow() - timedelta(days=1)
            db.session.commit()

    return next_day


BREAKS: dict[str, tuple[Callable[..., Callable[[], None]], str]] = {
    "access removed": (_access_removed, "needs_reauthorization"),
    "list deleted": (_list_deleted, "list_not_found"),
    "Constant Contact down": (_down, "failing"),
    "over the daily quota": (_over_quota, "failing"),
}


@pytest.mark.parametrize("broken", list(BREAKS))
def test_held_while_broken_then_sent_in_order_each_once(
    fresh_list: str, signed_in: FlaskClient, app: Flask, cc: str, broken: str
) -> None:
    list_id = fresh_list
    integration_id = connect(signed_in, app, cc, list_id=list_id)
    assert _add(app, integration_id, "first@d0.test") in ("created", "updated")
    breaking, status = BREAKS[broken]
    mend = breaking(app, cc, integration_id)
    answers = [_add(app, integration_id, f"p{i}@d{i}.test", "Old") for i in (1, 2, 3)]
    # The same person again while held: one row, the newer name.
    answers.append(_add(app, integration_id, "P2@d2.test", "New"))
    assert answers == ["held"] * 4
    assert _held(app, integration_id) == 3
    with app.app_context():
        assert db.session.get(Integration, integration_id).status == status
    mend()
    if broken == "access removed":
        # Still broken, the replay sends nothing and keeps every one.
        assert _replay(app, integration_id).sent == 0
        assert allowed_on_device(signed_in, app, cc, integration_id)["state"] == "done"
    if broken == "list deleted":
        with app.app_context():
            verification.check(db.session.get(Integration, integration_id))
    done = _replay(app, integration_id)
    assert (done.sent, done.left, done.stopped_by) == (3, 0, None)
    assert _replayed_domains(app, integration_id) == ["d1.test", "d2.test", "d3.test"]
    members = {m["email"]: m for m in list_members(cc, list_id)}
    assert sorted(members) == [
        "first@d0.test",
        "p1@d1.test",
        "p2@d2.test",
        "p3@d3.test",
    ]
    assert all(m["sign_ups"] == 1 for m in members.values()), members
    assert members["p2@d2.test"]["first_name"] == "New"
    with app.app_context():
        assert db.session.get(Integration, integration_id).status == "active"


def test_a_contact_refused_by_constant_contact_is_not_held(
    fresh_list: str, signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc, list_id=fresh_list)
    with pytest.raises(sending.ContactRefused, match="valid address"):
        _add(app, integration_id, "x" * 60 + "@too-long.test")
    assert _held(app, integration_id) == 0
    with app.app_context():
        assert db.session.get(Integration, integration_id).status == "active"


def test_held_contacts_are_sealed_and_bound_to_their_row(
    fresh_list: str, signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc, list_id=fresh_list)
    set_faults(cc, {"sign_up_form": "500"})
    for email in ("ann@florist.test", "bob@florist.test"):
        assert _add(app, integration_id, email) == "held"
    with app.app_context():
        raw = [
            dict(row._mapping)
            for row in db.session.execute(db.select(HeldContact.__table__))
        ]
        assert all("florist" not in json.dumps(row, default=str) for row in raw)
        assert all(row["consent"] if "consent" in row else True for row in raw)
        first, second = db.session.scalars(
            db.select(HeldContact).order_by(HeldContact.id)
        ).all()
        assert json.loads(first.contact)["consent"] == CONSENT
        # Another row's ciphertext does not open here.
        first.contact_encrypted = second.contact_encrypted
        with pytest.raises(crypto.DecryptionError):
            _ = first.contact


def test_one_sender_at_a_time_and_a_crash_resends_only_its_one(
    fresh_list: str, signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    list_id = fresh_list
    integration_id = connect(signed_in, app, cc, list_id=list_id)
    set_faults(cc, {"sign_up_form": "503"})
    for i in range(4):
        assert _add(app, integration_id, f"p{i}@d{i}.test") == "held"
    set_faults(cc, {})
    # A sender claims the oldest and dies after Constant Contact took it.
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        row, _claim = held._claim_oldest(integration)
        fields = json.loads(row.contact)
        sending.send(integration, Person(fields["email"]))
        assert held.replay(integration).sent == 0  # its lease still holds the line
        row.claimed_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    # While a second sender is provably mid-send, a third sends nothing.
    hold(cc, "sign_up_form", count=1)
    results: list[Any] = []
    sender = threading.Thread(
        target=lambda: results.append(_replay(app, integration_id))
    )
    sender.start()
    wait_until_held(cc, "sign_up_form", 1)
    assert _replay(app, integration_id).sent == 0
    release(cc, "sign_up_form")
    sender.join(30)
    assert results[0].sent == 4 and results[0].left == 0
    members = {m["email"]: m["sign_ups"] for m in list_members(cc, list_id)}
    assert members == {
        "p0@d0.test": 2,
        "p1@d1.test": 1,
        "p2@d2.test": 1,
        "p3@d3.test": 1,
    }


def test_the_commands_count_send_and_drop_what_is_too_old(
    fresh_list: str, signed_in: FlaskClient, app: Flask, cc: str, runner: FlaskCliRunner
) -> None:
    integration_id = connect(signed_in, app, cc, list_id=fresh_list)
    set_faults(cc, {"sign_up_form": "503"})
    added = runner.invoke(
        args=[
            "integrations",
            "add-contact",
            str(integration_id),
            "new@d1.test",
            "--consent",
            CONSENT,
        ]
    )
    assert added.exit_code == 0 and added.output == "new@d1.test: held\n"
    _add(app, integration_id, "old@d2.test")
    refreshed = runner.invoke(args=["integrations", "refresh"])
    assert "2 contacts held on 1 integration (flask integrations held)" in (
        refreshed.output
    )
    listed = runner.invoke(args=["integrations", "held"])
    assert listed.output == f"id\tstatus\theld\n{integration_id}\tfailing\t2\n2 held\n"
    down = runner.invoke(args=["integrations", "replay"])
    assert down.output == (
        f"{integration_id}\tsent 0\trefused 0\tleft 2\tstopped: unavailable\n"
    )
    set_faults(cc, {})
    with app.app_context():
        oldest = db.session.scalars(db.select(HeldContact).order_by(HeldContact.id))
        next(iter(oldest)).held_at = utcnow() - timedelta(days=31)
        db.session.commit()
    sent = runner.invoke(args=["integrations", "replay", str(integration_id)])
    assert sent.output == (
        f"1 dropped, held too long\n{integration_id}\tsent 1\trefused 0\tleft 0\n"
    )
    with app.app_context():
        dropped = db.session.scalars(
            db.select(AuditEvent).filter_by(action="contact.dropped")
        ).one()
    assert dropped.details == {"reason": "held_too_long", "days": 30}


def _eventually(check: Callable[[], bool], within: float = 30.0) -> None:
    """Wait for a thread's work to show; ``within`` only bounds a broken test."""
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def test_the_pages_say_how_many_wait_and_a_working_test_sends_them_after_answering(
    fresh_list: str,
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    support_user: int,
) -> None:
    list_id = fresh_list
    integration_id = connect(signed_in, app, cc, list_id=list_id)
    set_faults(cc, {"sign_up_form": "503"})
    for i in (1, 2):
        assert _add(app, integration_id, f"p{i}@d{i}.test") == "held"
    waiting = "2 contacts waiting to be added: nothing is lost"
    assert waiting in signed_in.get("/integrations").text
    agent = app.test_client()
    sign_in(agent, "helper@promopulse.test")
    support_page = agent.get(f"/support/integrations/{integration_id}").text
    box = support_page[: support_page.index("</section>")]
    assert waiting in box
    agent.set_cookie("wizard_lang", "es")
    assert (
        "2 contactos en espera para añadirse"
        in agent.get(f"/support/integrations/{integration_id}").text
    )
    set_faults(cc, {})
    # Test connection works: the page answers before any contact is sent (the
    # first sign-up is held at Constant Contact), then they go, in a thread.
    hold(cc, "sign_up_form", count=1)
    tested = signed_in.post(f"/integrations/{integration_id}/test")
    assert "The connection works" in tested.text
    assert _held(app, integration_id) == 2
    tested.close()
    wait_until_held(cc, "sign_up_form", 1)
    release(cc, "sign_up_form")
    _eventually(lambda: _held(app, integration_id) == 0)
    members = {m["email"]: m["sign_ups"] for m in list_members(cc, list_id)}
    assert members == {"p1@d1.test": 1, "p2@d2.test": 1}
    assert waiting not in signed_in.get("/integrations").text
