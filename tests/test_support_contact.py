"""Support's phone, hours and e-mail at the foot of every page, error pages too."""

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers.users import sign_in
from wizard.models import Organization
from wizard.platform.extensions import db

CONTACTS = {
    "SUPPORT_PHONE": "+1 (800) 555-0100",
    "SUPPORT_HOURS": "Monday to Friday, 9am to 5pm Eastern",
    "SUPPORT_EMAIL": "help@promopulse.test",
}


@pytest.fixture
def config(config: dict[str, Any]) -> dict[str, Any]:
    """The test's settings with support's contacts filled in."""
    return config | CONTACTS


@pytest.fixture
def reference(signed_in: FlaskClient) -> str:
    """The signed-in customer's support reference."""
    with signed_in.application.app_context():
        return db.session.scalar(db.select(Organization.reference_code))


def _footer(page: str) -> str:
    return page[page.index('<footer class="site-footer">') :]


def _assert_contacts(footer: str) -> None:
    assert '<a href="tel:+18005550100">+1 (800) 555-0100</a>' in footer
    assert "(Monday to Friday, 9am to 5pm Eastern)" in footer
    assert '<a href="mailto:help@promopulse.test">help@promopulse.test</a>' in footer


@pytest.mark.parametrize("path", ["/integrations", "/setup/start", "/activity"])
def test_every_signed_in_page_shows_contacts_and_reference(
    signed_in: FlaskClient, reference: str, path: str
) -> None:
    footer = _footer(signed_in.get(path).get_data(as_text=True))
    _assert_contacts(footer)
    assert reference in footer


def test_error_pages_keep_navigation_contacts_and_reference(
    signed_in: FlaskClient, reference: str
) -> None:
    response = signed_in.get("/integrations/999999/test")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in page
    assert 'href="/activity"' in page  # the navigation is still there
    _assert_contacts(_footer(page))
    assert reference in _footer(page)


def test_signed_out_pages_show_contacts_without_a_reference(
    client: FlaskClient,
) -> None:
    footer = _footer(client.get("/sign-in").get_data(as_text=True))
    _assert_contacts(footer)
    assert "Your support reference" not in footer


def test_spanish_pages_keep_the_operators_words(signed_in: FlaskClient) -> None:
    signed_in.set_cookie("wizard_lang", "es")
    footer = _footer(signed_in.get("/integrations").get_data(as_text=True))
    _assert_contacts(footer)
    assert "Teléfono:" in footer


def test_contacts_left_out_until_configured(app_with: Any, customer: int) -> None:
    bare = app_with(SUPPORT_PHONE="", SUPPORT_HOURS="", SUPPORT_EMAIL="")
    client = bare.test_client()
    sign_in(client, "owner@bloom.test")
    footer = _footer(client.get("/integrations").get_data(as_text=True))
    assert "tel:" not in footer and "mailto:" not in footer
    assert "Your support reference" in footer
