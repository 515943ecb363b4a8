"""Call the v3 API at its pace: 4 a second per API key, shared by every worker."""

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from wizard.constant_contact.client import Client
from wizard.constant_contact.client import client_for
from wizard.constant_contact.http import LEAST_SECONDS
from wizard.constant_contact.http import ProviderError
from wizard.constant_contact.http import budget_left
from wizard.domain import tokens
from wizard.models import Integration
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db

T = TypeVar("T")

# Constant Contact allows 4 calls a second per API key, counted per clock second:
# 0.3 s apart never puts 5 in one second, even with a little jitter.
API_SPACING = timedelta(milliseconds=300)

THROTTLED_PAUSE = 1.1

# A slot lost to another caller this many times in a row: refuse, never call unpaced.
BOOKING_TRIES = 100


def pace(integration: Integration) -> None:
    """Wait for this integration's next slot: at most 4 API calls a second, shared by
    every worker and host (a compare-and-set on the row, no lock held while waiting).

    A slot past what is left of the web request's budget is not booked: the call is
    refused as "throttled" at once, so a flood of callers can neither park every
    thread nor push the next slot further for everyone. Outside a request (the CLI)
    there is no budget, and the caller waits for the slot it books.
    """
    for _ in range(BOOKING_TRIES):
        taken = db.session.scalar(
            db.select(Integration.api_next_call_at).filter_by(id=integration.id)
        )
        now = utcnow()
        slot = max(taken or now, now)
        if not time_to_wait((slot - now).total_seconds()):
            raise ProviderError("throttled", "the next free slot is past the budget")
        same = (
            Integration.api_next_call_at.is_(None)
            if taken is None
            else Integration.api_next_call_at == taken
        )
        claimed = db.session.execute(
            db.update(Integration)
            .where(Integration.id == integration.id, same)
            .values(api_next_call_at=slot + API_SPACING)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if claimed.rowcount == 1:
            wait = (slot - utcnow()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            return
    # Others booked every slot we reached for: calling anyway would break the pace.
    raise ProviderError("throttled", "no slot could be booked")


def time_to_wait(seconds: float) -> bool:
    """Return whether the request's budget can wait this long and still make a call."""
    return seconds <= budget_left() - LEAST_SECONDS


def call_with_token(integration: Integration, request: Callable[[Client, str], T]) -> T:
    """Run an API call with a valid token, at the API's pace.

    After a 401 the token is refreshed once and the call tried again; after
    "throttled" the call waits a second and tries again once, if the request's
    budget leaves time for that.
    """
    checked = integration.last_checked_at
    if (
        integration.last_error_code == "quota_exceeded"
        and checked is not None
        and checked.date() == utcnow().date()
    ):
        # Asking again before midnight UTC only spends tomorrow's quota.
        raise tokens.ConnectionProblem("quota_exceeded", integration.flow)
    token = tokens.access_token(integration)
    client = client_for(integration)
    for retry in (True, False):
        pace(integration)
        try:
            return request(client, token)
        except ProviderError as error:
            if not retry or error.code not in ("unauthorized", "throttled"):
                raise
            if error.code == "unauthorized":
                token = tokens.access_token(integration, force=True)
            elif time_to_wait(THROTTLED_PAUSE):
                time.sleep(THROTTLED_PAUSE)
            else:
                raise
    raise AssertionError("unreachable")
