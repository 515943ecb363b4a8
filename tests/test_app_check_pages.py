"""Step 1 asks the local Constant Contact about the app as the API Key is pasted,
and shows what it found as a tick list with one fix, before any clock starts."""

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.integrations import REDIRECT_URI
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.sandbox import give_up_sooner
from tests.helpers.sandbox import settled
from tests.helpers.steps import start_draft
from tests.helpers.steps import step1
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import set_faults

pytestmark = pytest.mark.sandboxed


def _page(client: FlaskClient, integration_id: int) -> str:
    return client.get(f"/integrations/{integration_id}/api-key").get_data(as_text=True)


def _code_app(cc: str, **settings: Any) -> dict[str, Any]:
    settings.setdefault("redirect_uris", [REDIRECT_URI])
    return create_application(cc, flow="authorization_code", **settings)


def test_a_device_flow_app_goes_straight_to_step_2(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    api_key = create_application(cc, flow="device")["api_key"]
    draft = start_draft(signed_in)
    response = step1(signed_in, draft, api_key=api_key)
    assert response.headers["Location"] == f"/integrations/{draft}/list-id"
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Step 2 of 4" in page and "Constant Contact checked your app" in page
    assert "App found" in page and "Set to Device Flow" in page
    assert "banner-success" in page
    saved = load(app, draft)
    assert (saved.flow, saved.app_check) == ("device", "device")


def test_an_unknown_key_stays_on_step_1_with_its_fix(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    draft = start_draft(signed_in)
    unknown = str(uuid.uuid4())
    response = step1(signed_in, draft, api_key=unknown)
    assert response.headers["Location"] == f"/integrations/{draft}/api-key"
    page = _page(signed_in, draft)
    assert "No:</span> App found" in page
    assert "no app set to Device Flow with this API Key" in page
    assert f'value="{unknown}"' in page  # what she pasted is still there
    assert 'name="client_secret"' in page and REDIRECT_URI in page
    assert ">Check again</button>" in page
    # Step 2 is not open until step 1 is fixed.
    step2 = signed_in.get(f"/integrations/{draft}/list-id")
    assert step2.headers["Location"] == f"/integrations/{draft}/api-key"


def test_an_authorization_code_app_is_found_with_its_secret(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    created = _code_app(cc)
    draft = start_draft(signed_in)
    step1(signed_in, draft, api_key=created["api_key"])
    assert 'name="client_secret"' in _page(signed_in, draft)
    response = step1(
        signed_in,
        draft,
        api_key=created["api_key"],
        client_secret=created["client_secret"],
    )
    assert response.headers["Location"] == f"/integrations/{draft}/list-id"
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    for row in ("App found", "API Key and Client Secret match", "Redirect URI added"):
        assert f"Yes:</span> {row}" in page
    saved = load(app, draft)
    assert (saved.flow, saved.app_check) == ("authorization_code", "code_flow")
    assert saved.client_secret_hint is not None


def test_swapped_key_and_secret_are_put_right_and_checked(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    created = _code_app(cc)
    draft = start_draft(signed_in)
    page = step1(
        signed_in,
        draft,
        api_key=created["client_secret"],
        client_secret=created["api_key"],
    ).get_data(as_text=True)
    assert "wrong way round" in page and created["client_secret"] not in page
    # The key is back in its box and the secret was kept: Continue checks both.
    response = step1(signed_in, draft, api_key=created["api_key"])
    assert response.headers["Location"] == f"/integrations/{draft}/list-id"
    assert load(app, draft).app_check == "code_flow"


def test_a_wrong_secret_is_refused_in_plain_words(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    created = _code_app(cc)
    draft = start_draft(signed_in)
    step1(
        signed_in,
        draft,
        api_key=created["api_key"],
        client_secret="Zz9_kq9ZpL0mN2bV4cD6eQ",
    )
    page = _page(signed_in, draft)
    assert "No:</span> API Key and Client Secret match" in page
    assert "Generate Client Secret" in page
    assert load(app, draft).app_check == "secret_refused"


def test_an_unregistered_redirect_uri_is_named_and_may_be_passed(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    created = _code_app(cc, redirect_uris=["https://elsewhere.test/callback"])
    draft = start_draft(signed_in)
    response = step1(
        signed_in,
        draft,
        api_key=created["api_key"],
        client_secret=created["client_secret"],
    )
    assert response.headers["Location"] == f"/integrations/{draft}/api-key"
    page = _page(signed_in, draft)
    assert "No:</span> Redirect URI added" in page
    assert "click the pencil icon next to Redirect URI" in page
    assert REDIRECT_URI in page and "Copy Redirect URI" in page
    assert "Go on without this check" in page
    step2 = signed_in.get(f"/integrations/{draft}/list-id")
    assert step2.status_code == 200


def test_an_app_set_to_another_flow_says_so(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    api_key = create_application(cc, flow="pkce", redirect_uris=[REDIRECT_URI])[
        "api_key"
    ]
    draft = start_draft(signed_in)
    step1(signed_in, draft, api_key=api_key)
    page = _page(signed_in, draft)
    assert "Yes:</span> App found" in page and "No:</span> Set to Device Flow" in page
    assert "choose Device Flow" in page


@pytest.mark.parametrize("fault", ["timeout", "503"])
def test_constant_contact_down_lets_her_go_on(
    signed_in: FlaskClient, app: Flask, cc: str, fault: str
) -> None:
    settled(cc)
    api_key = create_application(cc, flow="device")["api_key"]
    set_faults(cc, {"device_authorize": fault})
    give_up_sooner(app, fault)
    draft = start_draft(signed_in)
    response = step1(signed_in, draft, api_key=api_key)
    set_faults(cc, {})
    assert response.headers["Location"] == f"/integrations/{draft}/list-id"
    page = signed_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "could not reach Constant Contact to check your app" in page
    assert "banner-success" not in page
    assert load(app, draft).app_check == "unreachable"


def _created_unchecked(app: Flask, api_key: str, secret: str | None = None) -> int:
    """An integration through step 3 whose app check could not reach anyone."""
    flow = "authorization_code" if secret else "device"
    integration_id = make_integration(app, api_key, flow=flow, secret=secret)
    with app.app_context():
        db.session.get(Integration, integration_id).app_check = "unreachable"
        db.session.commit()
    return integration_id


def test_step_4_asks_again_before_the_clock_for_a_code_flow_app(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    created = _code_app(cc, redirect_uris=["https://elsewhere.test/callback"])
    integration_id = _created_unchecked(
        app, created["api_key"], created["client_secret"]
    )
    response = signed_in.post(f"/integrations/{integration_id}/authorize")
    # No clock started: step 1 shows what Constant Contact says now.
    assert response.headers["Location"] == f"/integrations/{integration_id}/api-key"
    assert load(app, integration_id).status == "created"  # no attempt began
    page = _page(signed_in, integration_id)
    assert "No:</span> Redirect URI added" in page
    go_on = f'href="/integrations/{integration_id}/authorize">Go on without this check'
    assert go_on in page
    # Passed over on purpose, step 4 starts without asking again.
    started = signed_in.post(f"/integrations/{integration_id}/authorize")
    assert "/authorize/" in started.headers["Location"]


def test_step_4_of_a_device_app_confirms_the_unreached_check(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    api_key = create_application(cc, flow="device")["api_key"]
    integration_id = _created_unchecked(app, api_key)
    before = get_stats(cc)["device_authorizations"]
    response = signed_in.post(f"/integrations/{integration_id}/authorize")
    assert "/authorize/" in response.headers["Location"]
    # Step 4's own request was the check: one device code, not two.
    assert get_stats(cc)["device_authorizations"] == before + 1
    assert load(app, integration_id).app_check == "device"
