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
    """Return the status that follows a failed use of the connection.

    A passing failure (``transient``: timeout, 5xx, 429) or the day's quota leaves a
    working connection failing, never "Active"; anything else says what is wrong.
    """
    if code in LIST_GONE:
        return Status.LIST_NOT_FOUND
    if code in REFUSED:
        return Status.NEEDS_REAUTHORIZATION
    if current in WORKING and (transient or code == Code.QUOTA_EXCEEDED):
        return Status.FAILING
    return Status.UNVERIFIED


def after_success(current: str) -> Status:
    """Return the status after a call worked: active again, unless renewal was refused.

    The access token in hand still works then, but only until it runs out, and only
    authorizing again mends that.
    """
    if current == Status.NEEDS_REAUTHORIZATION:
        return Status.NEEDS_REAUTHORIZATION
    return Status.ACTIVE


class IntegrationQuestions:
    """What pages ask about an integration's ``status`` and ``flow`` columns."""

    status: str
    flow: str

    @property
    def is_draft(self) -> bool:
        """Return whether steps 1-3 are not finished yet."""
        return self.status == Status.DRAFT

    @property
    def is_authorizing(self) -> bool:
        """Return whether step 4 is under way and nothing is connected yet."""
        return self.status == Status.AUTHORIZING

    @property
    def is_active(self) -> bool:
        """Return whether the connection works and reaches its list."""
        return self.status == Status.ACTIVE

    @property
    def is_unverified(self) -> bool:
        """Return whether it is authorized but its list is not checked yet."""
        return self.status == Status.UNVERIFIED

    @property
    def needs_reauthorization(self) -> bool:
        """Return whether Constant Contact refused it: only authorizing again helps."""
        return self.status == Status.NEEDS_REAUTHORIZATION

    @property
    def list_missing(self) -> bool:
        """Return whether the connected account has no such list (any more)."""
        return self.status == Status.LIST_NOT_FOUND

    @property
    def uses_device_flow(self) -> bool:
        """Return whether its app uses the Device Flow (else the code flow)."""
        return self.flow == Flow.DEVICE


class AttemptQuestions:
    """What pages ask about an authorization attempt's ``outcome`` and ``flow``."""

    outcome: str | None
    flow: str

    @property
    def is_open(self) -> bool:
        """Return whether the attempt has not ended yet."""
        return self.outcome is None

    @property
    def is_approved(self) -> bool:
        """Return whether the person allowed access on this attempt."""
        return self.outcome == Outcome.APPROVED

    @property
    def uses_device_flow(self) -> bool:
        """Return whether the attempt shows a code (else it opens Constant Contact)."""
        return self.flow == Flow.DEVICE
