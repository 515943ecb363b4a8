"""Bad input everywhere: every form and route parameter, fuzzed through the test client.

Whatever arrives (over-long, control characters, NUL, invisible or look-alike
characters, markup, bytes that are not UTF-8), the answer is a page or a redirect,
never a 500; nothing is echoed as markup; and what is stored is what the
validators allow: lowercase UUIDs and ASCII secrets that HTTP Basic can carry.
"""

import re
from typing import Any
from urllib.parse import quote
from urllib.parse import quote_from_bytes

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import example
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from werkzeug.security import generate_password_hash

from tests.helpers.live import free_port
from tests.helpers.steps import KEY
from tests.helpers.steps import LIST_ID
from tests.helpers.steps import SECRET
from tests.helpers.steps import start_draft
from tests.helpers.steps import step1
from tests.helpers.users import PASSWORD
from tests.helpers.users import sign_in
from wizard.constant_contact import formats
from wizard.constant_contact import http
from wizard.constant_contact import pasted
from wizard.constant_contact.client import Client
from wizard.constant_contact.provider import Provider
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import User
from wizard.platform.extensions import db
from wizard.web.auth import views as auth

# Function-scoped fixtures are shared by a test's examples on purpose: one signed-in
# client and one draft take every input in turn. Pages take a few ms each, so the
# default 200 ms deadline would only measure the machine's load.
fuzz = settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)

# Markup that must never come back as markup; none of it occurs in our pages.
MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "<svg/onload=alert(1)>",
    "'--><b id=fuzz>",
]
SPECIAL = [
    "\x00",
    "\r\n",
    "\n",
    "\t",
    "\x1b",
    "\x7f",
    "\u200b",  # zero-width space
    "\u200e",  # left-to-right mark
    "\u202e",  # right-to-left override
    "\ufeff",  # byte order mark
    "\u00a0",  # no-break space
    "\u0430",  # Cyrillic a
    "\u0435",  # Cyrillic e
    "\u0455",  # Cyrillic s
    "\uff21",  # fullwidth A
    "\u00fc",  # u umlaut (Latin-1)
    "\u0100",  # A macron (not Latin-1)
    "\U0001f600",  # an emoji
    "%",
    ":",
    "+",
    "=",
    "&",
    "/",
]
# Text built from the characters that break things, valid values and markup.
pieces = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from(MARKUP),
    st.sampled_from([KEY, KEY.upper(), SECRET, LIST_ID, "https://x.test/" + LIST_ID]),
    st.text(max_size=20),
)
nasty = st.one_of(
    st.text(),
    st.lists(pieces, max_size=6).map("".join),
    st.integers(min_value=300, max_value=5000).map(lambda n: "a" * n),
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def config(config: dict[str, Any]) -> dict[str, Any]:
    """No limits (the fuzzer signs in and asks often); Constant Contact unreachable."""
    unreachable = f"http://127.0.0.1:{free_port()}"
    return config | {
        # Not RATELIMIT_ENABLED=False: the limiter is shared, and that would stick.
        "SIGN_IN_RATE_LIMIT": "1000000 per minute",
        "SIGN_IN_ACCOUNT_RATE_LIMIT": "1000000 per minute",
        "SIGN_IN_ACCOUNT_CEILING": "1000000 per minute",
        "AUTHORIZE_START_RATE_LIMIT": "1000000 per minute",
        "STATUS_POLL_RATE_LIMIT": "1000000 per minute",
        "CONNECTION_ACTION_RATE_LIMIT": "1000000 per minute",
        "CC_API_BASE_URL": f"{unreachable}/v3",
        "CC_TOKEN_URL": f"{unreachable}/token",
        "CC_DEVICE_AUTHORIZATION_URL": f"{unreachable}/device",
        "CC_REVOCATION_URL": f"{unreachable}/revoke",
        "CC_HTTP_TIMEOUT_SECONDS": 1,
    }


def answered(response: Any) -> str:
    """Check the answer is a page or redirect with no markup echoed; return its text."""
    assert response.status_code in (200, 302, 303, 400, 404, 405, 413), (
        response.status_code
    )
    text = response.get_data(as_text=True)
    assert "Traceback" not in text
    for payload in MARKUP:
        if "<" in payload:
            assert payload not in text
    # Shown as a value is inert; as a link or a form's target it would run.
    assert not re.search(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", text, re.I)
    location = response.headers.get("Location", "")
    assert "\r" not in location and "\n" not in location
    return text


def stored(app: Flask, integration_id: int) -> Integration:
    with app.app_context():
        row = db.session.get(Integration, integration_id)
        db.session.expunge(row)
        return row


def assert_clean(app: Flask, integration_id: int) -> None:
    """What is stored is what the validators allow, and Basic auth can carry it."""
    row = stored(app, integration_id)
    for value in (row.api_key, row.list_id):
        assert value is None or UUID.fullmatch(value), value
    if row.client_secret_encrypted:
        with app.app_context():
            secret = row.unseal("client_secret_encrypted")
        assert pasted.SECRET_SHAPE.fullmatch(secret), secret
        # BI-04: the header is built from Latin-1 text, so this must not raise.
        requests.auth._basic_auth_str(row.api_key or KEY, secret)


@pytest.fixture
def draft(signed_in: FlaskClient) -> int:
    return start_draft(signed_in)


@pytest.fixture
def quick_customer(app: Flask, monkeypatch: pytest.MonkeyPatch) -> int:
    """The Bloom customer with a one-round hash: scrypt would spend the fuzzer's time
    hashing (what is fuzzed here is the form, not the hash).

    The quick method stands in for scrypt as "current", or the first successful
    sign-in would upgrade the hash and every later example would pay for scrypt.
    """
    method = "pbkdf2:sha256:1"
    quick = generate_password_hash(PASSWORD, method=method)
    monkeypatch.setattr(auth, "_DUMMY_HASH", quick)
    monkeypatch.setattr(auth, "PASSWORD_METHOD", method)
    with app.app_context():
        user = User(
            email="owner@bloom.test",
            role="customer",
            organization=Organization(name="Bloom"),
            password_hash=quick,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


@fuzz
@given(email=nasty, password=nasty, next_=nasty)
def test_sign_in_form(
    client: FlaskClient, quick_customer: int, email: str, password: str, next_: str
) -> None:
    page = client.post(
        f"/sign-in?next={quote(next_, safe='')}",
        data={"email": email, "password": password},
    )
    answered(page)
    # None of these is the password: the form again, or 400 for a NUL byte.
    assert page.status_code == (400 if "\x00" in email + password + next_ else 200)


@fuzz
@given(next_=nasty)
@example(next_="/\r")
@example(next_="//[x")
@example(next_="http://[")
def test_sign_in_goes_back_only_to_this_site(
    client: FlaskClient, quick_customer: int, next_: str
) -> None:
    page = client.post(
        f"/sign-in?next={quote(next_, safe='')}",
        data={"email": "owner@bloom.test", "password": PASSWORD},
    )
    answered(page)
    if "\x00" in next_:
        # NUL in a query string is refused before any view (the request guard).
        assert page.status_code == 400
        return
    assert page.status_code == 302
    location = page.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location
    client.post("/sign-out")


@fuzz
@given(
    flow=st.one_of(st.sampled_from(["device", "authorization_code"]), nasty),
    api_key=nasty,
    client_secret=nasty,
)
def test_step_1_form(
    signed_in: FlaskClient,
    app: Flask,
    draft: int,
    flow: str,
    api_key: str,
    client_secret: str,
) -> None:
    data = {"flow": flow, "api_key": api_key, "client_secret": client_secret}
    page = answered(signed_in.post(f"/integrations/{draft}/api-key", data=data))
    assert_clean(app, draft)
    # The secret is never shown again. (Typed into the API Key box as well, the same
    # text is shown back there as what was typed for the key, like any key.)
    secret = client_secret.strip()
    if pasted.SECRET_SHAPE.fullmatch(secret) and secret not in api_key:
        assert secret not in page


@fuzz
@given(list_id=nasty)
def test_step_2_form(
    signed_in: FlaskClient, app: Flask, draft: int, list_id: str
) -> None:
    step1(signed_in, draft)
    answered(
        signed_in.post(f"/integrations/{draft}/list-id", data={"list_id": list_id})
    )
    assert_clean(app, draft)


@pytest.fixture
def connected(app: Flask, customer: int) -> int:
    """An integration that holds (made-up) tokens, so Change list is offered."""
    with app.app_context():
        row = Integration(
            organization_id=1,
            status="active",
            flow="device",
            api_key=KEY,
            list_id=LIST_ID,
            name="Newsletter",
        )
        row.seal("access_token_encrypted", "access")
        row.seal("refresh_token_encrypted", "refresh")
        db.session.add(row)
        db.session.commit()
        return row.id


@fuzz
@given(list_id=nasty)
def test_change_list_form(
    signed_in: FlaskClient, app: Flask, connected: int, list_id: str
) -> None:
    page = signed_in.post(f"/integrations/{connected}/list", data={"list_id": list_id})
    answered(page)
    # Constant Contact is unreachable here, so no list can ever be switched to.
    assert stored(app, connected).list_id == LIST_ID
    assert_clean(app, connected)


@fuzz
@given(query=nasty)
@example(query="a\x00b")  # PostgreSQL refuses NUL in text: once a 500 there
def test_support_search(
    client: FlaskClient, app: Flask, support_user: int, query: str
) -> None:
    sign_in(client, "helper@promopulse.test")
    answered(client.get(f"/support?q={quote(query, safe='')}"))


@fuzz
@given(lang=st.one_of(st.sampled_from(["en", "es"]), nasty), next_=nasty)
def test_language_switch(client: FlaskClient, lang: str, next_: str) -> None:
    before = client.get_cookie("wizard_lang")  # examples share the client
    page = client.post("/language", data={"lang": lang, "next": next_})
    answered(page)
    cookie = client.get_cookie("wizard_lang")
    if "\x00" in lang + next_:
        assert page.status_code == 400  # the request guard, before the switch
        assert cookie == before
        return
    assert page.status_code == 302
    location = page.headers["Location"]
    assert location.startswith("/") and not location.startswith("//")
    if lang in ("en", "es"):
        assert cookie is not None and cookie.value == lang
    else:
        assert cookie == before  # another language is not taken


segment = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    nasty.filter(lambda s: s not in ("", ".", "..")),
)
ROUTES = [
    "/integrations/{a}/setup",
    "/integrations/{a}/api-key",
    "/integrations/{a}/list-id",
    "/integrations/{a}/check",
    "/integrations/{a}/authorize",
    "/integrations/{a}/authorize/{b}",
    "/integrations/{a}/authorize/{b}/status",
    "/integrations/{a}/authorize/{b}/open",
    "/integrations/{a}/test",
    "/integrations/{a}/list",
    "/integrations/{a}/active",
    "/integrations/{a}/delete",
]


@fuzz
@given(route=st.sampled_from(ROUTES), a=segment, b=segment, query=nasty)
def test_route_parameters(
    signed_in: FlaskClient, route: str, a: str, b: str, query: str
) -> None:
    path = route.format(a=quote(a, safe=""), b=quote(b, safe=""))
    answered(signed_in.get(f"{path}?x={quote(query, safe='')}"))
    answered(signed_in.post(path, data={"x": query}))


@fuzz
@given(a=segment, b=segment)
def test_support_route_parameters(
    client: FlaskClient, support_user: int, a: str, b: str
) -> None:
    sign_in(client, "helper@promopulse.test")
    answered(client.get(f"/support/organizations/{quote(a, safe='')}"))
    answered(client.get(f"/support/integrations/{quote(b, safe='')}"))
    answered(client.post(f"/support/integrations/{quote(b, safe='')}/test"))


@fuzz
@given(state=nasty, code=nasty, error=nasty)
def test_callback_query_strings(
    signed_in: FlaskClient, state: str, code: str, error: str
) -> None:
    for query in (
        f"state={quote(state, safe='')}&code={quote(code, safe='')}",
        f"state={quote(state, safe='')}&error={quote(error, safe='')}",
        f"state=a&state={quote(state, safe='')}&code=x&client_id=y",
        "",
    ):
        response = signed_in.get(
            f"/callback/constant-contact-auth?{query}", follow_redirects=True
        )
        page = answered(response)
        if "\x00" in state + code + error and "%00" in query:
            # NUL in a query string is refused before any view (the request guard).
            assert response.status_code == 400
        else:
            assert response.status_code == 200
            assert "That code can no longer be used" in page


@fuzz
@given(body=st.binary(max_size=300), field=st.sampled_from(["api_key", "list_id"]))
def test_bytes_that_are_not_utf_8(
    signed_in: FlaskClient, app: Flask, draft: int, body: bytes, field: str
) -> None:
    raw = quote_from_bytes(body).encode()
    form = b"flow=authorization_code&client_secret=" + raw + b"&" + field.encode()
    for target in ("api-key", "list-id"):
        answered(
            signed_in.post(
                f"/integrations/{draft}/{target}",
                data=form + b"=" + raw,
                content_type="application/x-www-form-urlencoded",
            )
        )
        # Unencoded bytes too, as a broken client would send them.
        answered(
            signed_in.post(
                f"/integrations/{draft}/{target}",
                data=b"api_key=" + body + b"&list_id=" + body,
                content_type="application/x-www-form-urlencoded",
            )
        )
    answered(signed_in.get(f"/support?q={quote_from_bytes(body)}"))
    assert_clean(app, draft)


@pytest.mark.parametrize(
    "secret",
    ["Sécret_ü_is_Latin1_ok", "Secret_with_emoji_😀x", "Ōne_secret_not_latin_1"],
)
def test_secrets_basic_auth_cannot_carry_are_refused_at_step_1(
    signed_in: FlaskClient, app: Flask, draft: int, secret: str
) -> None:
    """BI-04: refused with the step's message, not a 500 when the code is exchanged."""
    page = step1(
        signed_in, draft, flow="authorization_code", client_secret=secret
    ).get_data(as_text=True)
    assert "The Client Secret should be one word of letters" in page
    assert stored(app, draft).client_secret_encrypted is None


def test_basic_auth_is_sent_as_is_for_reserved_characters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BI-05: ":" and "%" never pass step 1; "+", "/", "=" reach the header as typed.

    Constant Contact's secrets are URL-safe base64 (letters, digits, "-", "_"), so
    the RFC 6749 section 2.3.1 form-encoding would change nothing for them; this
    pins that we do not apply it.
    """
    for refused in ("abcdefgh:ijklmnop1", "abcdefgh%3Aijklmnop1"):
        assert not formats.check_client_secret(refused).ok
    secret = "abc+def/ghi=jklmnop1"
    assert formats.check_client_secret(secret).value == secret
    sent: list[requests.PreparedRequest] = []

    def capture(_session: Any, method: str, url: str, **kwargs: Any) -> Any:
        kwargs.pop("timeout"), kwargs.pop("allow_redirects"), kwargs.pop("stream")
        sent.append(requests.Request(method, url, **kwargs).prepare())
        raise requests.ConnectionError("not sent")

    monkeypatch.setattr(requests.Session, "request", capture)
    provider = Provider("a", "https://t.test/token", "d", "r", "api", "s", 1.0)
    with pytest.raises(http.ProviderError):
        Client(provider, KEY, "https://r.test", lambda: secret).exchange_code(
            "code", "v"
        )
    assert sent[0].headers["Authorization"] == requests.auth._basic_auth_str(
        KEY, secret
    )


def test_a_flood_of_fields_is_refused_or_ignored(
    client: FlaskClient, quick_customer: int
) -> None:
    """BI-06: 5,000 fields (under the 64 kB limit) and a 5 MB body."""
    flood = "&".join(f"f{n}=x" for n in range(5000)) + "&email=a&password=b"
    page = client.post(
        "/sign-in", data=flood, content_type="application/x-www-form-urlencoded"
    )
    answered(page)
    # The other fields are ignored: the sign-in form again, for a wrong sign-in.
    assert page.status_code == 200 and 'name="password"' in page.text
    huge = client.post(
        "/sign-in",
        data=b"email=" + b"a" * 5_000_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert huge.status_code == 413 and "That was too much to send" in huge.text
    # The worker is fine afterwards.
    assert client.get("/sign-in").status_code == 200


def test_extra_fields_change_nothing_else(
    signed_in: FlaskClient, app: Flask, draft: int
) -> None:
    """BI-16: a crafted step 1 or 2 changes only that step's fields."""
    crafted = {
        "organization_id": "2",
        "status": "active",
        "role": "support",
        "access_token": "planted",
        "refresh_token_encrypted": "planted",
        "list_id": LIST_ID,
        "name": "<b>planted</b>",
    }
    step1(signed_in, draft, **crafted)
    signed_in.post(f"/integrations/{draft}/list-id", data=crafted | {"flow": "x"})
    row = stored(app, draft)
    assert row.organization_id == 1 and row.status != "active"
    assert row.access_token_encrypted is None and row.refresh_token_encrypted is None
    assert row.api_key == KEY and row.flow == "device" and "planted" not in row.name
    assert row.list_id == LIST_ID
    with app.app_context():
        assert db.session.get(User, 1).role == "customer"
