"""The v3 API calls the wizard needs: who the account is, and one list."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from wizard.constant_contact.http import ProviderError
from wizard.constant_contact.http import call
from wizard.constant_contact.provider import Provider


@dataclass(frozen=True)
class Person:
    """Someone to add to a list: their email address and, if known, their name."""

    email: str
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class Account:
    """The connected Constant Contact account."""

    name: str


@dataclass(frozen=True)
class ContactList:
    """One contact list as Constant Contact describes it."""

    list_id: str
    name: str
    member_count: int | None
    deleted: bool


def account_summary(provider: Provider, access_token: str) -> Account:
    """Read the account's name (organization, else the owner's name)."""
    body = call(
        "GET",
        f"{provider.api_base_url}/account/summary",
        bearer=access_token,
        timeout=provider.timeout,
    )
    if not isinstance(body, dict):
        raise ProviderError("garbage", "not an object")
    name = body.get("organization_name") or " ".join(
        str(part) for part in (body.get("first_name"), body.get("last_name")) if part
    )
    return Account(name=str(name or body.get("contact_email") or "your account")[:255])


def get_list(provider: Provider, access_token: str, list_id: str) -> ContactList:
    """Read one list with its member count; ProviderError("not_found") if missing."""
    body: Any = call(
        "GET",
        f"{provider.api_base_url}/contact_lists/{quote(list_id, safe='')}",
        params={"include_membership_count": "all"},
        bearer=access_token,
        timeout=provider.timeout,
    )
    if not isinstance(body, dict) or not isinstance(body.get("name"), str):
        raise ProviderError("garbage", "not a list")
    count = body.get("membership_count")
    return ContactList(
        list_id=str(body.get("list_id") or list_id),
        name=body["name"],
        member_count=count if isinstance(count, int) else None,
        deleted=bool(body.get("deleted_at")),
    )


def sign_up(provider: Provider, access_token: str, list_id: str, person: Person) -> str:
    """Create or update a contact on one list; return "created" or "updated"."""
    contact: dict[str, object] = {
        "email_address": person.email,
        "list_memberships": [list_id],
    }
    if person.first_name:
        contact["first_name"] = person.first_name[:50]
    if person.last_name:
        contact["last_name"] = person.last_name[:50]
    body = call(
        "POST",
        f"{provider.api_base_url}/contacts/sign_up_form",
        json=contact,
        bearer=access_token,
        timeout=provider.timeout,
    )
    if not isinstance(body, dict):
        raise ProviderError("garbage", "not an object")
    return "created" if body.get("action") == "created" else "updated"
