"""GET /contact_lists pages like Constant Contact's: limit, then a cursor in
``_links.next.href`` until the last page; and the control API that adds accounts."""

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
import requests

from tests.helpers.sandbox_http import api_get
from tests.helpers.sandbox_http import device_tokens
from tests.helpers.sandbox_http import sandbox_config
from wizard.sandbox.testing import SandboxServer
from wizard.sandbox.testing import create_account
from wizard.sandbox.testing import start_server

LISTS = 120
VALIDATION = "contacts.api.validation.error"


@pytest.fixture(scope="module")
def roomy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """A sandbox whose rate limit lets a test read many pages in a row."""
    config = sandbox_config(tmp_path_factory, SANDBOX_RATE_LIMIT_PER_SECOND=1000)
    with start_server(config) as server:
        yield server


@pytest.fixture(scope="module")
def many(roomy: SandboxServer) -> tuple[str, dict[str, Any]]:
    """An account with LISTS lists of 0-3 members, and a token for it."""
    email = f"paging-{uuid4().hex[:8]}@example.test"
    lists = [(f"List {number:03d}", number % 4) for number in range(LISTS)]
    created = create_account(roomy.base_url, email, lists, "Many Lists Ltd")
    assert [item["name"] for item in created["lists"]] == [name for name, _ in lists]
    _, token = device_tokens(roomy.base_url, email=email)
    return roomy.base_url, token


def get(base_url: str, token: dict[str, Any], path: str) -> requests.Response:
    """Call the v3 API at a path that already starts with /v3, as next links do."""
    return api_get(base_url, path.removeprefix("/v3"), token["access_token"])


def test_pages_follow_the_cursor_to_the_end(many: tuple[str, dict[str, Any]]) -> None:
    base_url, token = many
    path = "/v3/contact_lists?include_membership_count=all"
    pages: list[list[dict[str, Any]]] = []
    while path:
        answer = get(base_url, token, path)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["lists"])
        path = body.get("_links", {}).get("next", {}).get("href")
        if path:
            # Only the cursor: it stands for the query it came from.
            assert path.startswith("/v3/contact_lists?cursor=")
            assert "&" not in path and "limit" not in path
    # The default page is 50 lists; every page keeps the membership counts asked.
    assert [len(page) for page in pages] == [50, 50, 20]
    everything = [item for page in pages for item in page]
    assert [item["name"] for item in everything] == [
        f"List {number:03d}" for number in range(LISTS)
    ]
    assert [item["membership_count"] for item in everything] == [
        number % 4 for number in range(LISTS)
    ]


def test_limit_is_one_to_a_thousand(many: tuple[str, dict[str, Any]]) -> None:
    base_url, token = many
    whole = get(base_url, token, "/v3/contact_lists?limit=1000&include_count=true")
    assert len(whole.json()["lists"]) == LISTS and "_links" not in whole.json()
    assert whole.json()["lists_count"] == LISTS
    assert "membership_count" not in whole.json()["lists"][0]
    small = get(base_url, token, "/v3/contact_lists?limit=7").json()
    assert len(small["lists"]) == 7
    second = get(base_url, token, small["_links"]["next"]["href"]).json()
    assert [item["name"] for item in second["lists"]] == [
        f"List {number:03d}" for number in range(7, 14)
    ]
    for limit in ("0", "1001", "ten"):
        refused = get(base_url, token, f"/v3/contact_lists?limit={limit}")
        assert refused.status_code == 400
        assert refused.json()[0]["error_key"] == VALIDATION


@pytest.mark.parametrize("cursor", ["not-a-cursor!", "bmV4dD0tMQ==", "%FF"])
def test_a_cursor_it_never_gave_is_refused(
    many: tuple[str, dict[str, Any]], cursor: str
) -> None:
    base_url, token = many
    refused = get(base_url, token, f"/v3/contact_lists?cursor={cursor}")
    assert refused.status_code == 400
    assert refused.json()[0]["error_key"] == VALIDATION


def test_accounts_are_checked(roomy: SandboxServer) -> None:
    url = f"{roomy.base_url}/__sandbox__/accounts"
    for payload in (
        {"lists": []},
        {"email": "x@example.test", "lists": [{"members": 1}]},
        {"email": "x@example.test", "lists": [{"name": "A", "members": -1}]},
        {"email": "x@example.test", "lists": "A"},
    ):
        assert requests.post(url, json=payload, timeout=10).status_code == 400
    taken = {"email": "owner@bloom.example", "lists": []}
    assert requests.post(url, json=taken, timeout=10).status_code == 400
