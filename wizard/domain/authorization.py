"""Step 4: start an authorization, poll it without flooding Constant Contact, save
the tokens, and prove the connection works before calling it active.

Every worker on every host may serve any of these calls: coordination happens in the
database (conditional UPDATEs), never in process memory.
"""

import hashlib
import threading
from datetime import datetime
from datetime import timedelta

from flask import current_app
from flask_babel import gettext

from wizard.constant_contact import api
from wizard.constant_contact import oauth
from wizard.constant_contact.http import ProviderError
from wizard.domain import audit
from wizard.domain import connections
from wizard.domain.problems import problem_for
from wizard.models import FLOW_DEVICE
from wizard.models import OUTCOME_APPROVED
from wizard.models import OUTCOME_EXPIRED
from wizard.models import OUTCOME_FAILED
from wizard.models import OUTCOME_REPLACED
from wizard.models import STATUS_ACTIVE
from wizard.models import STATUS_AUTHORIZING
from wizard.models import STATUS_CREATED
from wizard.models import STATUS_FAILING
from wizard.models import STATUS_LIST_NOT_FOUND
from wizard.models import STATUS_NEEDS_REAUTHORIZATION
from wizard.models import STATUS_UNVERIFIED
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import User
from wizard.models import utcnow
from wizard.platform import crypto
from wizard.platform.extensions import db

SLOW_DOWN_SECONDS = 5
# Requests arrive a little later or sooner than they leave: keep clear of the edge
# of the interval so Constant Contact never sees two polls closer than it allows.
POLL_MARGIN = timedelta(milliseconds=500)
POLL_SLOTS = "wizard.poll_slots"


def state_hash(state: str) -> str:
    """Return the lookup form of an OAuth state."""
    return hashlib.sha256(state.encode()).hexdigest()


def latest_attempt(integration: Integration) -> AuthorizationAttempt | None:
    """Return the integration's newest attempt."""
    return db.session.scalar(
        db.select(AuthorizationAttempt)
        .filter_by(integration_id=integration.id)
        .order_by(AuthorizationAttempt.id.desc())
        .limit(1)
    )


def open_attempts(integration: Integration) -> list[AuthorizationAttempt]:
    """Return the integration's attempts that are still open, oldest first."""
    return list(
        db.session.scalars(
            db.select(AuthorizationAttempt)
            .filter_by(integration_id=integration.id, outcome=None)
            .order_by(AuthorizationAttempt.id)
        )
    )


def is_done(attempt: AuthorizationAttempt) -> bool:
    """Return whether step 4 is over and the connection works (and this try did)."""
    integration = attempt.integration
    return (
        attempt.outcome != OUTCOME_FAILED
        and integration.status == STATUS_ACTIVE
        and not open_attempts(integration)
    )


def is_checking(attempt: AuthorizationAttempt) -> bool:
    """Return whether access was allowed and the list is being checked right now."""
    integration = attempt.integration
    return (
        attempt.outcome == OUTCOME_APPROVED
        and integration.status == STATUS_UNVERIFIED
        and integration.last_error_code is None
    )


def _finish(
    attempt: AuthorizationAttempt,
    outcome: str,
    code: str | None,
    now: datetime,
    *,
    unless: tuple[str, ...] = (),
) -> bool:
    """Close an attempt once; return False if something else closed it first.

    With ``unless``, a closed attempt may be closed again unless its outcome is one
    of those: tokens in hand beat a late "expired" or "replaced".
    """
    condition = (
        AuthorizationAttempt.outcome.is_(None)
        if not unless
        else db.or_(
            AuthorizationAttempt.outcome.is_(None),
            AuthorizationAttempt.outcome.not_in(unless),
        )
    )
    result = db.session.execute(
        db.update(AuthorizationAttempt)
        .where(AuthorizationAttempt.id == attempt.id, condition)
        .values(
            outcome=outcome,
            error_code=code,
            error_message=problem_for(code, attempt.flow).text_en if code else None,
            finished_at=now,
            state_hash=None,
            state_encrypted=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(attempt)
    if result.rowcount != 1:
        return False
    integration = attempt.integration
    if outcome != OUTCOME_APPROVED and integration.status == STATUS_AUTHORIZING:
        if not integration.holds_tokens and not open_attempts(integration):
            integration.status = STATUS_CREATED
    audit.record(
        f"authorization.{outcome}",
        integration=integration,
        attempt_id=attempt.id,
        flow=attempt.flow,
        error=code,
    )
    return True


def _close_older(attempt: AuthorizationAttempt, now: datetime) -> None:
    """Close the integration's other open attempts: one code at a time.

    Only older ones close, so two tabs starting at once leave the newest open.
    """
    for other in open_attempts(attempt.integration):
        if other.id < attempt.id:
            _finish(other, OUTCOME_REPLACED, "replaced", now)


def start(
    integration: Integration,
    user: User,
    provider: oauth.Provider,
    window_seconds: int,
) -> AuthorizationAttempt:
    """Start step 4 for the integration's flow; ProviderError if that fails at once."""
    now = utcnow()
    attempt = AuthorizationAttempt(
        integration=integration,
        flow=integration.flow,
        started_at=now,
        expires_at=now + timedelta(seconds=window_seconds),
        started_by_id=user.id,
    )
    if integration.flow == FLOW_DEVICE:
        grant = oauth.request_device_authorization(provider, integration.api_key or "")
        window = min(grant.expires_in or window_seconds, window_seconds)
        attempt.expires_at = now + timedelta(seconds=window)
        attempt.seal("device_code_encrypted", grant.device_code)
        attempt.user_code = grant.user_code
        attempt.verification_uri = grant.verification_uri
        attempt.verification_uri_complete = grant.verification_uri_complete
        attempt.interval = grant.interval
        # The first poll may go at once; later ones keep to the interval.
        attempt.next_poll_at = now
    else:
        state, verifier = oauth.new_pkce_pair()
        attempt.state_hash = state_hash(state)
        attempt.seal("state_encrypted", state)
        attempt.seal("code_verifier_encrypted", verifier)
    db.session.add(attempt)
    db.session.flush()
    _close_older(attempt, now)
    if not integration.holds_tokens:
        # A connected integration keeps its own status until new tokens prove out.
        integration.status = STATUS_AUTHORIZING
    audit.record(
        "authorization.started",
        actor=user,
        integration=integration,
        attempt_id=attempt.id,
        flow=attempt.flow,
        seconds=attempt.seconds_left(now),
    )
    return attempt


def redirect_target(
    attempt: AuthorizationAttempt, provider: oauth.Provider, redirect_uri: str
) -> str:
    """Return the authorize URL of a code-flow attempt (the same each time)."""
    return oauth.authorization_url(
        provider,
        attempt.integration.api_key or "",
        redirect_uri,
        attempt.unseal("state_encrypted"),
        attempt.unseal("code_verifier_encrypted"),
    )


def expire_if_due(attempt: AuthorizationAttempt, now: datetime) -> None:
    """Close the attempt as expired once its window has passed."""
    if attempt.is_open and now >= attempt.expires_at:
        _finish(attempt, OUTCOME_EXPIRED, "expired", now)
        db.session.commit()


def poll(attempt: AuthorizationAttempt, provider: oauth.Provider) -> bool:
    """Ask Constant Contact about a device attempt, at most once per interval.

    Whoever wins the conditional UPDATE of next_poll_at asks; everyone else only
    reads the row. The claim lasts through the request's timeout and is committed
    before the network call; the next poll is due an interval after the answer.
    Returns whether this call asked.
    """
    now = utcnow()
    expire_if_due(attempt, now)
    if not attempt.is_open or attempt.flow != FLOW_DEVICE:
        return False
    if attempt.next_poll_at is not None and attempt.next_poll_at > now:
        # Not due by the row just read, so the UPDATE below could not win: most
        # status requests end here, with no write, decryption or upstream call.
        return False
    slots = _poll_slots()
    if not slots.acquire(blocking=False):
        # This process already waits on Constant Contact as often as it may: skip
        # this turn (the poll stays due) rather than tie up another thread.
        return False
    try:
        return _poll_now(attempt, provider, now)
    finally:
        slots.release()


def _poll_slots() -> threading.BoundedSemaphore:
    """Return this process's slots for device polls in flight (CC_POLLS_IN_FLIGHT).

    A bulkhead: however slow Constant Contact gets, most of a worker's threads stay
    free to serve pages and status checks.
    """
    extensions = current_app.extensions
    slots = extensions.get(POLL_SLOTS)
    if slots is None:
        size = max(1, int(current_app.config["CC_POLLS_IN_FLIGHT"]))
        slots = extensions.setdefault(POLL_SLOTS, threading.BoundedSemaphore(size))
    return slots


def _poll_now(
    attempt: AuthorizationAttempt, provider: oauth.Provider, now: datetime
) -> bool:
    """Claim the due poll, ask Constant Contact, record the answer."""
    interval = attempt.interval or oauth.DEFAULT_INTERVAL
    held = timedelta(seconds=interval + provider.timeout) + POLL_MARGIN
    claim = db.session.execute(
        db.update(AuthorizationAttempt)
        .where(
            AuthorizationAttempt.id == attempt.id,
            AuthorizationAttempt.outcome.is_(None),
            AuthorizationAttempt.next_poll_at <= now,
        )
        .values(next_poll_at=now + held, poll_count=AuthorizationAttempt.poll_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if claim.rowcount != 1:
        db.session.refresh(attempt)
        return False
    integration = attempt.integration
    try:
        device_code = attempt.unseal("device_code_encrypted")
    except crypto.DecryptionError:
        _finish(attempt, OUTCOME_FAILED, "unreadable", now)
        db.session.commit()
        return True
    try:
        tokens = oauth.poll_device_token(
            provider, integration.api_key or "", device_code
        )
    except ProviderError as error:
        _after_poll_error(attempt, error)
        return True
    finish_with_tokens(attempt, tokens, provider)
    return True


def _after_poll_error(attempt: AuthorizationAttempt, error: ProviderError) -> None:
    answered = utcnow()
    db.session.refresh(attempt)
    interval = attempt.interval or oauth.DEFAULT_INTERVAL
    if error.code == "slow_down":
        # RFC 8628: add 5 seconds to the interval, for this and every later poll.
        interval += SLOW_DOWN_SECONDS
        attempt.interval = interval
    if error.code in ("authorization_pending", "slow_down") or error.transient:
        attempt.next_poll_at = answered + timedelta(seconds=interval) + POLL_MARGIN
        attempt.error_code = error.code if error.transient else None
    else:
        _finish(attempt, OUTCOME_FAILED, error.code, answered)
    db.session.commit()


def fail(attempt: AuthorizationAttempt, code: str, now: datetime) -> None:
    """Close an attempt with the error Constant Contact sent back."""
    _finish(attempt, OUTCOME_FAILED, ProviderError(code).code, now)


def exchange(
    attempt: AuthorizationAttempt,
    state: str,
    code: str,
    provider: oauth.Provider,
    redirect_uri: str,
) -> bool:
    """Finish an authorization-code attempt with the code from the callback.

    The state is used up by a conditional UPDATE first, so a replayed callback
    (even at the same moment) exchanges nothing: it gets False.
    """
    used = db.session.execute(
        db.update(AuthorizationAttempt)
        .where(
            AuthorizationAttempt.id == attempt.id,
            AuthorizationAttempt.state_hash == state_hash(state),
        )
        .values(state_hash=None, state_encrypted=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.refresh(attempt)
    if used.rowcount != 1:
        return False
    integration = attempt.integration
    try:
        verifier = attempt.unseal("code_verifier_encrypted")
        secret = integration.client_secret or ""
    except crypto.DecryptionError:
        _finish(attempt, OUTCOME_FAILED, "unreadable", utcnow())
        db.session.commit()
        return True
    try:
        tokens = oauth.exchange_code(
            provider, integration.api_key or "", secret, code, redirect_uri, verifier
        )
    except ProviderError as error:
        _finish(attempt, OUTCOME_FAILED, error.code, utcnow())
        db.session.commit()
        return True
    finish_with_tokens(attempt, tokens, provider)
    return True


def finish_with_tokens(
    attempt: AuthorizationAttempt, tokens: oauth.TokenSet, provider: oauth.Provider
) -> None:
    """Save the tokens (encrypted) and verify the connection; refuse short access.

    Tokens that arrive after another tab closed the attempt (expired, replaced)
    still connect: the person did allow access.
    """
    now = utcnow()
    integration = attempt.integration
    if tokens.refresh_token is None:
        _revoke_quietly(integration, provider, tokens.access_token)
        _finish(
            attempt, OUTCOME_FAILED, "no_refresh_token", now, unless=(OUTCOME_APPROVED,)
        )
        db.session.commit()
        return
    if integration.holds_tokens:
        _reauthorize(attempt, tokens, provider)
        return
    if not _finish(attempt, OUTCOME_APPROVED, None, now, unless=(OUTCOME_APPROVED,)):
        _revoke_quietly(integration, provider, tokens.refresh_token)
        db.session.commit()
        return
    _close_older(attempt, now)
    for other in open_attempts(integration):
        _finish(other, OUTCOME_REPLACED, "replaced", now)
    integration.seal("access_token_encrypted", tokens.access_token)
    integration.seal("refresh_token_encrypted", tokens.refresh_token)
    integration.token_expires_at = (
        now + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    )
    integration.last_refreshed_at = now
    integration.status = STATUS_UNVERIFIED
    integration.last_error_code = None
    integration.last_error_message = None
    # The tokens are safe in the database before anything else can fail.
    db.session.commit()
    verify(integration, provider)


def _reauthorize(
    attempt: AuthorizationAttempt, tokens: oauth.TokenSet, provider: oauth.Provider
) -> None:
    """Swap in new tokens once they are shown to work; the old ones serve till then."""
    integration = attempt.integration
    now = utcnow()
    try:
        connections.pace(integration)
        found = api.get_list(provider, tokens.access_token, integration.list_id or "")
        if found.deleted:
            raise ProviderError("list_deleted")
        try:
            connections.pace(integration)
            account = api.account_summary(provider, tokens.access_token).name
        except ProviderError as error:
            if error.code != "forbidden":
                raise
            account = integration.account_name
    except ProviderError as error:
        code = "list_not_found" if error.code == "not_found" else error.code
        _revoke_quietly(integration, provider, tokens.refresh_token or "")
        _finish(attempt, OUTCOME_FAILED, code, now, unless=(OUTCOME_APPROVED,))
        db.session.commit()
        return
    if not _finish(attempt, OUTCOME_APPROVED, None, now, unless=(OUTCOME_APPROVED,)):
        _revoke_quietly(integration, provider, tokens.refresh_token or "")
        db.session.commit()
        return
    try:
        old_refresh = integration.unseal("refresh_token_encrypted")
    except crypto.DecryptionError:
        old_refresh = ""
    _close_older(attempt, now)
    integration.seal("access_token_encrypted", tokens.access_token)
    integration.seal("refresh_token_encrypted", tokens.refresh_token or "")
    integration.token_expires_at = (
        now + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    )
    integration.last_refreshed_at = now
    integration.last_checked_at = now
    integration.account_name = account
    _connected_to(integration, found, rename=False)
    audit.record(
        "connection.reauthorized", integration=integration, list_name=found.name
    )
    db.session.commit()
    if old_refresh and old_refresh != tokens.refresh_token:
        _revoke_quietly(integration, provider, old_refresh)


def _revoke_quietly(
    integration: Integration, provider: oauth.Provider, token: str
) -> None:
    """Give back tokens we will not use; a failure here changes nothing for anyone."""
    try:
        secret = integration.client_secret
        oauth.revoke(provider, integration.api_key or "", secret, token)
    except (ProviderError, crypto.DecryptionError):
        pass


def verify(integration: Integration, provider: oauth.Provider) -> None:
    """Read the account and the list with the saved token; set the status from that."""
    integration.last_checked_at = utcnow()
    try:
        token = integration.unseal("access_token_encrypted")
    except crypto.DecryptionError:
        record_check_failure(integration, ProviderError("unreadable"))
        db.session.commit()
        return
    try:
        try:
            connections.pace(integration)
            integration.account_name = api.account_summary(provider, token).name
        except ProviderError as error:
            if error.code != "forbidden":  # no account_read: the list still tells
                raise
        connections.pace(integration)
        found = api.get_list(provider, token, integration.list_id or "")
        if found.deleted:
            raise ProviderError("list_deleted")
    except ProviderError as error:
        record_check_failure(integration, error)
        db.session.commit()
        return
    _connected_to(integration, found, rename=integration.name.startswith("Constant"))
    audit.record(
        "connection.verified",
        integration=integration,
        account=integration.account_name,
        list_name=found.name,
        member_count=found.member_count,
    )
    db.session.commit()


def change_list(
    integration: Integration, list_id: str, from_url: bool, provider: oauth.Provider
) -> str | None:
    """Switch to another list once Constant Contact shows it exists; else a message.

    The old list stays in use until the new one is verified.
    """
    try:
        found = connections.call_with_token(
            integration, lambda p, token: api.get_list(p, token, list_id)
        )
        if found.deleted:
            raise ProviderError("list_deleted")
    except connections.ConnectionProblem as problem:
        return problem.message
    except ProviderError as error:
        if error.code in ("not_found", "list_deleted"):
            account = integration.account_name or gettext("the account you connected")
            if error.code == "list_deleted":
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
    _connected_to(integration, found, rename=True)
    audit.record(
        "integration.list_changed",
        integration=integration,
        previous_list_id=previous,
        list_id=list_id,
        list_name=found.name,
    )
    return None


def _connected_to(
    integration: Integration, found: api.ContactList, *, rename: bool
) -> None:
    """Record the verified list and call the integration active."""
    if rename:
        integration.name = found.name[:200]
    integration.list_name = found.name[:255]
    integration.list_member_count = found.member_count
    integration.status = STATUS_ACTIVE
    integration.last_error_code = None
    integration.last_error_message = None


def record_check_failure(integration: Integration, error: ProviderError) -> None:
    """Record why using the connection failed, and the status that follows from it.

    A passing failure (timeout, 5xx, 429) leaves a working connection's status alone
    but is shown beside it; anything else says what is wrong.
    """
    code = "list_not_found" if error.code == "not_found" else error.code
    if code in ("list_not_found", "list_deleted"):
        integration.status = STATUS_LIST_NOT_FOUND
    elif code in (
        "unauthorized",
        "invalid_grant",
        "invalid_client",
        "unreadable",
        "forbidden",
    ):
        integration.status = STATUS_NEEDS_REAUTHORIZATION
    elif integration.status in (STATUS_ACTIVE, STATUS_FAILING) and (
        error.transient or code == "quota_exceeded"
    ):
        # Never "Active" while calls fail; the next good call makes it active again.
        integration.status = STATUS_FAILING
    else:
        integration.status = STATUS_UNVERIFIED
    integration.last_error_code = code
    integration.last_error_message = problem_for(code, integration.flow).text_en
    audit.record("connection.check_failed", integration=integration, error=code)


def attempt_for_state(state: str) -> AuthorizationAttempt | None:
    """Find the attempt a callback's state belongs to."""
    if not state or len(state) > 200:
        return None
    return db.session.scalar(
        db.select(AuthorizationAttempt).filter_by(state_hash=state_hash(state))
    )
