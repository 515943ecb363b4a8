"""Choosing the list by name in Chromium, with and without JavaScript: the wizard
under gunicorn reads the account's lists from the sandbox and saves the one chosen."""

import re
from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import expect

from tests.helpers.browser import SCREENSHOTS
from tests.helpers.browser import sign_in_page
from tests.helpers.integrations import load
from tests.helpers.sandbox_http import device_tokens
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.sandbox import seed
from wizard.sandbox.testing import SandboxServer


def stored_connection(app: Flask, cc: str) -> int:
    """Store Bloom's integration as connected to the Newsletter, with real tokens
    from the sandbox (step 4 itself is the journey tests' business)."""
    application, token = device_tokens(cc)
    with app.app_context():
        integration = Integration(
            organization_id=1,
            status="active",
            flow="device",
            api_key=application["api_key"],
            list_id=seed.NEWSLETTER_LIST_ID,
            list_name="Newsletter",
            account_name=seed.DEMO_ORGANIZATION,
            name="Newsletter",
            token_expires_at=utcnow() + timedelta(seconds=token["expires_in"]),
            last_refreshed_at=utcnow(),
        )
        integration.seal("access_token_encrypted", token["access_token"])
        integration.seal("refresh_token_encrypted", token["refresh_token"])
        db.session.add(integration)
        db.session.commit()
        return integration.id


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_florist_chooses_her_list_by_name(
    browser: Browser,
    wizard_url: str,
    fast_cc: SandboxServer,
    app: Flask,
    javascript: bool,
) -> None:
    integration_id = stored_connection(app, fast_cc.base_url)
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    sign_in_page(page, wizard_url)
    page.locator("summary", has_text="Actions").first.click()
    page.get_by_role("link", name=re.compile("^Change List ID")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change the List ID")

    lists = page.get_by_role("group", name="Your lists in Constant Contact")
    newsletter = lists.get_by_role("radio", name="Newsletter 312 members")
    expect(newsletter).to_be_checked()
    vip = lists.get_by_role("radio", name="VIP customers 25 members")
    expect(vip).not_to_be_checked()
    expect(lists.get_by_role("radio")).to_have_count(2)
    page.get_by_text("VIP customers").click()  # the label, as a person clicks it
    expect(vip).to_be_checked()
    page.screenshot(path=str(SCREENSHOTS / "change-list-chosen.png"), full_page=True)
    page.get_by_role("button", name="Check and save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Your integration is now active!"
    )
    expect(page.get_by_text("VIP customers").first).to_be_visible()
    expect(page.get_by_text(f"{seed.VIP_MEMBERS}", exact=True)).to_be_visible()
    saved = load(app, integration_id)
    assert saved.list_id == seed.VIP_LIST_ID and saved.status == "active"
    context.close()
