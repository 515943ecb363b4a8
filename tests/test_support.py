"""The support console: find a customer, see where they are, never see a secret."""

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.attempts import attempt_of
from tests.helpers.attempts import make_due
from tests.helpers.attempts import open_window
from tests.helpers.attempts import start_attempt
from tests.helpers.attempts import status
from tests.helpers.integrations import REDIRECT_URI
from tests.helpers.integrations import make_integration
from tests.helpers.sandbox import approve_in_sandbox
from tests.helpers.users import sign_in
from wizard.models import AuditEvent
from wizard.models import Integration
from wizard.models import Organization
from wizard.platform.extensions import db
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_application

pytestmark = pytest.mark.sandboxed


def reference(app: Flask, name: str = "Bloom") -> str:
    with app.app_context():
        return (
            db.session.scalars(db.select(Organization).filter_by(name=name))
            .one()
            .reference_code
        )


@pytest.fixture
def helper(client: FlaskClient, customer: int, support_user: int) -> FlaskClient:
    """The client, signed in as support staff."""
    assert sign_in(client, "helper@promopulse.test").status_code == 302
    return client


def test_find_a_customer_by_what_they_read_out(helper: FlaskClient, app: Flask) -> None:
    code = reference(app)
    heard = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    for query in ("bloom", "OWNER@BLOOM", "Bloo"):
        page = helper.get("/support", query_string={"q": query}).text
        assert "Bloom" in page and code in page, query
    for whole in (code, heard):  # straight to Bloom (see the tests below)
        assert helper.get("/support", query_string={"q": whole}).status_code == 302
    page = helper.get("/support", query_string={"q": "nobody"}).text
    assert "No organization matches" in page and "Bloom" not in page


def test_the_live_view_of_a_device_attempt(
    client: FlaskClient, app: Flask, cc: str, customer: int, support_user: int
) -> None:
    sign_in(client, "owner@bloom.test")
    api_key = create_application(cc)["api_key"]
    integration_id = make_integration(app, api_key)
    start_attempt(client, integration_id)
    start_attempt(client, integration_id)  # restarted once
    attempt = attempt_of(app, integration_id)
    client.post("/sign-out")

    sign_in(client, "helper@promopulse.test")
    page = client.get(f"/support/integrations/{integration_id}").text
    assert "Step 4 of 4" in page and "In progress" in page
    assert "Completed" in page  # steps 1-3
    assert re.search(r"4:[0-5]\d left", page) and "data-right-now" in page
    assert ">Refresh</a>" in page
    assert f"ends …{attempt.user_code[-2:]}" in page
    assert attempt.user_code not in page
    assert api_key not in page and f"ends …{api_key[-4:]}" in page
    assert "Times restarted</dt><dd>1" in page
    # The timeline says what happened in words, not the audit codes.
    assert "Got an Activation Code (step 4)" in page
    assert "authorization.started" not in page
    assert (
        f"/integrations/{integration_id}/setup" in page
    )  # the link back for the customer
    client.post("/sign-out")

    sign_in(client, "owner@bloom.test")
    activity = client.get("/activity").text
    assert "Looked at an integration" in activity and "PromoPulse support" in activity
    assert "support.viewed_integration" not in activity  # words, not codes


def test_customers_see_support_as_the_brand_never_an_email(
    client: FlaskClient,
    app: Flask,
    cc: str,
    customer: int,
    support_user: int,
    colleague: int,
) -> None:
    """Activity names support staff "PromoPulse support"; colleagues by their email."""
    sign_in(client, "colleague@bloom.test")
    integration_id = make_integration(app, create_application(cc)["api_key"])
    start_attempt(client, integration_id)
    client.post("/sign-out")

    sign_in(client, "helper@promopulse.test")
    with app.app_context():
        organization_id = db.session.get(Integration, integration_id).organization_id
    assert client.get(f"/support/organizations/{organization_id}").status_code == 200
    client.get(f"/support/integrations/{integration_id}")
    # Support's own console may name the person (this shows the first view).
    page = client.get(f"/support/integrations/{integration_id}").text
    assert "Looked at an integration by helper@promopulse.test" in page
    client.post("/sign-out")

    sign_in(client, "owner@bloom.test")
    activity = client.get("/activity").text
    assert "Looked at your organization" in activity
    assert "Looked at an integration" in activity
    assert "PromoPulse support" in activity
    assert "helper@promopulse.test" not in activity
    assert "colleague@bloom.test" in activity


def test_support_runs_test_connection_and_nothing_else(
    client: FlaskClient, app: Flask, cc: str, customer: int, support_user: int
) -> None:
    sign_in(client, "owner@bloom.test")
    integration_id = make_integration(app, create_application(cc)["api_key"])
    start_attempt(client, integration_id)
    attempt = attempt_of(app, integration_id)
    approve_device(cc, attempt.user_code)
    make_due(app, attempt.id)
    assert status(client, integration_id, attempt.id)["state"] == "done"
    client.post("/sign-out")

    sign_in(client, "helper@promopulse.test")
    response = client.post(
        f"/support/integrations/{integration_id}/test", follow_redirects=True
    )
    assert "Test connection worked: Newsletter" in response.text
    assert "needs to authorize again" not in response.text
    # Marked for re-authorization (a refused refresh): working now is not enough.
    with app.app_context():
        db.session.get(Integration, integration_id).status = "needs_reauthorization"
        db.session.commit()
    response = client.post(
        f"/support/integrations/{integration_id}/test", follow_redirects=True
    )
    assert "Test connection worked: Newsletter" in response.text
    assert "The customer needs to authorize again." in response.text
    with app.app_context():
        saved = db.session.get(Integration, integration_id)
        assert saved.status == "needs_reauthorization"
    for path in (
        f"/integrations/{integration_id}/authorize",
        f"/integrations/{integration_id}/disconnect",
        f"/integrations/{integration_id}/delete",
        f"/integrations/{integration_id}/list",
        f"/integrations/{integration_id}/api-key",
    ):
        assert client.post(path).status_code == 404, path
    with app.app_context():
        actions = set(db.session.scalars(db.select(AuditEvent.action)))
        assert db.session.get(Integration, integration_id).holds_tokens
    assert "support.tested_connection" in actions


def _urls(app: Flask, ids: dict[str, int]) -> list[tuple[str, str]]:
    """Every route of the app, with ids filled in, and each of its methods."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("sandbox"):
            continue
        url = rule.build({name: ids.get(name, 1) for name in rule.arguments})[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_route_for_every_kind_of_person(
    client: FlaskClient,
    app: Flask,
    cc: str,
    customer: int,
    other_customer: int,
    support_user: int,
) -> None:
    sign_in(client, "owner@bloom.test")
    integration_id = make_integration(app, create_application(cc)["api_key"])
    start_attempt(client, integration_id)
    attempt = attempt_of(app, integration_id)
    client.post("/sign-out")
    ids = {
        "integration_id": integration_id,
        "attempt_id": attempt.id,
        "organization_id": 1,
    }
    urls = _urls(app, ids)
    assert len(urls) > 30
    # Choosing a language and the health checks need no account.
    public = {"/sign-in", "/", "/language", "/healthz", "/readyz"}
    customer_only = [
        (m, u) for m, u in urls if u.startswith("/integrations") or u == "/activity"
    ]
    support_only = [(m, u) for m, u in urls if u.startswith("/support")]

    # Nobody signed in: only the sign-in page, everything else asks to sign in.
    for method, url in urls:
        response = client.open(url, method=method)
        if url in public or url.startswith("/callback"):
            continue
        # Every method listed is one the route takes: never a 405, always sign in.
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/sign-in"), (method, url)

    # Another organization's customer: Bloom's things do not exist for them.
    sign_in(client, "owner@rival.test")
    for method, url in customer_only + support_only:
        if url in ("/integrations", "/integrations/new", "/activity"):
            continue  # their own lists, which do not show Bloom's things
        assert client.open(url, method=method).status_code == 404, (method, url)
    rival_activity = client.get("/activity").text
    assert "Signed in" in rival_activity
    assert "Got an Activation Code" not in rival_activity
    client.post("/sign-out")

    # Support: read-only console, no customer pages.
    sign_in(client, "helper@promopulse.test")
    for method, url in customer_only:
        assert client.open(url, method=method).status_code == 404, (method, url)
    for method, url in support_only:
        if method == "GET":
            assert client.open(url).status_code == 200, url


def test_no_secret_reaches_any_page_log_or_url(
    client: FlaskClient,
    app: Flask,
    cc: str,
    customer: int,
    support_user: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    created = create_application(
        cc, flow="authorization_code", redirect_uris=[REDIRECT_URI]
    )
    secret = created["client_secret"]
    sign_in(client, "owner@bloom.test")
    integration_id = make_integration(
        app, created["api_key"], flow="authorization_code", secret=secret
    )
    start_attempt(client, integration_id)
    attempt = attempt_of(app, integration_id)
    location = open_window(client, integration_id, attempt.id)
    redirect = approve_in_sandbox(location)
    seen = [location]
    seen.append(client.get(redirect.replace("https://wizard.test", "")).text)
    device_id = make_integration(app, create_application(cc)["api_key"])
    start_attempt(client, device_id)
    device_attempt = attempt_of(app, device_id)
    with app.app_context():
        connected = db.session.get(Integration, integration_id)
        tokens = [
            connected.unseal("access_token_encrypted"),
            connected.unseal("refresh_token_encrypted"),
            device_attempt.unseal("device_code_encrypted"),
            attempt_of(app, integration_id).unseal("code_verifier_encrypted"),
        ]
        # The ciphertexts too: no page, URL, audit detail or log line carries them.
        stored = [
            connected.access_token_encrypted,
            connected.refresh_token_encrypted,
            connected.client_secret_encrypted,
            device_attempt.device_code_encrypted,
        ]
    secrets_ = [secret, *tokens, *stored]
    for path in (
        "/integrations",
        "/activity",
        f"/integrations/{integration_id}/authorize",
        f"/integrations/{integration_id}/active",
        f"/integrations/{integration_id}/test",
        f"/integrations/{device_id}/authorize/{device_attempt.id}",
    ):
        response = client.get(path, follow_redirects=True)
        seen.append(response.text)
        seen.append(response.request.url)
    client.post("/sign-out")
    sign_in(client, "helper@promopulse.test")
    for path in (
        "/support",
        "/support/organizations/1",
        f"/support/integrations/{integration_id}",
        f"/support/integrations/{device_id}",
    ):
        seen.append(client.get(path).text)
    with app.app_context():
        seen.extend(str(e.details) for e in db.session.scalars(db.select(AuditEvent)))
    seen.append(caplog.text)
    for text in seen:
        for value in secrets_:
            assert value not in text


def test_support_sees_the_messages_the_customer_was_shown(
    client: FlaskClient, app: Flask, customer: int, support_user: int
) -> None:
    sign_in(client, "owner@bloom.test")
    response = client.post("/integrations/new", data={"token": "t"})
    integration_id = int(response.headers["Location"].split("/")[2])
    typed = "Xy3_kq9ZpL0mN2bV4cD6eQ"
    client.post(
        f"/integrations/{integration_id}/api-key",
        data={"flow": "device", "api_key": typed},
    )
    client.post("/sign-out")
    sign_in(client, "helper@promopulse.test")
    page = client.get(f"/support/integrations/{integration_id}").text
    assert "That looks like your Client Secret, not your API Key" in page
    assert typed not in page


def test_a_whole_reference_or_email_opens_her_integration_in_progress(
    helper: FlaskClient, app: Flask, cc: str
) -> None:
    working = make_integration(app, create_application(cc)["api_key"])
    in_progress = make_integration(app, create_application(cc)["api_key"])
    with app.app_context():
        db.session.get(Integration, working).status = "active"
        db.session.commit()
    code = reference(app)
    heard = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    for query in (code, heard, "Owner@Bloom.test"):
        found = helper.get("/support", query_string={"q": query})
        assert found.status_code == 302, query
        assert found.headers["Location"] == f"/support/integrations/{in_progress}"
    # Part of a name or an address still lists what matches.
    listed = helper.get("/support", query_string={"q": "bloo"})
    assert listed.status_code == 200 and code in listed.text


def test_a_whole_reference_without_integrations_opens_the_organization(
    helper: FlaskClient, app: Flask
) -> None:
    found = helper.get("/support", query_string={"q": reference(app)})
    with app.app_context():
        bloom = db.session.scalars(
            db.select(Organization).filter_by(name="Bloom")
        ).one()
    assert found.headers["Location"] == f"/support/organizations/{bloom.id}"
