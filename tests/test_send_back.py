"""Support's "Send her back" (issue 16, part 5): copy the link to where she left off,
or e-mail it to her through a real SMTP server (aiosmtpd), both on her Activity page.
"""

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import AppWith
from tests.helpers.integrations import make_integration
from tests.helpers.live import csrf_token
from tests.helpers.live import free_port
from tests.helpers.smtp import PASSWORD
from tests.helpers.smtp import USERNAME
from tests.helpers.smtp import MailServer
from tests.helpers.smtp import mail_server
from tests.helpers.users import PASSWORD as SIGN_IN_PASSWORD
from tests.helpers.users import make_user
from tests.helpers.users import sign_in
from wizard.models import ROLE_CUSTOMER
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import User
from wizard.platform.extensions import db

HELPER = "helper@promopulse.test"
OWNER = "owner@bloom.test"
COPIED = "Support copied the link to where you left off"
EMAILED = "Support e-mailed you the link to where you left off"
FAILED = "Support tried to e-mail you the link to where you left off; it was not sent"
# The "few minutes", written here rather than read from the code under test.
FEW_MINUTES = timedelta(minutes=5)


@pytest.fixture
def inbox() -> Iterator[MailServer]:
    """A real SMTP server, taking every message."""
    with mail_server() as server:
        yield server


@pytest.fixture
def mailing(app_with: AppWith, inbox: MailServer) -> Flask:
    """The app with its mail settings pointed at the test's SMTP server."""
    return app_with(**inbox.settings())


def hers(app: Flask, created_by: str | None = OWNER) -> int:
    """Bloom's integration, created by this customer; return its id."""
    integration_id = make_integration(app, "k" * 36)
    with app.app_context():
        integration = db.session.get(Integration, integration_id)
        integration.created_by_id = db.session.scalar(
            db.select(User.id).filter_by(email=created_by)
        )
        db.session.commit()
    return integration_id


def signs_in_once(client: FlaskClient, email: str, language: str | None) -> None:
    """Someone signs in (in this language, if given) and out again."""
    if language:
        client.set_cookie("wizard_lang", language)
    assert sign_in(client, email).status_code == 302
    client.post("/sign-out")
    client.delete_cookie("wizard_lang")


def rows(app: Flask, action: str) -> list[AuditEvent]:
    """The audit events of this action, oldest first."""
    with app.app_context():
        found = db.session.scalars(
            db.select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)
        ).all()
        for event in found:
            db.session.expunge(event)
        return list(found)


def activity(client: FlaskClient, language: str = "en") -> str:
    """Her Activity page, in this language (signed in as the Bloom customer)."""
    client.set_cookie("wizard_lang", language)
    sign_in(client, OWNER)
    page = client.get("/activity").text
    client.post("/sign-out")
    client.delete_cookie("wizard_lang")
    return page


def reference(app: Flask) -> str:
    with app.app_context():
        return db.session.scalar(
            db.select(Organization.reference_code).filter_by(name="Bloom")
        )


def unchanged(app: Flask, integration_id: int) -> tuple[Any, ...]:
    """What support must not change: the integration's row as saved."""
    with app.app_context():
        found = db.session.get(Integration, integration_id)
        return (found.status, found.updated_at, found.list_id, found.api_key)


def test_she_gets_one_email_in_her_language_with_her_link_and_reference(
    mailing: Flask,
    inbox: MailServer,
    customer: int,
    colleague: int,
    support_user: int,
) -> None:
    client = mailing.test_client()
    integration_id = hers(mailing)
    signs_in_once(client, OWNER, "es")
    signs_in_once(client, "colleague@bloom.test", "en")  # later, but not hers
    before = unchanged(mailing, integration_id)
    sign_in(client, HELPER)
    page = client.get(f"/support/integrations/{integration_id}").text
    assert "E-mail her the link" in page
    assert "It goes to o…@bloom.test, in Spanish." in page
    assert OWNER not in page

    answer = client.post(f"/support/integrations/{integration_id}/email-link")
    assert answer.headers["Location"].endswith(
        f"/support/integrations/{integration_id}#send-back"
    )
    shown = client.get(answer.headers["Location"]).text
    assert "E-mailed her the link, to o…@bloom.test." in shown

    [received] = inbox.inbox.messages
    assert received.recipients == [OWNER] and received.message["To"] == OWNER
    assert (
        received.message["Subject"] == "Siga configurando su integración de PromoPulse"
    )
    text = received.text
    assert f"https://wizard.test/integrations/{integration_id}/setup" in text
    assert reference(mailing) in text and text.startswith("Hola:")
    assert "Hello" not in text and " the " not in text
    [event] = rows(mailing, "support.emailed_link")
    assert event.details == {"to": "o…@bloom.test", "language": "es"}
    assert OWNER not in json.dumps(event.details, ensure_ascii=False)
    assert unchanged(mailing, integration_id) == before
    client.post("/sign-out")
    assert EMAILED in activity(client)
    assert "Soporte le envió por correo el enlace a donde se quedó" in activity(
        client, "es"
    )


def test_who_gets_it_when_she_left_and_when_her_language_is_not_known(
    mailing: Flask, inbox: MailServer, customer: int, support_user: int
) -> None:
    make_user(mailing, "newcomer@bloom.test", ROLE_CUSTOMER, "Bloom")
    make_user(mailing, "helper@bloom.test", ROLE_CUSTOMER, "Bloom")
    make_user(mailing, "owner@rival.test", ROLE_CUSTOMER, "Rival")
    client = mailing.test_client()
    integration_id = hers(mailing)
    signs_in_once(client, "helper@bloom.test", "es")
    # She is still Bloom's, never signed in: hers, in English, said to be a guess.
    sign_in(client, HELPER)
    page = client.get(f"/support/integrations/{integration_id}").text
    assert "It goes to o…@bloom.test, in English (her language is not known)." in page
    client.post(f"/support/integrations/{integration_id}/email-link")
    assert inbox.inbox.messages[-1].recipients == [OWNER]
    assert inbox.inbox.messages[-1].text.startswith("Hello,")
    # She moved to another company: Bloom's customer who signed in last gets it.
    with mailing.app_context():
        rival = db.session.scalar(db.select(Organization.id).filter_by(name="Rival"))
        db.session.get(User, customer).organization_id = rival
        db.session.commit()
    page = client.get(f"/support/integrations/{integration_id}").text
    assert "It goes to h…@bloom.test, in Spanish." in page
    client.post(f"/support/integrations/{integration_id}/email-link")
    assert inbox.inbox.messages[-1].recipients == ["helper@bloom.test"]
    assert len(inbox.inbox.messages) == 2


def test_without_mail_settings_no_button_and_nothing_sent(
    app: Flask, inbox: MailServer, customer: int, support_user: int
) -> None:
    client = app.test_client()
    integration_id = hers(app)
    sign_in(client, HELPER)
    page = client.get(f"/support/integrations/{integration_id}").text
    box = page[page.index('<section id="send-back"') :]
    box = box[: box.index("</section>")]
    assert "Copy the link to where she left off" in box
    assert "mail" not in box.lower()  # no button, no word of e-mail
    answer = client.post(f"/support/integrations/{integration_id}/email-link")
    assert answer.status_code == 404
    assert inbox.inbox.messages == [] and rows(app, "support.emailed_link") == []


def test_a_mail_server_that_is_down_is_said_plainly_and_on_record(
    app_with: AppWith,
    customer: int,
    support_user: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    down = app_with(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=free_port(),  # nobody listens
        MAIL_USERNAME=USERNAME,
        MAIL_PASSWORD=PASSWORD,
    )
    client = down.test_client()
    integration_id = hers(down)
    sign_in(client, HELPER)
    answer = client.post(
        f"/support/integrations/{integration_id}/email-link", follow_redirects=True
    )
    assert answer.status_code == 200
    assert (
        "The e-mail was not sent: the mail server could not be reached or refused "
        "it. Copy the link and give it to her another way." in answer.text
    )
    [event] = rows(down, "support.email_link_failed")
    assert event.details == {"to": "o…@bloom.test", "problem": "unreachable"}
    assert rows(down, "support.emailed_link") == []
    assert PASSWORD not in caplog.text + answer.text + json.dumps(event.details)
    assert "E-mail to o…@bloom.test not sent" in caplog.text
    client.post("/sign-out")
    assert FAILED in activity(client)


def test_copying_without_javascript_shows_the_link_ready_and_is_on_record(
    client: FlaskClient, app: Flask, customer: int, support_user: int
) -> None:
    integration_id = hers(app)
    before = unchanged(app, integration_id)
    sign_in(client, HELPER)
    copy = f"/support/integrations/{integration_id}/copy-link"
    answer = client.post(copy)
    location = answer.headers["Location"]
    assert location.endswith(f"/support/integrations/{integration_id}?copying=1")
    page = client.get(location).text
    assert "The link is ready to copy: it is in the box below." in page
    field = re.search(r'<input[^>]*id="resume-link"[^>]*>', page)
    assert field is not None
    link = f"https://wizard.test/integrations/{integration_id}/setup"
    assert f'value="{link}"' in field.group(0)
    assert "readonly" in field.group(0) and "autofocus" in field.group(0)
    # Copied again and again within a few minutes: one event for her.
    for _ in range(3):
        client.post(copy)
    assert len(rows(app, "support.copied_link")) == 1
    with app.app_context():
        for event in db.session.scalars(db.select(AuditEvent)):
            event.at -= FEW_MINUTES
        db.session.commit()
    client.post(copy)
    assert len(rows(app, "support.copied_link")) == 2
    assert unchanged(app, integration_id) == before
    client.post("/sign-out")
    assert activity(client).count(COPIED) == 2
    assert activity(client, "es").count("Soporte copió el enlace a donde se quedó") == 2


def test_the_scripts_copy_is_recorded_without_a_page(
    client: FlaskClient, app: Flask, customer: int, support_user: int
) -> None:
    integration_id = hers(app)
    sign_in(client, HELPER)
    answer = client.post(
        f"/support/integrations/{integration_id}/copy-link",
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 204 and answer.text == ""
    assert len(rows(app, "support.copied_link")) == 1
    page = client.get(f"/support/integrations/{integration_id}").text
    assert "ready to copy" not in page  # no message left waiting for the next page


def test_both_need_the_forms_csrf_token(
    app_with: AppWith, inbox: MailServer, customer: int, support_user: int
) -> None:
    checked = app_with(WTF_CSRF_ENABLED=True, **inbox.settings())
    client = checked.test_client()
    integration_id = hers(checked)
    token = csrf_token(client.get("/sign-in").text)
    client.post(
        "/sign-in",
        data={"email": HELPER, "password": SIGN_IN_PASSWORD, "csrf_token": token},
    )
    base = f"/support/integrations/{integration_id}"
    for path in (f"{base}/copy-link", f"{base}/email-link"):
        assert client.post(path).status_code == 400, path
        assert client.post(path, data={"csrf_token": "forged"}).status_code == 400
    assert rows(checked, "support.copied_link") == [] and inbox.inbox.messages == []
    token = csrf_token(client.get(base).text)
    for path in (f"{base}/copy-link", f"{base}/email-link"):
        assert client.post(path, data={"csrf_token": token}).status_code == 302
    assert len(rows(checked, "support.copied_link")) == 1
    assert len(inbox.inbox.messages) == 1


def test_customers_and_strangers_get_404(
    mailing: Flask, inbox: MailServer, customer: int, support_user: int
) -> None:
    client = mailing.test_client()
    integration_id = hers(mailing)
    base = f"/support/integrations/{integration_id}"
    sign_in(client, OWNER)
    for path in (f"{base}/copy-link", f"{base}/email-link"):
        assert client.post(path).status_code == 404, path
    client.post("/sign-out")
    sign_in(client, HELPER)
    for path in (
        "/support/integrations/999/copy-link",
        "/support/integrations/999/email-link",
    ):
        assert client.post(path).status_code == 404, path
    assert inbox.inbox.messages == []
    assert rows(mailing, "support.copied_link") == []


def test_e_mails_are_rate_limited_per_integration(
    app_with: AppWith, inbox: MailServer, customer: int, support_user: int
) -> None:
    limited = app_with(SEND_BACK_EMAIL_RATE_LIMIT="2 per minute", **inbox.settings())
    client = limited.test_client()
    integration_id = hers(limited)
    sign_in(client, HELPER)
    path = f"/support/integrations/{integration_id}/email-link"
    assert [client.post(path).status_code for _ in range(3)] == [302, 302, 429]
    assert len(inbox.inbox.messages) == 2
