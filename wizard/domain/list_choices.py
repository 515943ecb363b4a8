"""The connected account's lists, to choose one by name (Change List ID, and after
authorizing when the List ID is not in the account).

Reading them is a help, never a step: when Constant Contact cannot show them, the
page says so in plain words and the List ID can still be pasted. Nothing is recorded
and the status is left alone (only a refused refresh changes it, as anywhere).
"""

from dataclasses import dataclass
from functools import partial

from flask_babel import gettext

from wizard.constant_contact import api
from wizard.constant_contact.client import Client
from wizard.constant_contact.http import ProviderError
from wizard.domain import pacing
from wizard.domain import tokens
from wizard.models import Integration
from wizard.platform.i18n import N_

# Enough for any florist; past it the page says only these are shown.
MOST_LISTS = 1000
# A server that keeps sending next links (or tiny pages) stops here, whatever it says.
MOST_PAGES = 20

UNREACHABLE = N_(
    "Constant Contact is not answering right now, so we cannot show your lists."
)
BUSY = N_("Constant Contact is busy right now, so we cannot show your lists.")
QUOTA = N_(
    "Your application has used up today's requests to Constant Contact, so we "
    "cannot show your lists. The limit resets at midnight UTC."
)
REFUSED = N_("Constant Contact would not show us your lists.")
GARBLED = N_("Constant Contact did not answer properly, so we cannot show your lists.")
# What went wrong -> what the page says; anything else is GARBLED.
WHY: dict[str, str] = {
    "timeout": UNREACHABLE,
    "unreachable": UNREACHABLE,
    "unavailable": UNREACHABLE,
    "throttled": BUSY,
    "slow_down": BUSY,
    "quota_exceeded": QUOTA,
    "unauthorized": REFUSED,
    "forbidden": REFUSED,
}


@dataclass(frozen=True)
class ListChoices:
    """The account's lists by name, or why they cannot be shown."""

    lists: tuple[api.ContactList, ...] = ()
    # Constant Contact has more than MOST_LISTS: only the first are here.
    more: bool = False
    # In the reader's language: why no list can be shown (then lists is empty).
    problem: str | None = None


def account_lists(integration: Integration) -> ListChoices:
    """Read every page of the account's lists, each call at the API's pace."""
    found: dict[str, api.ContactList] = {}
    next_url: str | None = None
    try:
        for _ in range(MOST_PAGES):
            page = pacing.call_with_token(integration, partial(_page, next_url))
            for item in page.lists:
                found.setdefault(item.list_id, item)
            next_url = page.next_url
            if next_url is None or len(found) >= MOST_LISTS:
                break
    except tokens.ConnectionProblem as problem:
        return ListChoices(problem=_why(problem.code, problem.message))
    except ProviderError as error:
        return ListChoices(problem=_why(error.code))
    lists = sorted(found.values(), key=lambda item: (item.name.casefold(), item.name))
    return ListChoices(
        lists=tuple(lists[:MOST_LISTS]),
        more=next_url is not None or len(lists) > MOST_LISTS,
    )


def _page(next_url: str | None, client: Client, token: str) -> api.ListPage:
    return client.list_page(token, next_url)


def _why(code: str, connection_message: str | None = None) -> str:
    """Say why the lists cannot be shown; a connection's own problem in its words."""
    if code in WHY or connection_message is None:
        return gettext(WHY.get(code, GARBLED))
    # The connection itself cannot be used (a refused renewal, unreadable tokens):
    # its own words say what mends it.
    return connection_message
