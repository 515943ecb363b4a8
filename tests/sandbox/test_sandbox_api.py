"""The v3 API subset and Constant Contact's exact error shapes."""

from collections.abc import Iterator

import pytest
import requests

from tests.helpers.sandbox_http import api_get
from tests.helpers.sandbox_http import device_tokens
from tests.helpers.sandbox_http import refresh
from tests.helpers.sandbox_http import sandbox_config
from wizard.sandbox.seed import DELETED_LIST_ID
from wizard.sandbox.seed import DEMO_ORGANIZATION
from wizard.sandbox.seed import NEWSLETTER_ACTIVE_MEMBERS
from wizard.sandbox.seed import NEWSLETTER_LIST_ID
from wizard.sandbox.seed import NEWSLETTER_MEMBERS
from wizard.sandbox.seed import OTHER_LIST_ID
from wizard.sandbox.seed import OTHER_LOGIN_EMAIL
from wizard.sandbox.seed import VIP_LIST_ID
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import advance_clock
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import start_server

UNAUTHORIZED = {"error_key": "unauthorized", "error_message": "Unauthorized"}


@pytest.fixture(scope="module")
def tight_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A sandbox with a tiny daily quota."""
    config = sandbox_config(
        tmp_path_factory, SANDBOX_DAILY_LIMIT=3, SANDBOX_RATE_LIMIT_PER_SECOND=100
    )
    with start_server(config) as server:
        yield server


def test_account_summary(base_url: str) -> None:
    _, token = device_tokens(base_url)
    response = api_get(base_url, "/account/summary", token["access_token"])
    assert response.status_code == 200
    assert response.json()["organization_name"] == DEMO_ORGANIZATION
    assert response.json()["encoded_account_id"]


def test_one_list_with_membership_counts(base_url: str) -> None:
    _, token = device_tokens(base_url)
    path = f"/contact_lists/{NEWSLETTER_LIST_ID}"
    plain = api_get(base_url, path, token["access_token"]).json()
    assert plain["list_id"] == NEWSLETTER_LIST_ID
    assert plain["name"] == "Newsletter"
    assert "membership_count" not in plain
    assert "deleted_at" not in plain
    counted = api_get(
        base_url, path + "?include_membership_count=all", token["access_token"]
    ).json()
    assert counted["membership_count"] == NEWSLETTER_MEMBERS
    active = api_get(
        base_url, path + "?include_membership_count=active", token["access_token"]
    ).json()
    assert active["membership_count"] == NEWSLETTER_ACTIVE_MEMBERS


def test_list_id_is_case_insensitive(base_url: str) -> None:
    _, token = device_tokens(base_url)
    path = f"/contact_lists/{NEWSLETTER_LIST_ID.upper()}"
    assert api_get(base_url, path, token["access_token"]).json()["list_id"] == (
        NEWSLETTER_LIST_ID
    )


def test_contact_lists(base_url: str) -> None:
    _, token = device_tokens(base_url)
    body = api_get(
        base_url,
        "/contact_lists?include_count=true&include_membership_count=all",
        token["access_token"],
    ).json()
    ids = {item["list_id"] for item in body["lists"]}
    assert ids == {NEWSLETTER_LIST_ID, VIP_LIST_ID}  # deleted and foreign left out
    assert body["lists_count"] == 2
    limited = api_get(base_url, "/contact_lists?limit=1", token["access_token"])
    assert len(limited.json()["lists"]) == 1


def test_deleted_list_answers_with_deleted_at(base_url: str) -> None:
    _, token = device_tokens(base_url)
    response = api_get(
        base_url, f"/contact_lists/{DELETED_LIST_ID}", token["access_token"]
    )
    assert response.status_code == 200
    assert response.json()["deleted_at"].endswith("Z")


@pytest.mark.parametrize(
    "list_id", [OTHER_LIST_ID, "0f5a6c1e-0000-11f0-0000-fa163e000000", "not-a-uuid"]
)
def test_unknown_or_foreign_list_is_404_array(base_url: str, list_id: str) -> None:
    _, token = device_tokens(base_url)
    response = api_get(base_url, f"/contact_lists/{list_id}", token["access_token"])
    assert response.status_code == 404
    errors = response.json()
    assert isinstance(errors, list)
    assert errors[0]["error_key"] == "contacts.api.not_found"
    assert errors[0]["error_message"]


def test_other_account_sees_its_own_list(base_url: str) -> None:
    _, token = device_tokens(base_url, email=OTHER_LOGIN_EMAIL)
    mine = api_get(base_url, f"/contact_lists/{OTHER_LIST_ID}", token["access_token"])
    assert mine.status_code == 200
    theirs = api_get(
        base_url, f"/contact_lists/{NEWSLETTER_LIST_ID}", token["access_token"]
    )
    assert theirs.status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
def test_401_is_one_object_with_bearer_realm(base_url: str, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = requests.get(
        f"{base_url}/v3/contact_lists/{NEWSLETTER_LIST_ID}", headers=headers, timeout=10
    )
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == "Bearer realm=api.cc.email"


def test_403_when_scope_is_missing(base_url: str) -> None:
    _, token = device_tokens(base_url, scope="contact_data offline_access")
    response = api_get(base_url, "/account/summary", token["access_token"])
    assert response.status_code == 403
    assert isinstance(response.json(), list)
    assert response.json()[0]["error_key"]
    _, token = device_tokens(base_url, scope="account_read")
    response = api_get(
        base_url, f"/contact_lists/{NEWSLETTER_LIST_ID}", token["access_token"]
    )
    assert response.status_code == 403


def test_sign_up_form_creates_then_updates(base_url: str) -> None:
    _, token = device_tokens(base_url)
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    payload = {
        "email_address": "new.person@example.com",
        "list_memberships": [VIP_LIST_ID],
    }
    url = f"{base_url}/v3/contacts/sign_up_form"
    created = requests.post(url, json=payload, headers=headers, timeout=10)
    assert created.status_code == 201
    assert created.json()["action"] == "created"
    updated = requests.post(url, json=payload, headers=headers, timeout=10)
    assert updated.status_code == 200
    assert updated.json() == {
        "contact_id": created.json()["contact_id"],
        "action": "updated",
    }
    bad = requests.post(
        url,
        json={"email_address": "x@example.com", "list_memberships": [OTHER_LIST_ID]},
        headers=headers,
        timeout=10,
    )
    assert bad.status_code == 400
    assert isinstance(bad.json(), list)


def test_throttled_over_four_per_second(base_url: str) -> None:
    _, token = device_tokens(base_url)
    responses = [
        api_get(base_url, "/contact_lists", token["access_token"]) for _ in range(10)
    ]
    throttled = [r for r in responses if r.status_code == 429]
    assert throttled, "10 calls in well under a second must trip 4/s"
    assert throttled[0].json() == {
        "error_key": "throttled",
        "error_message": "Too Many Requests",
    }
    assert "Retry-After" not in throttled[0].headers
    stats = get_stats(base_url)
    assert stats["api_calls"]["total"] == 10
    assert stats["api_calls"]["by_endpoint"]["contact_lists"] == 10


def test_daily_quota(tight_sandbox: SandboxServer) -> None:
    base_url = tight_sandbox.base_url
    app, token = device_tokens(base_url)
    statuses = [
        api_get(base_url, "/contact_lists", token["access_token"]).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    over = api_get(base_url, "/contact_lists", token["access_token"])
    assert over.json() == {
        "error_key": "quota_exceeded",
        "error_message": "Limit Exceeded",
    }
    assert "Retry-After" not in over.headers
    # A new UTC day resets the same API key's budget.
    advance_clock(base_url, 86400)
    renewed = refresh(base_url, app["api_key"], token["refresh_token"]).json()
    assert api_get(base_url, "/contact_lists", renewed["access_token"]).status_code == (
        200
    )
