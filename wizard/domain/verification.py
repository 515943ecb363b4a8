"""Prove the connection reaches its list: after authorizing, on a check, a new list."""

from collections.abc import Callable
from typing import TypeVar

from flask_babel import gettext

from wizard.constant_contact import api
from wizard.constant_contact.client import Client
from wizard.constant_contact.client import client_for
from wizard.constant_contact.http import ProviderError
from wizard.domain import audit
from wizard.domain import pacing
from wizard.domain import tokens
from wizard.domain import transitions
from wizard.domain.problems import problem_for
from wizard.models import Integration
from wizard.platform import crypto
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.status import Code
from wizard.status import list_code

T = TypeVar("T")


def verify(integration: Integration) -> None:
    """Read the account and the list with the saved token; set the status from that."""
    client = client_for(integration)
    integration.last_checked_at = utcnow()
    try:
        token = integration.unseal("access_token_encrypted")
    except crypto.DecryptionError:
        transitions.record_check_failure(integration, ProviderError(Code.UNREADABLE))
        db.session.commit()
        return
    try:
        try:
            pacing.pace(integration)
            integration.account_name = client.account_summary(token).name
        except ProviderError as error:
            if error.code != "forbidden":  # no account_read: the list still tells
                raise
        pacing.pace(integration)
        found = client.get_list(token, integration.list_id or "")
        if found.deleted:
            raise ProviderError(Code.LIST_DELETED)
    except ProviderError as error:
        transitions.record_check_failure(integration, error)
        db.session.commit()
        return
    transitions.connected_to(
        integration, found, rename=integration.name.startswith("Constant")
    )
    audit.record(
        "connection.verified",
        integration=integration,
        account=integration.account_name,
        list_name=found.name,
        member_count=found.member_count,
    )
    db.session.commit()


def change_list(integration: Integration, list_id: str, from_url: bool) -> str | None:
    """Switch to another list once Constant Contact shows it exists; else a message.

    The old list stays in use until the new one is verified.
    """
    try:
        found = pacing.call_with_token(
            integration, lambda client, token: client.get_list(token, list_id)
        )
        if found.deleted:
            raise ProviderError(Code.LIST_DELETED)
    except tokens.ConnectionProblem as problem:
        return problem.message
    except ProviderError as error:
        if error.code in (Code.NOT_FOUND, Code.LIST_DELETED):
            account = integration.account_name or gettext("the account you connected")
            if error.code == Code.LIST_DELETED:
                return gettext(
                    "We could not find that list in %(account)s (it was deleted). "
                    "Open the list in Constant Contact and copy its address again",
                    account=account,
                )
            return gettext(
                "We could not find that list in %(account)s. Open the list in "
                "Constant Contact and copy its address again",
                account=account,
            )
        return problem_for(error.code, integration.flow).text
    previous = integration.list_id
    integration.list_id = list_id
    integration.list_id_from_url = from_url
    integration.list_id_saved_at = utcnow()
    integration.last_checked_at = utcnow()
    transitions.connected_to(integration, found, rename=True)
    audit.record(
        "integration.list_changed",
        integration=integration,
        previous_list_id=previous,
        list_id=list_id,
        list_name=found.name,
    )
    return None


def call_recorded(
    integration: Integration,
    request: Callable[[Client, str], T],
    passes: frozenset[str] = frozenset(),
) -> T:
    """Run an API call on the connection; on failure record it (the status follows)
    and raise ConnectionProblem. Errors whose code is in ``passes`` are the
    caller's to read: raised as they came, recorded nowhere."""
    try:
        return pacing.call_with_token(integration, request)
    except ProviderError as error:
        code = list_code(error.code)
        if code in passes:
            raise
        record_failure(integration, code)
        raise tokens.ConnectionProblem(code, integration.flow) from error
    except tokens.ConnectionProblem as problem:
        record_failure(integration, problem.code)
        raise


def check(integration: Integration) -> api.ContactList:
    """Use the connection (token, then read the list) and record what happened."""
    list_id = integration.list_id or ""
    found = call_recorded(
        integration, lambda client, token: client.get_list(token, list_id)
    )
    if found.deleted:
        record_failure(integration, Code.LIST_DELETED)
        raise tokens.ConnectionProblem(Code.LIST_DELETED, integration.flow)
    integration.list_name = found.name[:255]
    integration.list_member_count = found.member_count
    integration.last_checked_at = utcnow()
    transitions.working(integration)
    audit.record(
        "connection.checked", integration=integration, member_count=found.member_count
    )
    db.session.commit()
    return found


def record_failure(integration: Integration, code: str) -> None:

    gone = db.session.scalar(db.select(Integration.id).filter_by(id=integration.id))
    if gone is None or code == "not_connected":
        db.session.rollback()  # deleted or disconnected meanwhile: nothing to record
        return
    integration.last_checked_at = utcnow()
    if not integration.needs_reauthorization:
        transitions.record_check_failure(integration, ProviderError(code))
    db.session.commit()
