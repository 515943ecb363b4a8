"""Flask commands: users, demo, integrations, sandbox."""

import click
from flask import Flask
from flask.cli import AppGroup
from flask.cli import with_appcontext

from .extensions import db
from .models import ROLE_CUSTOMER
from .models import ROLE_SUPPORT
from .models import ROLES
from .models import Integration
from .models import Organization
from .models import User
from .sandbox.cli import sandbox_command

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


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Seed a demo organization, customer and support user."""
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


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    app.cli.add_command(users_cli)
    app.cli.add_command(integrations_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(sandbox_command)
