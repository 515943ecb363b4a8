"""The words a connection's state is stored in: statuses, outcomes, flows, codes.

The values are the strings in the database. Which status follows which is decided
here (pure functions); wizard.domain.transitions is the only code that writes one.
"""

from enum import StrEnum


class Status(StrEnum):
    """Where an integration stands, from draft on."""

    DRAFT = "draft"
    CREATED = "created"
    AUTHORIZING = "authorizing"
    ACTIVE = "active"
    # Authorized, but the list could not be found in the connected account.
    LIST_NOT_FOUND = "list_not_found"
    # Authorized, but Constant Contact could not be asked about the list yet.
    UNVERIFIED = "unverified"
    # Was working; the last checks failed again and again (timeouts, 5xx, 429...).
    FAILING = "failing"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"
    DISCONNECTED = "disconnected"


class Outcome(StrEnum):
    """How an authorization attempt ended (an open one has none)."""

    APPROVED = "approved"
    FAILED = "failed"
    EXPIRED = "expired"
    REPLACED = "replaced"


class Flow(StrEnum):
    """The OAuth2 flow the customer's Constant Contact app uses."""

    DEVICE = "device"
    AUTHORIZATION_CODE = "authorization_code"


class AppCheck(StrEnum):
    """What Constant Contact said about the customer's app before any clock started."""

    DEVICE = "device"  # found, set to Device Flow
    CODE_FLOW = "code_flow"  # key and secret match; the Redirect URI is registered
    REDIRECT_UNKNOWN = "redirect_unknown"  # key and secret match; URI not checkable
    REDIRECT_MISSING = "redirect_missing"  # key and secret match; URI not registered
    NOT_DEVICE = "not_device"  # no Device Flow app with this key (or it needs a secret)
    WRONG_FLOW = "wrong_flow"  # the app exists, set to another flow
    SECRET_REFUSED = "secret_refused"  # no app with this key and secret
    UNREACHABLE = "unreachable"  # Constant Contact could not be asked

    @property
    def passed(self) -> bool:
        """Whether step 2 follows at once: the app works, or nobody could say."""
        return self in PASSED

    @property
    def blocks(self) -> bool:
        """Whether step 1 must be fixed before step 2: the app cannot work as is."""
        return self in BLOCKING

    @property
    def flow(self) -> "Flow | None":
        """The flow the check found the app set to, if it found one."""
        return APP_FLOWS.get(self)


class Code(StrEnum):
    """The problem codes that decide a status (problems.py words these and more)."""

    # The v3 API's answer for a list it does not know; the connection says:
    NOT_FOUND = "not_found"
    LIST_NOT_FOUND = "list_not_found"
    LIST_DELETED = "list_deleted"
    UNAUTHORIZED = "unauthorized"
    UNAUTHORIZED_CLIENT = "unauthorized_client"
    INVALID_GRANT = "invalid_grant"
    INVALID_CLIENT = "invalid_client"
    UNREADABLE = "unreadable"
    FORBIDDEN = "forbidden"
    QUOTA_EXCEEDED = "quota_exceeded"


# Step 1 must be fixed before step 2: the app cannot work as it is.
BLOCKING = frozenset(
    {AppCheck.NOT_DEVICE, AppCheck.WRONG_FLOW, AppCheck.SECRET_REFUSED}
)
# Straight on to step 2. A missing Redirect URI asks first, but may be passed: the
# check may be wrong about a server we have not met.
PASSED = frozenset(AppCheck) - BLOCKING - {AppCheck.REDIRECT_MISSING}
APP_FLOWS = {
    AppCheck.DEVICE: Flow.DEVICE,
    AppCheck.CODE_FLOW: Flow.AUTHORIZATION_CODE,
    AppCheck.REDIRECT_UNKNOWN: Flow.AUTHORIZATION_CODE,
    AppCheck.REDIRECT_MISSING: Flow.AUTHORIZATION_CODE,
}

# Steps 1-3 may still change while it is one of these (and holds no tokens).
SETTING_UP = frozenset({Status.DRAFT, Status.CREATED, Status.AUTHORIZING})
# A connection that was working: a passing failure makes it failing, not unverified.
WORKING = frozenset({Status.ACTIVE, Status.FAILING})
# The list is gone from the connected account: choosing it again helps.
LIST_GONE = frozenset({Code.LIST_NOT_FOUND, Code.LIST_DELETED})
# Constant Contact refused the tokens or we cannot read them: authorizing again helps.
REFUSED = frozenset(
    {
        Code.UNAUTHORIZED,
        Code.INVALID_GRANT,
        Code.INVALID_CLIENT,
        Code.UNREADABLE,
        Code.FORBIDDEN,
    }
)
# A refresh answered with one of these will never work again: re-authorize.
RENEWAL_REFUSED = frozenset(
    {Code.INVALID_GRANT, Code.INVALID_CLIENT, Code.UNAUTHORIZED_CLIENT}
)


def list_code(code: str) -> str:
    """Return the code as a connection says it: the v3 API's not_found is the list's."""
    return Code.LIST_NOT_FOUND.value if code == Code.NOT_FOUND else code


def after_failure(current: str, code: str, *, transient: bool) -> Status:
    """Return the status that follows a failed use of the connection."""
    if code in LIST_GONE:
        return Status.LIST_NOT_FOUND
    if code in REFUSED:
        return Status.NEEDS_REAUTHORIZATION
    # A passing failure (timeout, 5xx, 429) or the day's quota leaves a working
    # connection failing, never "Active"; anything else says what is wrong.
    if current in WORKING and (transient or code == Code.QUOTA_EXCEEDED):
        return Status.FAILING
    return Status.UNVERIFIED


def after_success(current: str) -> Status:
    """Return the status after a call worked: active, unless renewal was refused."""
    # The access token in hand still works then, but only until it runs out, and
    # only authorizing again mends that.
    if current == Status.NEEDS_REAUTHORIZATION:
        return Status.NEEDS_REAUTHORIZATION
    return Status.ACTIVE


def _question(column: str, value: str | None) -> property:
    """Return a read-only property saying whether the row's column holds the value."""
    return property(lambda row: getattr(row, column) == value)


class IntegrationQuestions:
    """What pages ask about an integration, instead of comparing its strings."""

    is_draft = _question("status", Status.DRAFT)
    is_authorizing = _question("status", Status.AUTHORIZING)
    is_active = _question("status", Status.ACTIVE)
    is_unverified = _question("status", Status.UNVERIFIED)
    # Constant Contact refused it: only authorizing again helps.
    needs_reauthorization = _question("status", Status.NEEDS_REAUTHORIZATION)
    # The connected account has no such list (any more).
    list_missing = _question("status", Status.LIST_NOT_FOUND)
    uses_device_flow = _question("flow", Flow.DEVICE)


class AttemptQuestions:
    """What pages ask about an authorization attempt."""

    is_open = _question("outcome", None)
    is_approved = _question("outcome", Outcome.APPROVED)
    # A device attempt shows a code; the other kind opens Constant Contact.
    uses_device_flow = _question("flow", Flow.DEVICE)
