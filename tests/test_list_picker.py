"""Choosing the list by name: Change List ID, and after authorizing when the List ID
is not in the account. The account's lists come from GET /contact_lists, page after
page; when Constant Contact cannot show them, the paste box is still there."""

import html
import re
from html.parser import HTMLParser
from typing import Any
from uuid import uuid4

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.attempts import make_due
from tests.helpers.attempts import started
from tests.helpers.attempts import status
from tests.helpers.connections import connect
from tests.helpers.connections import saved_tokens
from tests.helpers.i18n import english_left
from tests.helpers.integrations import load
from tests.helpers.integrations import make_integration
from tests.helpers.live import free_port
from tests.helpers.sandbox import device_app
from tests.helpers.sandbox import settled
from wizard.constant_contact import api
from wizard.domain import list_choices
from wizard.models import AuditEvent
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox.testing import approve_device
from wizard.sandbox.testing import create_account
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import set_faults

pytestmark = pytest.mark.sandboxed

# More than one page of api.LISTS_PER_PAGE (500).
MANY = 520
UNREACHABLE = "Constant Contact is not answering right now"
BUSY = "Constant Contact is busy right now, so we cannot show your lists."
REFUSED = "Constant Contact would not show us your lists."
GARBLED = "Constant Contact did not answer properly, so we cannot show your lists."
QUOTA = "Your application has used up today's requests to Constant Contact"
STILL_PASTE = "You can still paste the List ID or the list's address below"
FAULT_WORDS = {
    "timeout": UNREACHABLE,
    "refused": UNREACHABLE,
    "500": UNREACHABLE,
    "401": REFUSED,
    "429": BUSY,
    "quota_exceeded": QUOTA,
    "garbage": GARBLED,
    "html_ok": GARBLED,
    "missing": GARBLED,
}


class Radios(HTMLParser):
    """The page's radio buttons: value, whether checked, and their label's text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.radios: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, str] = {}
        self._label: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "radio":
            value = a.get("value") or ""
            self.radios[value] = {"checked": "checked" in a, "label": ""}
            self._ids[a.get("id") or ""] = value
        elif tag == "label" and a.get("for") in self._ids:
            self._label = self._ids[a["for"] or ""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            radio = self.radios[self._label]
            radio["label"] = " ".join((radio["label"] + " " + data).split())

    @property
    def checked(self) -> list[str]:
        return [value for value, radio in self.radios.items() if radio["checked"]]


def picker(client: FlaskClient, integration_id: int) -> tuple[str, Radios]:
    """Open Change List ID; return its text and its radio buttons."""
    page = client.get(f"/integrations/{integration_id}/list")
    assert page.status_code == 200
    return page.text, Radios(page.text)


def lists_calls(cc: str) -> int:
    """How many times GET /contact_lists was answered."""
    return get_stats(cc)["api_calls"]["by_endpoint"].get("contact_lists", 0)


def connected_to(
    client: FlaskClient, app: Flask, cc: str, email: str, list_id: str
) -> dict[str, Any]:
    """Authorize a new integration as this sandbox login; return the status answer."""
    integration_id = make_integration(app, device_app(cc), list_id=list_id)
    attempt = started(client, app, integration_id)
    approve_device(cc, attempt.user_code, email=email)
    make_due(app, attempt.id)
    return {"id": integration_id} | status(client, integration_id, attempt.id)


def list_changes(app: Flask) -> list[dict[str, Any]]:
    """The details of every integration.list_changed audit event, oldest first."""
    with app.app_context():
        return [
            event.details
            for event in db.session.scalars(
                db.select(AuditEvent)
                .filter_by(action="integration.list_changed")
                .order_by(AuditEvent.id)
            )
        ]


def test_the_picker_shows_every_list_across_pages_with_counts(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    email = f"many-{uuid4().hex[:8]}@example.test"
    names = [(f"Shop list {number:03d}", number % 5) for number in range(MANY)]
    created = create_account(cc, email, names, "Many Lists Florist")
    ids = {item["name"]: item["list_id"] for item in created["lists"]}
    # The list in use is on the second page.
    in_use = ids[f"Shop list {MANY - 3:03d}"]
    connected = connected_to(signed_in, app, cc, email, in_use)
    assert connected["state"] == "done"
    before = lists_calls(cc)

    text, radios = picker(signed_in, connected["id"])
    assert lists_calls(cc) - before == 2  # 500, then the 20 the next link held
    assert list(radios.radios) == [ids[name] for name, _ in names]
    for name, members in names:
        shown = "1 member" if members == 1 else f"{members} members"
        assert radios.radios[ids[name]]["label"] == f"{name} {shown}"
    assert radios.checked == [in_use]
    assert "Only the first" not in text


def test_past_the_cap_only_the_first_lists_are_shown(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert list_choices.MOST_LISTS == 1000
    monkeypatch.setattr(list_choices, "MOST_LISTS", 400)
    email = f"capped-{uuid4().hex[:8]}@example.test"
    create_account(cc, email, [(f"List {n:03d}", 0) for n in range(MANY)])
    connected = connected_to(signed_in, app, cc, email, seed.NEWSLETTER_LIST_ID)
    assert connected["state"] == "ended"  # not this account's list
    before = lists_calls(cc)
    text, radios = picker(signed_in, connected["id"])
    # The first page already holds more than the cap: the second is never asked.
    assert lists_calls(cc) - before == 1
    assert [radio["label"] for radio in radios.radios.values()] == [
        f"List {n:03d} 0 members" for n in range(400)
    ]
    assert "Only the first 400 lists are shown" in text


def test_a_next_link_that_never_ends_stops_at_the_page_cap(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    integration_id = connect(signed_in, app, cc)
    monkeypatch.setattr(list_choices, "MOST_PAGES", 3)
    real = api.call

    def again_and_again(*args: Any, **kwargs: Any) -> Any:
        body = real(*args, **kwargs)
        if isinstance(body, dict) and "lists" in body:
            body["_links"] = {"next": {"href": "/v3/contact_lists?limit=1"}}
        return body

    monkeypatch.setattr(api, "call", again_and_again)
    before = lists_calls(cc)
    text, radios = picker(signed_in, integration_id)
    assert lists_calls(cc) - before == 3
    # Each list once, however often it came back.
    assert list(radios.radios) == [seed.NEWSLETTER_LIST_ID, seed.VIP_LIST_ID]
    assert "Only the first 2 lists are shown" in text


@pytest.mark.parametrize(
    "href",
    [
        "https://evil.example/v3/contact_lists?cursor=x",
        "//evil.example/v3/contact_lists?cursor=x",
        "/oauth2/default/v1/token?cursor=x",
    ],
)
def test_a_next_link_away_from_the_api_is_never_followed(
    signed_in: FlaskClient,
    app: Flask,
    cc: str,
    monkeypatch: pytest.MonkeyPatch,
    href: str,
) -> None:
    integration_id = connect(signed_in, app, cc)
    real = api.call
    asked: list[str] = []

    def elsewhere(method: str, url: str, **kwargs: Any) -> Any:
        asked.append(url)
        body = real(method, url, **kwargs)
        if isinstance(body, dict) and "lists" in body:
            body["_links"] = {"next": {"href": href}}
        return body

    monkeypatch.setattr(api, "call", elsewhere)
    text, radios = picker(signed_in, integration_id)
    # The bearer token went to the API once, and nowhere else.
    assert asked == [f"{cc}/v3/contact_lists"]
    assert not radios.radios
    assert GARBLED in html.unescape(text) and STILL_PASTE in html.unescape(text)


def test_choosing_a_list_by_name_saves_it_once_checked(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    text, radios = picker(signed_in, integration_id)
    # The shared sandbox's lists gain members as other tests add contacts: the
    # counts shown are Constant Contact's of the moment, whatever they are.
    newsletter = radios.radios[seed.NEWSLETTER_LIST_ID]["label"]
    assert re.fullmatch(r"Newsletter \d+ members", newsletter)
    vip = re.fullmatch(
        r"VIP customers (\d+) members", radios.radios[seed.VIP_LIST_ID]["label"]
    )
    assert vip and int(vip[1]) >= seed.VIP_MEMBERS
    assert radios.checked == [seed.NEWSLETTER_LIST_ID]
    assert seed.DELETED_LIST_ID not in radios.radios  # deleted lists are not offered
    checks = get_stats(cc)["api_calls"]["by_endpoint"]["contact_list"]

    chosen = signed_in.post(
        f"/integrations/{integration_id}/list",
        data={"chosen": seed.VIP_LIST_ID, "list_id": "", "offered": "yes"},
    )
    assert chosen.headers["Location"] == f"/integrations/{integration_id}/active"
    # Saved only after Constant Contact showed the list itself.
    assert get_stats(cc)["api_calls"]["by_endpoint"]["contact_list"] == checks + 1
    saved = load(app, integration_id)
    assert (saved.list_id, saved.list_name, saved.list_member_count) == (
        seed.VIP_LIST_ID,
        "VIP customers",
        int(vip[1]),
    )
    assert saved.status == "active" and not saved.list_id_from_url
    assert list_changes(app)[-1] == {
        "previous_list_id": seed.NEWSLETTER_LIST_ID,
        "list_id": seed.VIP_LIST_ID,
        "list_name": "VIP customers",
    }
    page = signed_in.get(f"/integrations/{integration_id}/active").text
    assert "VIP customers" in page


def test_a_choice_not_in_the_account_is_refused_beside_the_lists(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    path = f"/integrations/{integration_id}/list"
    for value, words in [
        (seed.OTHER_LIST_ID, "We could not find that list in Bloom &amp; Co Florist"),
        ("<b>not-a-list</b>", "Choose one of the lists shown"),
        ("", "Choose your list, or paste its List ID or address"),
    ]:
        page = signed_in.post(path, data={"chosen": value, "offered": "yes"})
        assert page.status_code == 200
        assert words in page.text
        assert 'id="chosen-error"' in page.text  # said beside the lists
        assert "<b>not-a-list" not in page.text
        assert Radios(page.text).radios  # the lists are offered again
    assert load(app, integration_id).list_id == seed.NEWSLETTER_LIST_ID


def test_a_pasted_address_wins_over_the_choice(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    path = f"/integrations/{integration_id}/list"
    address = f"{cc}/contacts/lists/{seed.VIP_LIST_ID}"
    # The list in use stays chosen, as a browser sends it; the paste box wins.
    wins = signed_in.post(
        path,
        data={"chosen": seed.NEWSLETTER_LIST_ID, "list_id": address, "offered": "yes"},
    )
    assert wins.headers["Location"] == f"/integrations/{integration_id}/active"
    saved = load(app, integration_id)
    assert saved.list_id == seed.VIP_LIST_ID and saved.list_id_from_url
    # A paste with no List ID in it is refused in the box, and the choice is kept.
    bad = signed_in.post(
        path, data={"chosen": seed.NEWSLETTER_LIST_ID, "list_id": "the big one"}
    )
    assert "We could not find a List ID in what you pasted" in bad.text
    assert 'id="list_id-error"' in bad.text
    assert Radios(bad.text).checked == [seed.NEWSLETTER_LIST_ID]
    assert load(app, integration_id).list_id == seed.VIP_LIST_ID
    # A bare List ID pasted works too.
    bare = signed_in.post(path, data={"list_id": seed.NEWSLETTER_LIST_ID.upper()})
    assert bare.status_code == 302
    assert load(app, integration_id).list_id == seed.NEWSLETTER_LIST_ID


@pytest.mark.parametrize("fault", list(FAULT_WORDS))
def test_when_constant_contact_cannot_list_the_paste_box_is_left(
    signed_in: FlaskClient, app: Flask, cc: str, fault: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    before = saved_tokens(app, integration_id)
    if fault == "refused":
        app.config["CC_API_BASE_URL"] = f"http://127.0.0.1:{free_port()}/v3"
    else:
        set_faults(cc, {"contact_lists": fault})
    if fault == "timeout":
        app.config["CC_HTTP_TIMEOUT_SECONDS"] = 0.5  # the sandbox holds it 3 s
    text, radios = picker(signed_in, integration_id)
    words = html.unescape(text)
    assert FAULT_WORDS[fault] in words and STILL_PASTE in words
    assert not radios.radios and 'name="list_id"' in text
    assert re.search(r'<label for="list_id" class="label">List ID</label>', text)

    # Nothing lost: the connection is as it was (a 401 renewed the access token
    # once, as any call does) and still works.
    after = saved_tokens(app, integration_id)
    assert after[1] == before[1]
    assert (after[0] == before[0]) is (fault != "401")
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.list_id == seed.NEWSLETTER_LIST_ID
    if fault == "refused":
        app.config["CC_API_BASE_URL"] = f"{cc}/v3"
    else:
        # Only the lists are broken: a pasted address is checked and saved.
        address = f"{cc}/contacts/lists/{seed.VIP_LIST_ID}"
        pasted = signed_in.post(
            f"/integrations/{integration_id}/list", data={"list_id": address}
        )
        assert pasted.status_code == 302
        assert load(app, integration_id).list_id == seed.VIP_LIST_ID
    app.config["CC_HTTP_TIMEOUT_SECONDS"] = 10
    settled(cc)
    _, radios = picker(signed_in, integration_id)
    assert set(radios.radios) == {seed.NEWSLETTER_LIST_ID, seed.VIP_LIST_ID}


def test_nothing_pasted_and_no_lists_shown_asks_for_the_list_id(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    set_faults(cc, {"contact_lists": "503"})
    page = signed_in.post(f"/integrations/{integration_id}/list", data={})
    assert "Enter the List ID, or paste the address of your list" in page.text
    assert 'id="list_id-error"' in page.text
    # Offered before, not now: the words go where they can be seen.
    offered = signed_in.post(
        f"/integrations/{integration_id}/list", data={"offered": "yes"}
    )
    assert "Choose your list, or paste its List ID or address" in offered.text
    assert 'id="list_id-error"' in offered.text and "chosen-error" not in offered.text


def test_a_list_not_in_the_account_after_authorizing_offers_the_lists(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    connected = connected_to(
        signed_in, app, cc, seed.DEMO_LOGIN_EMAIL, seed.OTHER_LIST_ID
    )
    integration_id = connected["id"]
    assert connected["state"] == "ended"
    problem = signed_in.get(connected["next"]).text
    assert "We could not find your list" in problem
    assert f'href="/integrations/{integration_id}/list"' in problem

    text, radios = picker(signed_in, integration_id)
    assert "<h1>Choose your list</h1>" in text
    assert "The list you chose is not in Bloom &amp; Co Florist" in text
    assert set(radios.radios) == {seed.NEWSLETTER_LIST_ID, seed.VIP_LIST_ID}
    assert radios.checked == []  # the List ID pasted in step 2 is not among them
    chosen = signed_in.post(
        f"/integrations/{integration_id}/list",
        data={"chosen": seed.NEWSLETTER_LIST_ID, "offered": "yes"},
    )
    assert chosen.headers["Location"] == f"/integrations/{integration_id}/active"
    saved = load(app, integration_id)
    assert saved.status == "active" and saved.list_name == "Newsletter"
    assert list_changes(app)[-1]["previous_list_id"] == seed.OTHER_LIST_ID


def test_opening_the_picker_counts_with_the_connection_actions(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    app.config["CONNECTION_ACTION_RATE_LIMIT"] = "3 per minute"
    assert signed_in.post(f"/integrations/{integration_id}/test").status_code == 200
    for _ in range(2):
        picker(signed_in, integration_id)
    before = lists_calls(cc)
    refused = signed_in.get(f"/integrations/{integration_id}/list")
    assert refused.status_code == 429 and "Too many attempts" in refused.text
    assert lists_calls(cc) == before


def test_the_picker_speaks_spanish(signed_in: FlaskClient, app: Flask, cc: str) -> None:
    signed_in.post("/language", data={"lang": "es", "next": "/"})
    connected = connected_to(
        signed_in, app, cc, seed.DEMO_LOGIN_EMAIL, seed.OTHER_LIST_ID
    )
    integration_id = connected["id"]
    path = f"/integrations/{integration_id}/list"
    data = ("Bloom & Co Florist", "Newsletter", "VIP customers", "Constant Contact")
    missing = signed_in.get(path).text
    assert "Elija su lista" in missing and "312 contactos" in missing
    pages = {"list not found": missing}
    pages["nothing chosen"] = signed_in.post(path, data={"offered": "yes"}).text
    set_faults(cc, {"contact_lists": "429"})
    pages["no lists"] = signed_in.get(path).text
    set_faults(cc, {})
    signed_in.post(path, data={"chosen": seed.NEWSLETTER_LIST_ID})
    pages["change"] = signed_in.get(path).text
    for name, page in pages.items():
        assert english_left(page, *data) == [], name


def test_an_account_without_lists_says_so_and_keeps_the_paste_box(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    email = f"empty-{uuid4().hex[:8]}@example.test"
    create_account(cc, email, [], "Empty Vase")
    connected = connected_to(signed_in, app, cc, email, seed.NEWSLETTER_LIST_ID)
    assert connected["state"] == "ended"
    text, radios = picker(signed_in, connected["id"])
    assert not radios.radios and 'name="list_id"' in text
    assert "Constant Contact shows no lists in this account." in text
    signed_in.post("/language", data={"lang": "es", "next": "/"})
    text, _ = picker(signed_in, connected["id"])
    assert english_left(text, "Empty Vase", "Constant Contact") == []
