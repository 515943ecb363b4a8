"""Contact and list data as the v3 API shows and changes it."""

import uuid
from datetime import datetime
from typing import Any

from .models import Account
from .models import Contact
from .models import ContactList
from .models import ListMembership
from .models import db


def is_uuid(value: Any) -> bool:
    """Return True for any RFC 4122 UUID string."""
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def iso(moment: datetime) -> str:
    """Format a naive UTC datetime the way the v3 API does."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def membership_count(list_id: str, mode: str = "all") -> int:
    """Count a list's members, or only its active contacts."""
    query = (
        db.select(db.func.count())
        .select_from(ListMembership)
        .join(Contact, Contact.contact_id == ListMembership.contact_id)
        .where(ListMembership.list_id == list_id)
    )
    if mode == "active":
        query = query.where(Contact.status == "active")
    return db.session.scalar(query) or 0


def list_as_json(item: ContactList, count_mode: str | None) -> dict[str, Any]:
    """Render a list like GET /contact_lists/{list_id}."""
    body: dict[str, Any] = {
        "list_id": item.list_id,
        "name": item.name,
        "description": item.description,
        "favorite": item.favorite,
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
    }
    if item.deleted_at is not None:
        body["deleted_at"] = iso(item.deleted_at)
    if count_mode:
        body["membership_count"] = membership_count(item.list_id, count_mode)
    return body


def sign_up(
    account: Account, payload: dict[str, Any], moment: datetime
) -> tuple[str, str] | str:
    """Create or update a contact and add list memberships.

    :return: (contact_id, "created" | "updated"), or an error message.
    """
    email = str(payload.get("email_address") or "").strip().lower()
    if not email or "@" not in email or len(email) > 50:
        return "email_address is required and must be a valid address (max 50)."
    lists = payload.get("list_memberships")
    if not isinstance(lists, list) or not 1 <= len(lists) <= 50:
        return "list_memberships must contain between 1 and 50 list ids."
    list_ids = [str(item).lower() for item in lists]
    for list_id in list_ids:
        found = db.session.get(ContactList, list_id) if is_uuid(list_id) else None
        if found is None or found.account_id != account.id or found.deleted_at:
            return f"List {list_id} does not exist."
    contact = db.session.scalar(
        db.select(Contact).filter_by(account_id=account.id, email_address=email)
    )
    action = "updated"
    if contact is None:
        action = "created"
        contact = Contact(
            contact_id=str(uuid.uuid4()),
            account_id=account.id,
            email_address=email,
            created_at=moment,
            updated_at=moment,
        )
        db.session.add(contact)
    for field in ("first_name", "last_name"):
        if payload.get(field):
            setattr(contact, field, str(payload[field])[:50])
    contact.updated_at = moment
    db.session.flush()
    for list_id in set(list_ids):
        if db.session.get(ListMembership, (list_id, contact.contact_id)) is None:
            db.session.add(
                ListMembership(list_id=list_id, contact_id=contact.contact_id)
            )
    return contact.contact_id, action
