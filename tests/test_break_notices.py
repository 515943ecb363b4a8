"""When a working connection breaks, each of its customers gets one e-mail in her
language with the one link that mends it, and the product a signed webhook; not
again until it has worked in between; a receiver that fails is tried again later."""

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask.testing import FlaskCliRunner

from tests.helpers.attempts import allowed_on_device
from tests.helpers.connections import connect
from tests.helpers.receiver import Receiver
from tests.helpers.receiver import webhook_receiver
from tests.helpers.smtp import MailServer
from tests.helpers.smtp import mail_server
from tests.helpers.users import sign_in
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import Notice
from wizard.platform import webhooks
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox.testing import remove_access

pytestmark = pytest.mark.sandboxed

SECRET = "whsec-test-0123456789abcdef"


@pytest.fixture
def inbox() -> Iterator[MailServer]:
    with mail_server() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def told(config: dict[str, Any], inbox: MailServer, receiver: Receiver) -> None:
    """Mail and the webhook set up, before the app is built."""
    config |= inbox.settings() | {"WEBHOOK_URL": receiver.url, "WEBHOOK_SECRET": SECRET}


def _break(app: Flask, cc: str, integration_id: int) -> None:
    with app.app_context():
        api_key = db.session.get(Integration, integration_id).api_key
    remove_access(cc, api_key)


def _events(receiver: Receiver) -> list[str]:
    return [json.loads(r["body"])["event"] for r in receiver.requests]


def _signed(receiver: Receiver, secret: str = SECRET) -> list[bool]:
    return [
        webhooks.verify(
            secret,
            r["headers"][webhooks.SIGNATURE_HEADER],
            r["body"],
            int(time.time()),
            300,
        )
        for r in receiver.requests
    ]


def test_one_email_per_customer_per_break_in_her_language_and_signed_webhooks(
    told: None,
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    colleague: int,
    runner: FlaskCliRunner,
    inbox: MailServer,
    receiver: Receiver,
) -> None:
    integration_id = connect(signed_in, app, cc)
    spanish = app.test_client()
    spanish.set_cookie("wizard_lang", "es")
    sign_in(spanish, "colleague@bloom.test")
    _break(app, cc, integration_id)
    checked = runner.invoke(args=["integrations", "check"])
    assert "notices: 3 sent, 0 to try again" in checked.output, checked.output
    letters = {m.recipients[0]: m for m in inbox.inbox.messages}
    assert sorted(letters) == ["colleague@bloom.test", "owner@bloom.test"]
    english, spanish_letter = (
        letters["owner@bloom.test"],
        letters["colleague@bloom.test"],
    )
    assert english.message["Subject"] == "Your Constant Contact connection needs you"
    fix = f"/integrations/{integration_id}/authorize"
    assert fix in english.text and "Authorize again to reconnect" in english.text
    with app.app_context():
        reference = db.session.get(Integration, integration_id).organization
        assert reference.reference_code in english.text
    assert spanish_letter.message["Subject"] == (
        "Su conexión con Constant Contact necesita su atención"
    )
    assert fix in spanish_letter.text and "Hola" in spanish_letter.text
    assert _events(receiver) == ["connection.broken"]
    assert _signed(receiver) == [True] and _signed(receiver, "wrong") == [False]
    body = json.loads(receiver.requests[0]["body"])
    assert body["status"] == "needs_reauthorization" and body["fix_url"].endswith(fix)
    # Broken again before it worked: nobody is told twice.
    runner.invoke(args=["integrations", "check"])
    assert len(inbox.inbox.messages) == 2 and len(receiver.requests) == 1
    # It works again (the product hears so), then breaks again: told again, once.
    assert allowed_on_device(signed_in, app, cc, integration_id)["state"] == "done"
    runner.invoke(args=["integrations", "refresh"])
    assert _events(receiver) == ["connection.broken", "connection.restored"]
    _break(app, cc, integration_id)
    runner.invoke(args=["integrations", "check"])
    assert len(inbox.inbox.messages) == 4
    assert _events(receiver)[-1] == "connection.broken" and all(_signed(receiver))


def test_an_old_signature_is_refused_as_a_replay() -> None:
    body = b'{"event":"connection.broken"}'
    header = webhooks.sign(SECRET, int(time.time()) - 600, body)
    assert not webhooks.verify(SECRET, header, body, int(time.time()), 300)
    assert not webhooks.verify(SECRET, header, body + b" ", int(time.time()), 900)
    assert webhooks.verify(SECRET, header, body, int(time.time()), 900)


def test_a_failing_receiver_is_tried_again_later_and_nothing_is_lost(
    told: None,
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    runner: FlaskCliRunner,
    receiver: Receiver,
) -> None:
    integration_id = connect(signed_in, app, cc)
    receiver.refuse_next = 1
    _break(app, cc, integration_id)
    checked = runner.invoke(args=["integrations", "check"])
    assert "notices: 1 sent, 1 to try again" in checked.output
    with app.app_context():
        owed = db.session.scalars(db.select(Notice)).one()
        wait = (owed.next_attempt_at - utcnow()).total_seconds()
        assert owed.kind == "webhook" and 50 < wait <= 60
        owed.next_attempt_at = utcnow()  # a minute later
        db.session.commit()
    again = runner.invoke(args=["integrations", "replay"])
    assert "notices: 1 sent, 0 to try again" in again.output
    assert _events(receiver) == ["connection.broken", "connection.broken"]
    with app.app_context():
        assert db.session.scalars(db.select(Notice)).all() == []
        actions = db.session.scalars(
            db.select(AuditEvent.action)
            .where(AuditEvent.action.like("notice.%"))
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["notice.sent", "notice.not_sent", "notice.sent"]


def test_mended_before_she_was_told_means_no_email(
    told: None,
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    inbox: MailServer,
) -> None:
    integration_id = connect(signed_in, app, cc)
    _break(app, cc, integration_id)
    page = signed_in.post(f"/integrations/{integration_id}/test")
    assert "Constant Contact no longer accepts this connection" in page.text
    # Re-authorized before the page's answer went and the notices with it.
    assert allowed_on_device(signed_in, app, cc, integration_id)["state"] == "done"
    page.close()
    deadline = time.monotonic() + 30  # bounds a broken test only
    with app.app_context():
        while db.session.scalar(db.select(db.func.count(Notice.id))):
            assert time.monotonic() < deadline
            time.sleep(0.05)
            db.session.expire_all()
        skipped = db.session.scalars(
            db.select(AuditEvent).filter_by(action="notice.skipped")
        ).one()
    assert skipped.details["reason"] == "mended"
    assert inbox.inbox.messages == []


def test_without_mail_settings_nothing_is_sent_and_the_log_says_so(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    runner: FlaskCliRunner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="wizard.platform.mail")
    integration_id = connect(signed_in, app, cc)
    _break(app, cc, integration_id)
    checked = runner.invoke(args=["integrations", "check"])
    assert "notices: 0 sent, 0 to try again, 0 given up, 1 not needed" in checked.output
    assert "no mail server is set (WIZARD_MAIL_SERVER)" in caplog.text
