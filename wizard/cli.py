"""Flask commands: users, demo, integrations, keys, sandbox."""

from urllib.parse import urlsplit

import click
from flask import Flask
from flask import current_app
from flask.cli import AppGroup
from flask.cli import with_appcontext

from wizard.domain import contacts
from wizard.domain import tokens
from wizard.domain import verification
from wizard.models import ROLE_CUSTOMER
from wizard.models import ROLE_SUPPORT
from wizard.models import ROLES
from wizard.models import Integration
from wizard.models import Organization
from wizard.models import User
from wizard.platform import keys
from wizard.platform.extensions import db
from wizard.sandbox.cli import sandbox_command

users_cli = AppGroup("users", help="Manage people who can sign in.")
integrations_cli = AppGroup("integrations", help="Look after integrations.")

DEMO_ORGANIZATION = "Bloom & Co Florist"
DEMO_CUSTOMER = ("customer@bloom.example", "demo-customer")
DEMO_SUPPORT = ("support@promopulse.example", "demo-support")


def organization_named(name: str) -> Organization:
    """Return the organization with this name, creating it if needed."""
    organization = db.session.scalar(db.select(Organization).filter_by(name=name))
    if organization is None:
        organization = Organization(name=name)
        db.session.add(organization)
        db.session.flush()
    return organization


def upsert_user(email: str, password: str, role: str, org: str | None) -> User:
    """Create or update a user; customers need an organization."""
    email = email.strip().lower()
    if role == ROLE_CUSTOMER and not org:
        raise click.UsageError("A customer needs --org NAME (their organization).")
    if len(password) < 8:
        raise click.UsageError("Use a password of at least 8 characters.")
    organization = organization_named(org) if role == ROLE_CUSTOMER and org else None
    user = db.session.scalar(db.select(User).filter_by(email=email))
    if user is None:
        user = User(email=email)
    else:
        # A reset password ends every session signed in with the old one.
        user.session_version += 1
    user.role = role
    user.organization = organization
    user.set_password(password)
    db.session.add(user)
    return user


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--org", "org", help="The customer's organization (created if new).")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
def create_user(email: str, role: str, org: str | None, password: str) -> None:
    """Create a user who can sign in (or reset an existing one's password)."""
    user = upsert_user(email, password, role, org)
    db.session.commit()
    where = f" of {user.organization.name}" if user.organization else ""
    click.echo(f"{user.email} can now sign in as {role}{where}.")


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
    customer = upsert_user(*DEMO_CUSTOMER, ROLE_CUSTOMER, DEMO_ORGANIZATION)
    upsert_user(*DEMO_SUPPORT, ROLE_SUPPORT, None)
    db.session.commit()
    click.echo(f"Demo organization: {DEMO_ORGANIZATION}")
    click.echo(f"  support reference {customer.organization.reference_code}")
    click.echo(f"Demo customer: {DEMO_CUSTOMER[0]}  password: {DEMO_CUSTOMER[1]}")
    click.echo(f"Support user:  {DEMO_SUPPORT[0]}  password: {DEMO_SUPPORT[1]}")


@integrations_cli.command("list")
def list_integrations() -> None:
    """Show id, organization, name, status, list and last check of every integration."""
    rows = db.session.execute(
        db.select(Integration, Organization.name)
        .join(Organization)
        .order_by(Integration.id)
    ).all()
    if not rows:
        click.echo("No integrations yet.")
        return
    click.echo("id\torganization\tname\tstatus\tlist\tlast check")
    for integration, organization in rows:
        last_check = (
            integration.last_checked_at.isoformat(timespec="seconds")
            if integration.last_checked_at
            else "never"
        )
        click.echo(
            f"{integration.id}\t{organization}\t{integration.name}\t"
            f"{integration.status}\t{integration.list_id or '-'}\t{last_check}"
        )


def _refuse_before_rotation() -> None:
    """Stop before using any connection while old values wait for `keys rotate`."""
    if problem := keys.refusal():
        raise click.ClickException(problem)


def _connected(integration_id: int | None) -> list[Integration]:
    query = db.select(Integration).where(
        Integration.refresh_token_encrypted.is_not(None)
    )
    if integration_id is not None:
        query = query.filter_by(id=integration_id)
    return list(db.session.scalars(query.order_by(Integration.id)))


@integrations_cli.command("check")
@click.argument("integration_id", type=int, required=False)
def check_integrations(integration_id: int | None) -> None:
    """Use each connection (token, then read the list) and record the result."""
    _refuse_before_rotation()
    integrations = _connected(integration_id)
    if not integrations:
        raise click.ClickException("No connected integration to check.")
    failed = 0
    for integration in integrations:
        try:
            found = verification.check(integration)
        except tokens.ConnectionProblem as problem:
            failed += 1
            click.echo(f"{integration.id}\tproblem\t{problem.code}\t{problem.message}")
        else:
            click.echo(
                f"{integration.id}\tok\t{found.name}\t{found.member_count} members"
            )
    if failed:
        raise SystemExit(1)


@integrations_cli.command("refresh")
@click.option("--due", is_flag=True, help="Only those expiring soon or idle for long.")
def refresh_integrations(due: bool) -> None:
    """Refresh tokens before they expire and long before they die of idleness."""
    _refuse_before_rotation()
    integrations = tokens.due_for_keepalive() if due else _connected(None)
    failed = 0
    for integration in integrations:
        try:
            tokens.access_token(integration, force=True)
        except tokens.ConnectionProblem as problem:
            failed += 1
            click.echo(f"{integration.id}\tproblem\t{problem.code}\t{problem.message}")
        else:
            click.echo(f"{integration.id}\trefreshed")
    click.echo(f"{len(integrations) - failed} refreshed, {failed} failed")
    if failed:
        raise SystemExit(1)


@integrations_cli.command("add-contact")
@click.argument("integration_id", type=int)
@click.argument("email")
@click.option("--consent", required=True, help="How the person agreed to be added.")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
def add_contact(
    integration_id: int, email: str, consent: str, first_name: str, last_name: str
) -> None:
    """Add a contact to the integration's list (with the person's consent)."""
    _refuse_before_rotation()
    integration = db.session.get(Integration, integration_id)
    if integration is None or not integration.holds_tokens:
        raise click.ClickException(f"Integration {integration_id} is not connected.")
    try:
        action = contacts.add_contact(
            integration,
            email,
            consent=consent,
            first_name=first_name,
            last_name=last_name,
        )
    except tokens.ConnectionProblem as problem:
        raise click.ClickException(problem.message) from problem
    click.echo(f"{email}: {action}")


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    app.cli.add_command(users_cli)
    app.cli.add_command(integrations_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(sandbox_command)
    keys.init_app(app)
