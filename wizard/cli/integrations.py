"""`flask integrations`: list, check, keep alive and use saved connections."""

import click
from flask import current_app
from flask.cli import AppGroup

from wizard.domain import contacts
from wizard.domain import delivery
from wizard.domain import held
from wizard.domain import poller
from wizard.domain import polling
from wizard.domain import sending
from wizard.domain import tokens
from wizard.domain import verification
from wizard.models import Integration
from wizard.models import Organization
from wizard.platform import keys
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db

integrations_cli = AppGroup("integrations", help="Look after integrations.")


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
    _deliver_notices()
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
    waiting = held.waiting_by_integration(_all_ids(None))
    if waiting:
        contacts_held, where = sum(waiting.values()), len(waiting)
        click.echo(
            f"{contacts_held} contact{'s' * (contacts_held != 1)} held on {where} "
            f"integration{'s' * (where != 1)} (flask integrations held)"
        )
    _deliver_notices()
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
    """Add a contact to the integration's list (with the person's consent); held
    while the connection cannot be used, and sent once it can."""
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
    except (tokens.ConnectionProblem, sending.ContactRefused) as problem:
        raise click.ClickException(str(getattr(problem, "message", problem))) from None
    click.echo(f"{email}: {action}")


@integrations_cli.command("held")
@click.argument("integration_id", type=int, required=False)
def held_contacts(integration_id: int | None) -> None:
    """Show how many contacts each integration holds, waiting to be added."""
    query = db.select(Integration.id, Integration.status).order_by(Integration.id)
    if integration_id is not None:
        query = query.filter_by(id=integration_id)
    rows = db.session.execute(query).all()
    counts = held.waiting_by_integration([row.id for row in rows])
    click.echo("id\tstatus\theld")
    for row in rows:
        if integration_id is not None or counts.get(row.id):
            click.echo(f"{row.id}\t{row.status}\t{counts.get(row.id, 0)}")
    click.echo(f"{sum(counts.values())} held")


@integrations_cli.command("replay")
@click.argument("integration_id", type=int, required=False)
def replay_held(integration_id: int | None) -> None:
    """Send held contacts now, oldest first, where the connection works again;
    drop (and audit) those held longer than WIZARD_HELD_CONTACT_DAYS."""
    _refuse_before_rotation()
    dropped = held.drop_expired(utcnow(), current_app.config["HELD_CONTACT_DAYS"])
    if dropped:
        click.echo(f"{dropped} dropped, held too long")
    ids = list(held.waiting_by_integration(_all_ids(integration_id)))
    for integration in db.session.scalars(
        db.select(Integration).where(Integration.id.in_(ids)).order_by(Integration.id)
    ):
        done = held.replay(integration)
        stopped = f"\tstopped: {done.stopped_by}" if done.stopped_by else ""
        click.echo(
            f"{integration.id}\tsent {done.sent}\trefused {done.refused}"
            f"\tleft {done.left}{stopped}"
        )
    _deliver_notices()


@integrations_cli.command("poll")
@click.option("--forever", is_flag=True, help="Keep polling, as a service would.")
def poll_step_4(forever: bool) -> None:
    """Ask Constant Contact about step 4's due device codes: once, or as this
    host's poller with --forever (then set WIZARD_POLLER=false on the web workers)."""
    _refuse_before_rotation()
    if not forever:
        click.echo(f"{polling.poll_due()} asked")
        _deliver_notices()
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runner = poller.Poller(app, int(app.config["CC_POLLS_IN_FLIGHT"]))
    click.echo(f"polling with {runner.threads} threads; Ctrl+C stops")
    try:
        runner.run()
    except KeyboardInterrupt:
        runner.stop()


def _deliver_notices() -> None:
    """Deliver the notices owed (a connection that broke); say so if there were any."""
    done = delivery.deliver_due()
    if done.sent or done.retrying or done.given_up or done.skipped:
        click.echo(
            f"notices: {done.sent} sent, {done.retrying} to try again, "
            f"{done.given_up} given up, {done.skipped} not needed"
        )


def _all_ids(integration_id: int | None) -> list[int]:
    """Return the one integration asked for, or every integration's id."""
    if integration_id is not None:
        return [integration_id]
    return list(db.session.scalars(db.select(Integration.id)))
