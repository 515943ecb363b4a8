"""Tokens and codes from Constant Contact are plain ASCII, or they are garbage.

JSON can carry text no token ever holds: a lone UTF-16 surrogate ("\\ud800") reads
as a Python string that cannot be encoded, so encrypting it would fail after
Constant Contact had already answered. Such an answer is "garbage": a plain
message, the saved tokens untouched, never a 500.
"""

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.attempts import started
from tests.helpers.connections import connect
from tests.helpers.connections import expire
from tests.helpers.connections import saved_tokens
from tests.helpers.integrations import make_integration
from wizard.constant_contact import answers
from wizard.constant_contact.http import ProviderError
from wizard.models import Integration
from wizard.platform.extensions import db
from wizard.sandbox.testing import create_application
from wizard.sandbox.testing import set_faults

pytestmark = pytest.mark.sandboxed

GARBAGE = "Constant Contact did not answer properly"


@pytest.mark.parametrize(
    "body",
    [
        {"access_token": "eyJ\ud800x"},
        {"access_token": "eyJ.x", "refresh_token": "\udfff"},
        {"access_token": "eyJ x\n"},
        {"access_token": "eyJ\u00e9"},
    ],
)
def test_a_token_that_is_not_printable_ascii_is_garbage(body: dict[str, str]) -> None:
    with pytest.raises(ProviderError) as raised:
        answers.token_set(body | {"expires_in": 60})
    assert raised.value.code == "garbage"


def test_a_refresh_answered_with_a_lone_surrogate_keeps_the_saved_tokens(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = connect(signed_in, app, cc)
    expire(app, integration_id)
    before = saved_tokens(app, integration_id)
    set_faults(cc, {"token": "surrogate"})
    page = signed_in.post(f"/integrations/{integration_id}/test")
    set_faults(cc, {})
    assert page.status_code == 200
    assert GARBAGE in page.text
    assert saved_tokens(app, integration_id) == before
    # The next try refreshes for real and works.
    again = signed_in.post(f"/integrations/{integration_id}/test")
    assert "The connection works" in again.text


def test_a_device_code_with_a_lone_surrogate_is_refused_at_start(
    signed_in: FlaskClient, app: Flask, cc: str
) -> None:
    integration_id = make_integration(app, create_application(cc)["api_key"])
    set_faults(cc, {"device_authorize": "surrogate"})
    page = signed_in.post(f"/integrations/{integration_id}/authorize")
    set_faults(cc, {})
    assert page.status_code == 200
    assert GARBAGE in page.text
    with app.app_context():
        assert db.session.get(Integration, integration_id).attempts == []
    # Constant Contact answering properly again: a code, and step 4 goes on.
    assert started(signed_in, app, integration_id).user_code
