"""The v3 API calls the wizard needs: who the account is, its lists, one list."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from urllib.parse import urljoin
from urllib.parse import urlsplit

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


# Lists asked for a page. Constant Contact's documentation has given both 500 and
# 1000 as the most a page may hold: 500 is right under either.
LISTS_PER_PAGE = 500


@dataclass(frozen=True)
class ListPage:
    """One page of the account's lists, and the address of the next (None: last)."""

    lists: tuple[ContactList, ...]
    next_url: str | None


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
    return _contact_list(body, list_id)


def list_page(
    provider: Provider, access_token: str, next_url: str | None = None
) -> ListPage:
    """Read one page of the account's lists (active ones) with their member counts.

    The first page is asked for with its size; the next ones at the address the
    previous page's ``_links.next.href`` gave, as it is: its cursor carries the query.
    """
    params = None
    if next_url is None:
        params = {"limit": str(LISTS_PER_PAGE), "include_membership_count": "all"}
    body: Any = call(
        "GET",
        next_url or f"{provider.api_base_url}/contact_lists",
        params=params,
        bearer=access_token,
        timeout=provider.timeout,
    )
    if not isinstance(body, dict) or not isinstance(body.get("lists"), list):
        raise ProviderError("garbage", "not a page of lists")
    return ListPage(
        lists=tuple(_listed(item) for item in body["lists"]),
        next_url=_next_url(provider, body.get("_links")),
    )


def _listed(item: Any) -> ContactList:
    """Read one list of a page; a list without its name or id makes it garbage."""
    if not (
        isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("list_id"), str)
    ):
        raise ProviderError("garbage", "a list without its name or id")
    return _contact_list(item, item["list_id"])


def _contact_list(body: dict[str, Any], list_id: str) -> ContactList:
    count = body.get("membership_count")
    return ContactList(
        list_id=str(body.get("list_id") or list_id),
        name=body["name"],
        member_count=count if isinstance(count, int) else None,
        deleted=bool(body.get("deleted_at")),
    )


def _next_url(provider: Provider, links: Any) -> str | None:
    """Return the next page's address, kept to the v3 API: the token goes no further."""
    following = links.get("next") if isinstance(links, dict) else None
    href = following.get("href") if isinstance(following, dict) else None
    if href is None:
        return None
    base = urlsplit(provider.api_base_url)
    url = urljoin(provider.api_base_url, href) if isinstance(href, str) else ""
    target = urlsplit(url)
    if (target.scheme, target.netloc) != (base.scheme, base.netloc) or not (
        target.path.startswith(base.path.rstrip("/") + "/")
    ):
        raise ProviderError("garbage", "a next page away from the API")
    return url


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
