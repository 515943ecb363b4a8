"""`flask demo`: a demo organization, customer and support user."""

from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext

from wizard.cli import users
from wizard.models import ROLE_CUSTOMER
from wizard.models import ROLE_SUPPORT
from wizard.platform.extensions import db

DEMO_ORGANIZATION = "Bloom & Co Florist"

DEMO_CUSTOMER = ("customer@bloom.example", "demo-customer")

DEMO_SUPPORT = ("support@promopulse.example", "demo-support")

# Constant Contact's own domains: an instance that talks to one of them is not a demo.
CONSTANT_CONTACT_DOMAINS = ("constantcontact.com", "cc.email")

CONSTANT_CONTACT_SETTINGS = (
    "CC_AUTHORIZATION_URL",
    "CC_TOKEN_URL",
    "CC_DEVICE_AUTHORIZATION_URL",
    "CC_REVOCATION_URL",
    "CC_API_BASE_URL",
)


def real_constant_contact_setting() -> str | None:
    """Return the first setting that points at the real Constant Contact, if any."""
    for name in CONSTANT_CONTACT_SETTINGS:
        host = (urlsplit(str(current_app.config[name])).hostname or "").lower()
        if any(
            host == domain or host.endswith("." + domain)
            for domain in CONSTANT_CONTACT_DOMAINS
        ):
            return name
    return None


@click.command("demo")
@click.option(
    "--force",
    is_flag=True,
    help="Seed even though this instance talks to the real Constant Contact.",
)
@with_appcontext
def demo_command(force: bool) -> None:
    """Seed a demo organization, customer and support user."""
    real = real_constant_contact_setting()
    if real and not force:
        # The demo support account can see every customer, and its password is public.
        raise click.ClickException(
            "Not seeding the demo: it gives a support account a published password, "
            f"and this instance talks to the real Constant Contact (WIZARD_{real} is "
            f"{current_app.config[real]}). `make run` seeds the demo with the local "
            "Constant Contact; add --force to seed it here anyway."
        )
    customer = users.upsert_user(*DEMO_CUSTOMER, ROLE_CUSTOMER, DEMO_ORGANIZATION)
    users.upsert_user(*DEMO_SUPPORT, ROLE_SUPPORT, None)
    db.session.commit()
    click.echo(f"Demo organization: {DEMO_ORGANIZATION}")
    click.echo(f"  support reference {customer.organization.reference_code}")
    click.echo(f"Demo customer: {DEMO_CUSTOMER[0]}  password: {DEMO_CUSTOMER[1]}")
    click.echo(f"Support user:  {DEMO_SUPPORT[0]}  password: {DEMO_SUPPORT[1]}")
