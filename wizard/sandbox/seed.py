"""Deterministic demo data: two accounts, their lists and contacts."""

import uuid
from datetime import datetime

from werkzeug.security import generate_password_hash

from .models import Account
from .models import Contact
from .models import ContactList
from .models import ListMembership
from .models import db

DEMO_PASSWORD = "sandbox-demo"
DEMO_LOGIN_EMAIL = "owner@bloom.example"
DEMO_ORGANIZATION = "Bloom & Co Florist"
DEMO_ENCODED_ACCOUNT_ID = "b7c0f1r1st9dl"
OTHER_LOGIN_EMAIL = "owner@other.example"
OTHER_ORGANIZATION = "Other Shop"
OTHER_ENCODED_ACCOUNT_ID = "o7h3rsh0p4xk2"

# The help article's example List ID: a v1 (time-based) UUID with node fa163e...
NEWSLETTER_LIST_ID = "7c5b38ee-81d3-11f0-a43c-fa163ea34668"
NEWSLETTER_MEMBERS = 312
NEWSLETTER_ACTIVE_MEMBERS = 300
VIP_LIST_ID = "9a1f0c42-81d3-11f0-b51c-fa163e7d2a91"
VIP_MEMBERS = 25
DELETED_LIST_ID = "3e0b6f1a-5f2c-11ef-8c2d-fa163e5b9c07"
OTHER_LIST_ID = "c4d2e8b0-81d3-11f0-9e77-fa163e01ab23"
OTHER_MEMBERS = 12

CREATED = datetime(2025, 8, 25, 14, 3, 11)
DELETED = datetime(2025, 9, 2, 9, 30, 0)


def _account(email: str, name: str, encoded_id: str, first: str) -> Account:
    """Build a seeded account with the demo password."""
    return Account(
        organization_name=name,
        encoded_account_id=encoded_id,
        login_email=email,
        # Few iterations on purpose: it is a fake, and tests start many servers.
        password_hash=generate_password_hash(DEMO_PASSWORD, "pbkdf2:sha256:1000"),
        first_name=first,
        last_name="Owner",
        contact_phone="555-0100",
        website=f"https://{email.split('@')[1]}",
        state_code="MA",
    )


def _contacts(account: Account, domain: str, count: int, active: int) -> list[Contact]:
    """Build numbered contacts; those past ``active`` are unsubscribed."""
    contacts = []
    for number in range(1, count + 1):
        email = f"customer{number:03d}@{domain}"
        contacts.append(
            Contact(
                contact_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{email}")),
                account_id=account.id,
                email_address=email,
                first_name=f"Customer {number}",
                status="active" if number <= active else "unsubscribed",
                created_at=CREATED,
                updated_at=CREATED,
            )
        )
    return contacts


def _list(account: Account, list_id: str, name: str, members: list[Contact]) -> None:
    """Add a list and its memberships to the session."""
    db.session.add(
        ContactList(
            list_id=list_id,
            account_id=account.id,
            name=name,
            description=f"{name} of {account.organization_name}",
            created_at=CREATED,
            updated_at=CREATED,
        )
    )
    db.session.add_all(
        ListMembership(list_id=list_id, contact_id=c.contact_id) for c in members
    )


def seed_demo_data() -> None:
    """Insert the demo accounts, lists and contacts into an empty database."""
    bloom = _account(
        DEMO_LOGIN_EMAIL, DEMO_ORGANIZATION, DEMO_ENCODED_ACCOUNT_ID, "Rosa"
    )
    other = _account(
        OTHER_LOGIN_EMAIL, OTHER_ORGANIZATION, OTHER_ENCODED_ACCOUNT_ID, "Sam"
    )
    db.session.add_all([bloom, other])
    db.session.flush()
    customers = _contacts(
        bloom, "bloom-customers.example", NEWSLETTER_MEMBERS, NEWSLETTER_ACTIVE_MEMBERS
    )
    db.session.add_all(customers)
    _list(bloom, NEWSLETTER_LIST_ID, "Newsletter", customers)
    _list(bloom, VIP_LIST_ID, "VIP customers", customers[:VIP_MEMBERS])
    _list(bloom, DELETED_LIST_ID, "Spring sale 2024", customers[:40])
    db.session.flush()
    db.session.get(ContactList, DELETED_LIST_ID).deleted_at = DELETED
    others = _contacts(other, "other-customers.example", OTHER_MEMBERS, OTHER_MEMBERS)
    db.session.add_all(others)
    _list(other, OTHER_LIST_ID, "Other Shop customers", others)
    db.session.commit()


def add_account(email: str, organization: str, lists: list[tuple[str, int]]) -> Account:
    """Add an account (the demo password) with lists of the given sizes; tests use it
    to hold more lists than one page of GET /contact_lists shows."""
    account = _account(email, organization, uuid.uuid4().hex[:13], "Pat")
    db.session.add(account)
    db.session.flush()
    most = max((members for _, members in lists), default=0)
    contacts = _contacts(account, f"{account.encoded_account_id}.example", most, most)
    db.session.add_all(contacts)
    for name, members in lists:
        _list(account, str(uuid.uuid4()), name, contacts[:members])
    db.session.commit()
    return account
