"""Contacts held while a connection cannot be used, sent in order once it can.

Each held row is claimed (a token and a lease) before it is sent and deleted in the
same transaction that records the answer: a sender that dies between the two
leaves the row to be sent again once its lease ends, which Constant Contact's
create-or-update makes harmless. Only the oldest row of an integration is ever
claimed, so one sender at a time works through an integration, in order.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from flask import current_app
from sqlalchemy import ScalarSelect

from wizard.constant_contact.api import Person
from wizard.domain import audit
from wizard.domain import sending
from wizard.domain import tokens
from wizard.domain import transitions
from wizard.models import HeldContact
from wizard.models import Integration
from wizard.models.held import held_count
from wizard.models.held import seal_contact
from wizard.platform import crypto
from wizard.platform import leases
from wizard.platform import upsert
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.status import Status

# The connection's problem already says why: hold without asking Constant Contact.
HOLDING_STATUSES = {Status.NEEDS_REAUTHORIZATION, Status.LIST_NOT_FOUND}
# Held behind others of the same integration, to keep their order.
BEHIND_OTHERS = "behind_held_contacts"


@dataclass
class Replayed:
    """What one replay did: sent, dropped as refused, left, and what stopped it."""

    sent: int = 0
    refused: int = 0
    left: int = 0
    stopped_by: str | None = None


def reason_to_hold(integration: Integration) -> str | None:
    """Return why a new contact must be held without trying, or None to try."""
    if integration.status in HOLDING_STATUSES:
        return integration.last_error_code or integration.status
    return BEHIND_OTHERS if waiting(integration.id) else None


def hold(integration: Integration, person: Person, consent: str, reason: str) -> None:
    """Keep the contact to send later; the same person again replaces the first."""
    email = person.email.strip().lower()
    hashes = crypto.lookup_hashes(email)
    known = db.session.scalar(
        db.select(HeldContact.email_hash).where(
            HeldContact.integration_id == integration.id,
            HeldContact.email_hash.in_(hashes),
        )
    )
    email_hash = known or hashes[0]
    plaintext = json.dumps(
        {
            "email": person.email.strip(),
            "first_name": person.first_name,
            "last_name": person.last_name,
            "consent": consent[:200],
        }
    )
    sealed = seal_contact(
        integration.id, integration.organization_id, email_hash, plaintext
    )
    statement = upsert.insert(HeldContact).values(
        integration_id=integration.id,
        organization_id=integration.organization_id,
        email_hash=email_hash,
        contact_encrypted=sealed,
        reason=reason[:80],
        held_at=utcnow(),
        tries=0,
    )
    # A sender holding the older copy loses its claim: it cannot delete the newer.
    statement = statement.on_conflict_do_update(
        index_elements=[HeldContact.integration_id, HeldContact.email_hash],
        set_={
            "contact_encrypted": statement.excluded.contact_encrypted,
            "reason": statement.excluded.reason,
            "claim": None,
            "claimed_until": None,
        },
    )
    db.session.execute(statement)
    audit.record(
        "contact.held",
        integration=integration,
        reason=reason[:80],
        email_domain=email.rpartition("@")[2],
    )
    db.session.commit()


def waiting(integration_id: int) -> int:
    """Return how many contacts are held for the integration."""
    return held_count(integration_id)


def waiting_column() -> ScalarSelect[int]:
    """Return a column for a query of integrations: how many each holds.

    In the query that lists them, so a page of integrations counts in the same
    round trip (the index on integration_id makes each count a short range scan).
    """
    return (
        db.select(db.func.count(HeldContact.id))
        .where(HeldContact.integration_id == Integration.id)
        .correlate(Integration)
        .scalar_subquery()
    )


def waiting_by_integration(integration_ids: list[int]) -> dict[int, int]:
    """Return the number held per integration (those with none left out)."""
    if not integration_ids:
        return {}
    rows = db.session.execute(
        db.select(HeldContact.integration_id, db.func.count(HeldContact.id))
        .where(HeldContact.integration_id.in_(integration_ids))
        .group_by(HeldContact.integration_id)
    ).all()
    return {integration_id: count for integration_id, count in rows}


def _claim_oldest(integration: Integration) -> tuple[HeldContact, str] | None:
    """Claim the integration's oldest held contact, unless another sender has it."""
    now = utcnow()
    oldest = db.session.execute(
        db.select(HeldContact.id, HeldContact.claimed_until)
        .filter_by(integration_id=integration.id)
        .order_by(HeldContact.id)
        .limit(1)
    ).first()
    if oldest is None or (oldest.claimed_until and oldest.claimed_until > now):
        return None
    # Longer than one send can take: pacing, a refresh and two calls at their timeouts.
    lease = timedelta(seconds=current_app.config["HELD_CONTACT_LEASE_SECONDS"])
    claim = leases.claim(
        HeldContact, oldest.id, now, lease, tries=HeldContact.tries + 1
    )
    if claim is None:
        return None
    row = db.session.get(HeldContact, oldest.id, populate_existing=True)
    return (row, claim) if row is not None else None


def row_integration(row: HeldContact) -> Integration:
    """Return the integration a held row belongs to (from the session's map)."""
    return db.session.get(Integration, row.integration_id)


def _release(row: HeldContact, claim: str) -> None:
    """Give the row back unsent, for the next sender."""
    leases.release(HeldContact, row.id, claim)
    db.session.commit()


def replay(integration: Integration, most: int | None = None) -> Replayed:
    """Send the integration's held contacts, oldest first, until done or stopped."""
    done = Replayed()
    if integration.status in HOLDING_STATUSES or not integration.holds_tokens:
        done.stopped_by = integration.last_error_code or integration.status
        done.left = waiting(integration.id)
        return done
    while most is None or done.sent + done.refused < most:
        claimed = _claim_oldest(integration)
        if claimed is None:
            break
        row, claim = claimed
        fields = json.loads(row.contact)
        person = Person(fields["email"], fields["first_name"], fields["last_name"])
        domain = person.email.rpartition("@")[2]
        try:
            action = sending.send(integration, person)
        except tokens.ConnectionProblem as problem:
            _release(row, claim)
            done.stopped_by = problem.code
            break
        except sending.ContactRefused:
            if leases.take(HeldContact, row.id, claim):
                audit.record(
                    "contact.refused",
                    integration=integration,
                    email_domain=domain,
                    replayed=True,
                )
            db.session.commit()
            done.refused += 1
            continue
        transitions.working(integration)
        if leases.take(HeldContact, row.id, claim):
            audit.record(
                "contact.added",
                integration=integration,
                outcome=action,
                email_domain=domain,
                consent=fields["consent"],
                replayed=True,
            )
        db.session.commit()
        done.sent += 1
    done.left = waiting(integration.id)
    return done


def drop_expired(now: datetime, days: int) -> int:
    """Drop contacts held longer than ``days`` (each audited); return how many."""
    old = db.session.scalars(
        db.select(HeldContact).where(HeldContact.held_at < now - timedelta(days=days))
    ).all()
    for row in old:
        audit.record(
            "contact.dropped",
            integration=row_integration(row),
            reason="held_too_long",
            days=days,
        )
        db.session.delete(row)
    db.session.commit()
    return len(old)
