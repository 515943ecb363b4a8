"""Steps 1-3 over HTTP: valid, invalid, resumed, and other organizations' drafts."""

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import base_config
from tests.helpers.hold import ENVIRONMENT
from tests.helpers.hold import HOLDING_GUNICORN
from tests.helpers.hold import StatementHold
from tests.helpers.hold import hold_statements
from tests.helpers.live import gunicorn
from tests.helpers.live import press_at_once
from tests.helpers.live import signed_in_session
from tests.helpers.live import wizard_environment
from tests.helpers.steps import KEY
from tests.helpers.steps import LIST_ID
from tests.helpers.steps import SECRET
from tests.helpers.steps import draft_id
from tests.helpers.steps import start_draft
from tests.helpers.steps import step1
from tests.helpers.users import PASSWORD
from tests.helpers.users import sign_in
from tests.helpers.users import signed_in_client
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.platform.pool import engines

LIST_URL = f"https://app.constantcontact.com/contacts/lists/{LIST_ID}"


def integration(app: Flask, integration_id: int | None = None) -> Integration:
    """Load one integration (the only one when no id is given)."""
    with app.app_context():
        query = db.select(Integration)
        if integration_id is not None:
            query = query.filter_by(id=integration_id)
        found = db.session.scalars(query).one()
        db.session.expunge(found)
        return found


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id))
        )


def test_start_page_is_step_1_create_your_app(signed_in: FlaskClient) -> None:
    page = signed_in.get("/integrations/new").get_data(as_text=True)
    assert "Step 1 of 4" in page and page.count("<h1>") == 1
    assert "Create your app in Constant Contact" in page
    assert 'href="https://app.constantcontact.com/pages/dma/portal/"' in page
    assert "(opens in new tab)" in page
    for label in ("New Application", "Device Flow", "Long Lived", "Create", "Edit"):
        assert f"<strong>{label}</strong>" in page
    assert 'class="back-link"' in page
    assert ">Continue</button>" in page and 'name="token"' in page
    assert "Continue where you left off" not in page


def test_start_now_twice_starts_one_draft(signed_in: FlaskClient, app: Flask) -> None:
    first = start_draft(signed_in, token="same-form")
    second = start_draft(signed_in, token="same-form")
    assert first == second
    assert audit_actions(app).count("setup.started") == 1
    page = signed_in.get("/integrations/new").get_data(as_text=True)
    assert "Continue where you left off" in page
    assert f'href="/integrations/{first}/setup"' in page


# What creating a draft sends; holding it proves both presses looked first.
DRAFT_INSERT = "INSERT INTO integration ("


def drafts_by_token(app: Flask) -> list[tuple[str, int, str | None]]:
    """Return every integration as (organization, id, creation token)."""
    with app.app_context():
        rows = db.session.execute(
            db.select(
                Integration.organization_id, Integration.id, Integration.creation_token
            ).order_by(Integration.id)
        )
        return [tuple(row) for row in rows]


def press_in_threads(
    clients: list[FlaskClient], token: str
) -> tuple[list[Any], list[threading.Thread]]:
    """Press Start now in each client, one thread each; return answers and threads.

    The answers fill in as the threads end; a request that raises (the app
    propagates errors while testing) gives its error.
    """
    answers: list[Any] = [None] * len(clients)

    def press(number: int) -> None:
        try:
            answers[number] = clients[number].post(
                "/integrations/new", data={"token": token}
            )
        except Exception as error:  # the 500 a person would have seen
            answers[number] = error

    threads = [threading.Thread(target=press, args=(n,)) for n in range(len(clients))]
    for thread in threads:
        thread.start()
    return answers, threads


@pytest.fixture
def draft_hold(app: Flask) -> Iterator[StatementHold]:
    """Hold every draft's INSERT in this process until the test lets it go."""
    with StatementHold(DRAFT_INSERT) as hold:
        hold_statements(engines(app), hold.setting)
        yield hold


def test_start_now_pressed_twice_at_once_starts_one_draft(
    signed_in: FlaskClient, app: Flask, draft_hold: StatementHold
) -> None:
    second = signed_in_client(app)
    answers, threads = press_in_threads([signed_in, second], "same-form")
    # Both looked for the form's draft, found none, and are about to create it.
    draft_hold.wait_for(2)
    draft_hold.release()
    for thread in threads:
        thread.join()
    assert [getattr(a, "status_code", a) for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    rows = drafts_by_token(app)
    assert len(rows) == 1 and rows[0][2] == "same-form"
    assert answers[0].headers["Location"] == f"/integrations/{rows[0][1]}/api-key"
    assert audit_actions(app).count("setup.started") == 1


def test_start_now_pressed_twice_at_once_in_two_gunicorn_workers(
    app: Flask, database_url: str, customer: int
) -> None:
    answers: list[requests.Response] = []
    with StatementHold(DRAFT_INSERT) as hold:
        settings = base_config(database_url) | {"PUBLIC_BASE_URL": "http://127.0.0.1"}
        env = wizard_environment(settings)
        env[ENVIRONMENT] = hold.setting
        env["GUNICORN_CMD_ARGS"] = f"--config {HOLDING_GUNICORN}"
        with gunicorn(env, workers=2) as base_url:
            session = signed_in_session(base_url, "owner@bloom.test", PASSWORD)
            url = f"{base_url}/integrations/new"
            form = {"token": form_token(session.get(url, timeout=10).text)}
            pressing = threading.Thread(
                target=lambda: answers.extend(
                    press_at_once(session, [url, url], data=form)
                )
            )
            pressing.start()
            # Both looked for the form's draft and found none, each in its own
            # process (a sync worker serves one request at a time).
            arrived = hold.wait_for(2)
            hold.release()
            pressing.join()
    assert len(set(arrived)) == 2
    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.history[0].status_code for answer in answers] == [302, 302]
    rows = drafts_by_token(app)
    assert len(rows) == 1 and rows[0][2] == form["token"]
    assert {answer.url for answer in answers} == {
        f"{base_url}/integrations/{rows[0][1]}/api-key"
    }


def form_token(page: str) -> str:
    """Return the Start now form's one-time token."""
    match = re.search(r'name="token"[^>]*value="([^"]+)"', page)
    assert match, "no form token on the page"
    return match.group(1)


def test_another_organizations_form_token_starts_a_fresh_draft(
    client: FlaskClient, app: Flask, customer: int, other_customer: int
) -> None:
    sign_in(client, "owner@rival.test")
    theirs = start_draft(client, token="rival-form")
    client.post("/sign-out")
    sign_in(client, "owner@bloom.test")
    # The hidden field is whatever the browser sends: here the other's token.
    response = client.post("/integrations/new", data={"token": "rival-form"})
    assert response.status_code == 302
    ours = draft_id(response)
    again = draft_id(client.post("/integrations/new", data={"token": "rival-form"}))
    rows = {row[1]: row for row in drafts_by_token(app)}
    assert ours != theirs and again != theirs
    # Theirs is untouched; ours got a token of its own, never theirs.
    assert rows[theirs][2] == "rival-form"
    assert rows[theirs][0] != rows[ours][0]
    assert rows[ours][2] not in (None, "rival-form")
    assert len(rows[ours][2]) >= 32
    assert client.get(f"/integrations/{theirs}/api-key").status_code == 404


def test_step1_api_key_page_asks_for_the_key_alone(signed_in: FlaskClient) -> None:
    integration_id = start_draft(signed_in)
    page = signed_in.get(f"/integrations/{integration_id}/api-key").get_data(
        as_text=True
    )
    assert "Step 1 of 4" in page and "Paste your API Key" in page
    assert page.count("<h1>") == 1
    assert 'name="api_key"' in page
    # No flow question, no secret, no Redirect URI: the app check decides.
    assert "OAuth2 flow did you choose" not in page and 'name="flow"' not in page
    assert 'name="client_secret"' not in page and "Redirect URI" not in page
    assert f'href="/integrations/{integration_id}/create-app"' in page
    back = signed_in.get(f"/integrations/{integration_id}/create-app")
    assert "Create your app in Constant Contact" in back.get_data(as_text=True)


def test_full_journey_device_flow(signed_in: FlaskClient, app: Flask) -> None:
    response = step1(signed_in, api_key=f" {KEY.upper()}\u200b ")
    integration_id = draft_id(response)
    assert response.headers["Location"] == f"/integrations/{integration_id}/list-id"
    saved = integration(app)
    assert (saved.status, saved.api_key, saved.flow) == ("draft", KEY, "device")
    assert saved.client_secret_encrypted is None

    page = signed_in.get(f"/integrations/{integration_id}/list-id").get_data(
        as_text=True
    )
    assert "Step 2 of 4" in page and "Get your List ID" in page
    response = signed_in.post(
        f"/integrations/{integration_id}/list-id", data={"list_id": f" {LIST_URL} "}
    )
    assert response.headers["Location"] == f"/integrations/{integration_id}/check"
    assert integration(app).list_id == LIST_ID

    page = signed_in.get(f"/integrations/{integration_id}/check").get_data(as_text=True)
    assert "Step 3 of 4" in page
    assert "Constant Contact" in page and LIST_ID in page
    assert "taken from the address you pasted" in page
    assert KEY not in page and KEY[-4:] in page
    assert "Create integration" in page

    response = signed_in.post(f"/integrations/{integration_id}/check")
    assert response.headers["Location"] == f"/integrations/{integration_id}/authorize"
    created = integration(app)
    assert created.status == "created" and created.created_at is not None
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Saved. One step left." in page and "Step 4 of 4" in page
    assert "Sign in to Constant Contact first (opens in new tab)" in page
    assert "Integration created" not in page and "banner-success" not in page

    listing = signed_in.get("/integrations").get_data(as_text=True)
    assert created.name in listing and LIST_ID in listing
    assert "Waiting for authorization" in listing
    assert audit_actions(app) == [
        "user.signed_in",
        "setup.started",
        "setup.api_key_saved",
        "setup.app_checked",
        "setup.list_id_saved",
        "integration.created",
    ]


def test_a_client_secret_is_encrypted_and_kept(
    signed_in: FlaskClient, app: Flask
) -> None:
    # Constant Contact cannot be reached here: a pasted secret decides the flow.
    response = step1(signed_in, client_secret=f" {SECRET} ")
    integration_id = draft_id(response)
    saved = integration(app, integration_id)
    assert saved.flow == "authorization_code"
    assert saved.client_secret_encrypted and SECRET not in saved.client_secret_encrypted
    assert saved.client_secret_hint == SECRET[-4:]
    with app.app_context():
        assert db.session.get(Integration, integration_id).client_secret == SECRET

    page = signed_in.get(f"/integrations/{integration_id}/api-key").get_data(
        as_text=True
    )
    assert SECRET not in page
    assert f"Client Secret saved, ending <code>…{SECRET[-4:]}</code>" in page
    # An empty box keeps the saved secret.
    signed_in.post(
        f"/integrations/{integration_id}/api-key",
        data={"api_key": KEY, "client_secret": ""},
    )
    assert integration(app, integration_id).client_secret_hint == SECRET[-4:]


def test_a_good_secret_is_kept_when_the_key_is_wrong(
    signed_in: FlaskClient, app: Flask
) -> None:
    integration_id = start_draft(signed_in)
    response = step1(
        signed_in,
        integration_id,
        api_key="not a key",
        client_secret=SECRET,
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert SECRET not in page
    assert "Client Secret saved, ending" in page
    assert 'value="not a key"' in page
    saved = integration(app)
    assert saved.client_secret_hint == SECRET[-4:] and saved.api_key is None
    response = step1(signed_in, integration_id)
    assert response.headers["Location"] == f"/integrations/{integration_id}/list-id"
    saved = integration(app)
    assert saved.api_key == KEY and saved.client_secret_hint == SECRET[-4:]


def test_a_secret_pasted_as_the_api_key_is_never_shown_and_is_kept(
    signed_in: FlaskClient, app: Flask
) -> None:
    integration_id = start_draft(signed_in)
    response = step1(signed_in, integration_id, api_key=SECRET)
    page = response.get_data(as_text=True)
    assert SECRET not in page
    assert "We have saved it as your Client Secret" in page
    assert integration(app).client_secret_hint == SECRET[-4:]


def test_key_and_secret_the_wrong_way_round_are_put_right(
    signed_in: FlaskClient, app: Flask
) -> None:
    integration_id = start_draft(signed_in)
    response = step1(
        signed_in,
        integration_id,
        api_key=SECRET,
        client_secret=KEY,
    )
    page = response.get_data(as_text=True)
    assert "wrong way round" in page and SECRET not in page
    assert f'value="{KEY}"' in page
    assert integration(app).client_secret_hint == SECRET[-4:]
    response = step1(signed_in, integration_id)
    assert response.headers["Location"].endswith("/list-id")


def test_a_new_api_key_drops_the_old_secret_and_check(
    signed_in: FlaskClient, app: Flask
) -> None:
    integration_id = start_draft(signed_in)
    step1(signed_in, integration_id, client_secret=SECRET)
    saved = integration(app)
    assert saved.flow == "authorization_code" and saved.app_check == "unreachable"
    other_key = "bbbbbbbb-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
    step1(signed_in, integration_id, api_key=other_key)
    saved = integration(app)
    assert saved.api_key == other_key and saved.client_secret_encrypted is None
    # Checked again for the new app; with no secret, Device Flow is the guess.
    assert saved.flow == "device" and saved.app_check == "unreachable"
    assert audit_actions(app).count("setup.app_checked") == 2


def test_a_posted_flow_is_ignored(signed_in: FlaskClient, app: Flask) -> None:
    integration_id = start_draft(signed_in)
    step1(signed_in, integration_id, flow="authorization_code")
    assert integration(app).flow == "device"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"api_key": ""}, "Enter your API Key"),
        ({"api_key": SECRET}, "looks like your Client Secret"),
        (
            {"api_key": "https://wizard.test/callback/constant-contact-auth"},
            "Redirect URI",
        ),
        ({"client_secret": "two words"}, "should be one word"),
    ],
)
def test_step1_errors_are_plain_and_linked(
    signed_in: FlaskClient, app: Flask, fields: dict[str, str], message: str
) -> None:
    response = step1(signed_in, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page and message in page
    assert page.startswith("<!doctype html>") and "<title>Error: " in page
    assert 'aria-invalid="true"' in page
    assert re.search(r'<a href="#(api_key|client_secret)">', page)
    assert SECRET not in page


def test_step2_errors_keep_what_was_pasted(signed_in: FlaskClient, app: Flask) -> None:
    integration_id = draft_id(step1(signed_in))
    pasted = "https://app.constantcontact.com/pages/contacts/ui#lists"
    response = signed_in.post(
        f"/integrations/{integration_id}/list-id", data={"list_id": pasted}
    )
    page = response.get_data(as_text=True)
    assert "We could not find a List ID in what you pasted" in page
    assert f'value="{pasted}"' in page
    assert integration(app).list_id is None
    response = signed_in.post(
        f"/integrations/{integration_id}/list-id", data={"list_id": KEY}
    )
    assert "That is your API Key" in response.get_data(as_text=True)


def task_states(page: str) -> list[tuple[str | None, str]]:
    """Return each task's link (or None) and state from a task-list page."""
    tasks = re.findall(r'<li class="task">(.*?)</li>', page, re.S)
    return [
        (
            (re.search(r'href="([^"]+)"', task) or [None, None])[1],
            re.search(r'class="tag [\w-]+">([^<]+)<', task)[1],
        )
        for task in tasks
    ]


def continue_href(page: str) -> str:
    """Return where the task list's Continue button goes."""
    return re.search(r'<a class="button" href="([^"]+)">Continue</a>', page)[1]


def test_resume_shows_a_task_list_that_continues_where_you_left_off(
    signed_in: FlaskClient, app: Flask
) -> None:
    integration_id = draft_id(step1(signed_in))
    base = f"/integrations/{integration_id}"
    page = signed_in.get(f"{base}/setup").get_data(as_text=True)
    assert "<h1>" in page and "You have completed 1 of 4 steps" in page
    assert task_states(page) == [
        (f"{base}/api-key", "Completed"),
        (f"{base}/list-id", "Not yet started"),
        (None, "Cannot start yet"),
        (None, "Cannot start yet"),
    ]
    assert continue_href(page) == f"{base}/list-id"
    signed_in.post(f"{base}/list-id", data={"list_id": LIST_ID})
    page = signed_in.get(f"{base}/setup").get_data(as_text=True)
    assert [state for _, state in task_states(page)] == [
        "Completed",
        "Completed",
        "Not yet started",
        "Cannot start yet",
    ]
    assert continue_href(page) == f"{base}/check"
    listing = signed_in.get("/integrations").get_data(as_text=True)
    assert "Continue setup" in listing and "Step 3 of 4 next" in listing
    signed_in.post(f"{base}/check")
    page = signed_in.get(f"{base}/setup").get_data(as_text=True)
    assert task_states(page)[2:] == [
        (None, "Completed"),
        (f"{base}/authorize", "Not yet started"),
    ]
    assert continue_href(page) == f"{base}/authorize"
    assert "within 5 minutes" in page


def test_later_steps_send_you_back_when_earlier_ones_are_missing(
    signed_in: FlaskClient,
) -> None:
    integration_id = start_draft(signed_in)
    step1(
        signed_in,
        integration_id,
        flow="authorization_code",
        api_key="x",
        client_secret=SECRET,
    )
    for step in ("list-id", "check"):
        response = signed_in.get(f"/integrations/{integration_id}/{step}")
        assert response.headers["Location"] == f"/integrations/{integration_id}/api-key"


def test_change_from_check_returns_to_check(signed_in: FlaskClient, app: Flask) -> None:
    integration_id = draft_id(step1(signed_in))
    signed_in.post(f"/integrations/{integration_id}/list-id", data={"list_id": LIST_ID})
    page = signed_in.get(f"/integrations/{integration_id}/check").get_data(as_text=True)
    change = f"/integrations/{integration_id}/api-key?from=check"
    assert f'href="{change}"' in page
    other_key = "aaaaaaaa-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
    response = signed_in.post(change, data={"flow": "device", "api_key": other_key})
    assert response.headers["Location"] == f"/integrations/{integration_id}/check"
    assert integration(app).api_key == other_key


def test_create_twice_creates_once(signed_in: FlaskClient, app: Flask) -> None:
    integration_id = draft_id(step1(signed_in))
    signed_in.post(f"/integrations/{integration_id}/list-id", data={"list_id": LIST_ID})
    first = signed_in.post(f"/integrations/{integration_id}/check")
    second = signed_in.post(f"/integrations/{integration_id}/check")
    assert first.headers["Location"] == second.headers["Location"]
    assert audit_actions(app).count("integration.created") == 1
    # Until it is connected, step 1 can still correct it; then step 4 comes next.
    assert signed_in.get(f"/integrations/{integration_id}/api-key").status_code == 200
    response = step1(signed_in, integration_id)
    assert response.headers["Location"] == f"/integrations/{integration_id}/authorize"
    assert integration(app).status == "created"


def test_other_organizations_drafts_are_not_found(
    client: FlaskClient, app: Flask, customer: int, other_customer: int
) -> None:
    sign_in(client, "owner@bloom.test")
    integration_id = draft_id(step1(client))
    client.post("/sign-out")
    sign_in(client, "owner@rival.test")
    for method, path in [
        ("get", f"/integrations/{integration_id}/setup"),
        ("get", f"/integrations/{integration_id}/delete"),
        ("post", f"/integrations/{integration_id}/delete"),
        ("get", f"/integrations/{integration_id}/api-key"),
        ("post", f"/integrations/{integration_id}/api-key"),
        ("get", f"/integrations/{integration_id}/list-id"),
        ("post", f"/integrations/{integration_id}/list-id"),
        ("get", f"/integrations/{integration_id}/check"),
        ("post", f"/integrations/{integration_id}/check"),
        ("get", f"/integrations/{integration_id}/created"),
    ]:
        assert getattr(client, method)(path).status_code == 404, path
    assert KEY[-4:] not in client.get("/integrations").get_data(as_text=True)
    assert integration(app).api_key == KEY


def test_integrations_page_empty_state(signed_in: FlaskClient) -> None:
    page = signed_in.get("/integrations").get_data(as_text=True)
    assert "You have no integrations yet" in page
    assert "Add a new Integration" in page


def test_actions_menu_has_no_dead_links(signed_in: FlaskClient) -> None:
    integration_id = draft_id(step1(signed_in))
    signed_in.post(f"/integrations/{integration_id}/list-id", data={"list_id": LIST_ID})
    signed_in.post(f"/integrations/{integration_id}/check")
    page = signed_in.get("/integrations").get_data(as_text=True)
    menu = page.split('<details class="actions">')[1].split("</details>")[0]
    assert "<summary>Actions" in menu
    for action in (
        "Authorize",
        "Change List ID",
        "Test connection",
        "Disconnect",
        "Delete",
    ):
        assert action in menu
    assert 'href="#"' not in page and 'href=""' not in page
    hrefs = re.findall(r'href="(/[^"]*)"', page)
    assert f"/integrations/{integration_id}/authorize" in hrefs
    for href in hrefs:
        with signed_in.get(href) as response:
            if href == "/":
                # The site's name leads home: the integrations page.
                assert response.status_code == 302
                assert response.headers["Location"] == "/integrations"
            else:
                assert response.status_code == 200, href


def test_secrets_stay_out_of_pages_logs_and_urls(
    signed_in: FlaskClient, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    response = step1(signed_in, flow="authorization_code", client_secret=SECRET)
    integration_id = draft_id(response)
    seen = [response.headers["Location"]]
    for path in (
        f"/integrations/{integration_id}/api-key",
        f"/integrations/{integration_id}/list-id",
    ):
        seen.append(signed_in.get(path).get_data(as_text=True))
    response = signed_in.post(
        f"/integrations/{integration_id}/list-id", data={"list_id": LIST_ID}
    )
    seen.append(response.headers["Location"])
    seen.append(
        signed_in.get(f"/integrations/{integration_id}/check").get_data(as_text=True)
    )
    signed_in.post(f"/integrations/{integration_id}/check")
    seen.append(signed_in.get("/integrations").get_data(as_text=True))
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent)).all()
        seen.extend(str(event.details) for event in events)
    seen.append(caplog.text)
    # The session cookie is signed, not encrypted: read what it carries.
    cookie = signed_in.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    seen.extend([cookie.value, str(session)])
    for text in seen:
        assert SECRET not in text
