"""The app check asks the local Constant Contact about an app, over HTTP, before any
clock starts; each answer means what RFC 8628, RFC 6749 and Okta say it means."""

import uuid
from typing import Any

import pytest
from flask import Flask

from tests.helpers.integrations import REDIRECT_URI
from tests.helpers.sandbox import give_up_sooner
from tests.helpers.sandbox import settled
from wizard.constant_contact import app_check
from wizard.constant_contact.client import Client
from wizard.constant_contact.client import redirect_uri
from wizard.constant_contact.provider import Provider
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import get_stats
from wizard.sandbox.testing import set_faults
from wizard.status import AppCheck

pytestmark = pytest.mark.sandboxed


def _client(app: Flask, api_key: str) -> Client:
    return Client(
        provider=Provider.from_config(app.config),
        api_key=api_key,
        redirect_uri=redirect_uri(),
    )


def _app(cc: str, flow: str, **settings: Any) -> dict[str, Any]:
    return create_application(cc, flow=flow, **settings)


def test_a_device_flow_app_is_found_and_no_code_is_kept(app: Flask, cc: str) -> None:
    api_key = _app(cc, "device")["api_key"]
    with app.app_context():
        assert app_check.check_app(_client(app, api_key)) is AppCheck.DEVICE
    # One device authorization was asked for; no token request ever used it.
    stats = get_stats(cc)
    assert stats["device_authorizations"] == 1
    assert stats["device_polls"] == 0


def test_an_unknown_key_is_not_a_device_app(app: Flask, cc: str) -> None:
    with app.app_context():
        found = app_check.check_app(_client(app, str(uuid.uuid4())))
    assert found is AppCheck.NOT_DEVICE


def test_a_pkce_app_is_there_but_set_to_another_flow(app: Flask, cc: str) -> None:
    api_key = _app(cc, "pkce", redirect_uris=[REDIRECT_URI])["api_key"]
    with app.app_context():
        assert app_check.check_app(_client(app, api_key)) is AppCheck.WRONG_FLOW


def test_an_authorization_code_app_needs_its_secret(app: Flask, cc: str) -> None:
    created = _app(cc, "authorization_code", redirect_uris=[REDIRECT_URI])
    with app.app_context():
        client = _client(app, created["api_key"])
        assert app_check.check_app(client) is AppCheck.NOT_DEVICE
        found = app_check.check_app_with_secret(client, created["client_secret"])
    assert found is AppCheck.CODE_FLOW
    # The dummy code was refused after the client was authenticated: no tokens.
    tokens = get_stats(cc)["token_requests"]["by_grant_type"]
    assert tokens == {"authorization_code": 1}


def test_a_wrong_secret_is_refused(app: Flask, cc: str) -> None:
    created = _app(cc, "authorization_code", redirect_uris=[REDIRECT_URI])
    with app.app_context():
        client = _client(app, created["api_key"])
        found = app_check.check_app_with_secret(client, "not-the-secret-at-all-1")
    assert found is AppCheck.SECRET_REFUSED


def test_an_unknown_key_with_a_secret_is_refused(app: Flask, cc: str) -> None:
    with app.app_context():
        client = _client(app, str(uuid.uuid4()))
        found = app_check.check_app_with_secret(client, "AbCdEfGhIjKlMnOpQrStUv")
    assert found is AppCheck.SECRET_REFUSED


def test_an_unregistered_redirect_uri_is_found(app: Flask, cc: str) -> None:
    created = _app(
        cc, "authorization_code", redirect_uris=["https://elsewhere.test/callback"]
    )
    with app.app_context():
        client = _client(app, created["api_key"])
        found = app_check.check_app_with_secret(client, created["client_secret"])
    assert found is AppCheck.REDIRECT_MISSING


@pytest.mark.parametrize("fault", ["timeout", "503", "429", "garbage", "html"])
def test_constant_contact_down_means_nobody_could_say(
    app: Flask, cc: str, fault: str
) -> None:
    settled(cc)
    api_key = _app(cc, "device")["api_key"]
    set_faults(cc, {"device_authorize": fault, "token": fault})
    give_up_sooner(app, fault)
    with app.app_context():
        client = _client(app, api_key)
        assert app_check.check_app(client) is AppCheck.UNREACHABLE
        found = app_check.check_app_with_secret(client, "AbCdEfGhIjKlMnOpQrStUv")
    assert found is AppCheck.UNREACHABLE
    set_faults(cc, {})


def test_which_answers_go_on_and_which_hold_step_1() -> None:
    passed = {check for check in AppCheck if check.passed}
    assert passed == {
        AppCheck.DEVICE,
        AppCheck.CODE_FLOW,
        AppCheck.REDIRECT_UNKNOWN,
        AppCheck.UNREACHABLE,
    }
    blocking = {check for check in AppCheck if check.blocks}
    assert blocking == {
        AppCheck.NOT_DEVICE,
        AppCheck.WRONG_FLOW,
        AppCheck.SECRET_REFUSED,
    }
