"""Access was allowed: save the tokens, or swap them in for a re-authorization."""

from datetime import datetime
from datetime import timedelta

from wizard.constant_contact import api
from wizard.constant_contact.answers import TokenSet
from wizard.constant_contact.client import Client
from wizard.constant_contact.client import client_for
from wizard.constant_contact.http import ProviderError
from wizard.domain import attempts
from wizard.domain import audit
from wizard.domain import listening
from wizard.domain import pacing
from wizard.domain import transitions
from wizard.domain import verification
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform import crypto
from wizard.platform import locks
from wizard.platform.columns import utcnow
from wizard.platform.extensions import db
from wizard.status import Code
from wizard.status import Outcome
from wizard.status import list_code


def exchange(attempt: AuthorizationAttempt, state: str, code: str) -> bool:
    """Finish an authorization-code attempt with the code from the callback.

    The state is used up by a conditional UPDATE first, so a replayed callback
    (even at the same moment) exchanges nothing: it gets False.
    """
    used = db.session.execute(
        db.update(AuthorizationAttempt)
        .where(
            AuthorizationAttempt.id == attempt.id,
            AuthorizationAttempt.state_hash == attempts.state_hash(state),
        )
        .values(state_hash=None, state_encrypted=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(attempt)
    if used.rowcount != 1:
        return False
    client = client_for(attempt.integration)
    try:
        verifier = attempt.unseal("code_verifier_encrypted")
        # The client secret is read before anything is sent: unreadable, it says so.
        tokens = client.exchange_code(code, verifier)
    except crypto.DecryptionError:
        failed = "unreadable"
    except ProviderError as error:
        failed = error.code
    else:
        finish_with_tokens(attempt, tokens, client)
        return True
    attempts.finish(attempt, Outcome.FAILED, failed, utcnow())
    db.session.commit()
    return True


def finish_with_tokens(
    attempt: AuthorizationAttempt, tokens: TokenSet, client: Client
) -> None:
    """Save the tokens (encrypted) and verify the connection; refuse short access.

    Tokens that arrive after another tab closed the attempt (expired, replaced)
    still connect: the person did allow access. The first approval among the
    integration's codes wins; a later one's tokens are given back, never saved.
    """
    now = utcnow()
    if tokens.refresh_token is None:
        revoke_quietly(client, tokens.access_token)
        attempts.finish(
            attempt, Outcome.FAILED, "no_refresh_token", now, unless=(Outcome.APPROVED,)
        )
        listening.stop(attempt)
        db.session.commit()
        return
    if _lost(attempt):
        revoke_quietly(client, tokens.refresh_token)
        return
    if attempt.integration.holds_tokens:
        _reauthorize(attempt, tokens, client)
        return
    with locks.locked_rows(Integration, [attempt.integration_id]) as (integration,):
        won = _win(attempt, now)
        if won:
            _keep(integration, tokens, now)
            transitions.authorized(integration)
    # The tokens are safe in the database before anything else can fail.
    if not won:
        revoke_quietly(client, tokens.refresh_token)
        return
    verification.verify(integration)


def _lost(attempt: AuthorizationAttempt) -> bool:
    """Return whether this attempt, or another code since it started, was approved."""
    db.session.refresh(attempt)
    return listening.approval_for(attempt) is not None


def _win(attempt: AuthorizationAttempt, now: datetime) -> bool:
    """Make this the approval, unless another code's came first (hold the lock).

    The integration's row lock orders approvals of its different codes, so two
    codes allowed at once cannot both save tokens; the others stop being asked.
    """
    if _lost(attempt):
        return False
    if not attempts.finish(
        attempt, Outcome.APPROVED, None, now, unless=(Outcome.APPROVED,)
    ):
        return False
    attempts.close_older(attempt, now)
    for other in attempts.open_attempts(attempt.integration):
        attempts.finish(other, Outcome.REPLACED, "replaced", now)
    listening.stop_others(attempt)
    return True


def _keep(integration: Integration, tokens: TokenSet, now: datetime) -> None:
    """Store the new tokens, encrypted, with when the access token runs out."""
    integration.seal("access_token_encrypted", tokens.access_token)
    integration.seal("refresh_token_encrypted", tokens.refresh_token or "")
    integration.token_expires_at = (
        now + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    )
    integration.last_refreshed_at = now


def _reauthorize(
    attempt: AuthorizationAttempt, tokens: TokenSet, client: Client
) -> None:
    """Swap in new tokens once they are shown to work; the old ones serve till then."""
    integration = attempt.integration
    now = utcnow()
    try:
        found, account = _proven(integration, tokens, client)
    except ProviderError as error:
        code = list_code(error.code)
        revoke_quietly(client, tokens.refresh_token or "")
        attempts.finish(attempt, Outcome.FAILED, code, now, unless=(Outcome.APPROVED,))
        listening.stop(attempt)
        db.session.commit()
        return
    with locks.locked_rows(Integration, [integration.id]):
        won = _win(attempt, now)
        if won:
            try:
                old_refresh = integration.unseal("refresh_token_encrypted")
            except crypto.DecryptionError:
                old_refresh = ""
            _keep(integration, tokens, now)
            integration.last_checked_at = now
            integration.account_name = account
            transitions.connected_to(integration, found, rename=False)
            audit.record(
                "connection.reauthorized", integration=integration, list_name=found.name
            )
    if not won:
        revoke_quietly(client, tokens.refresh_token or "")
    elif old_refresh and old_refresh != tokens.refresh_token:
        revoke_quietly(client, old_refresh)


def _proven(
    integration: Integration, tokens: TokenSet, client: Client
) -> tuple[api.ContactList, str | None]:
    """Read the list and the account's name with new tokens; ProviderError if not."""
    pacing.pace(integration)
    found = client.get_list(tokens.access_token, integration.list_id or "")
    if found.deleted:
        raise ProviderError(Code.LIST_DELETED)
    try:
        pacing.pace(integration)
        account = client.account_summary(tokens.access_token).name
    except ProviderError as error:
        if error.code != "forbidden":
            raise
        account = integration.account_name
    return found, account


def revoke_quietly(client: Client, token: str) -> None:
    """Give back tokens we will not use; a failure here changes nothing for anyone."""
    try:
        client.revoke(token)
    except (ProviderError, crypto.DecryptionError):
        pass
