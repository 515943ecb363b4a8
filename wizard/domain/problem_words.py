"""Every problem's words and next step, as tables read by error code.

PROBLEMS holds the words both flows share; FLOW_PROBLEMS the device and
authorization code flows' own, read first; CONNECTION_PROBLEMS a saved connection's
own, read first for it. A code in none of them gets FALLBACK. The words are English
message ids: wizard/domain/problems.py translates them when read, and
wizard/web/next_steps.py turns the action into a link or a form.
"""

from dataclasses import dataclass

from wizard.platform.i18n import N_
from wizard.status import Flow

# Next steps a problem page offers.
NEW_CODE = "new_code"  # start step 4 again, keeping everything else
FIX_CREDENTIALS = "fix_credentials"  # back to step 1 for this integration
FIX_LIST = "fix_list"  # choose the List ID again, keeping the authorization
TRY_AGAIN = "try_again"  # the same action again in a moment
CHECK_AGAIN = "check_again"  # check the list again, no new authorization


@dataclass(frozen=True)
class Words:
    """A problem's heading and advice (English message ids) and its next step."""

    heading: str
    text: str
    action: str


FALLBACK = Words(
    N_("Constant Contact did not answer properly"),
    N_("This is usually brief. Nothing is lost: try again in a minute."),
    TRY_AGAIN,
)
_EXPIRED = Words(
    N_("Time ran out"),
    N_(
        "The 5 minutes ran out before Constant Contact told us you allowed "
        "access. Nothing you entered is lost: get a new code and try again."
    ),
    NEW_CODE,
)
_CODE_SPENT = Words(
    N_("That code can no longer be used"),
    N_("It was already used or is too old. Get a new code and try again."),
    NEW_CODE,
)
_SLOW_DOWN = Words(
    N_("Constant Contact asked us to slow down"),
    N_(
        "Too many requests reached Constant Contact at once. Wait a minute, "
        "then try again."
    ),
    TRY_AGAIN,
)

# Error code -> words, the same in both flows; codes that mean the same share words.
PROBLEMS: dict[str, Words] = {
    "expired": _EXPIRED,
    "expired_token": _EXPIRED,
    "access_denied": Words(
        N_("Access was not allowed"),
        N_(
            "Constant Contact says access was not allowed. If that was a mistake, "
            "get a new code and click Allow Access this time."
        ),
        NEW_CODE,
    ),
    "invalid_scope": Words(
        N_("Constant Contact refused the permissions we ask for"),
        N_(
            "Call support and give them your support reference: they will help you "
            "check your application's settings."
        ),
        TRY_AGAIN,
    ),
    "invalid_grant": _CODE_SPENT,
    "invalid_request": _CODE_SPENT,
    "state_used": _CODE_SPENT,
    "state_other_user": Words(
        N_("This approval was started by someone else"),
        N_("Sign in as the person who clicked Authorize, or get a new code here."),
        NEW_CODE,
    ),
    "no_refresh_token": Words(
        N_("Constant Contact did not give lasting access"),
        N_(
            "Without it the connection would stop working within a day. In the "
            "developer portal, check your application can use refresh tokens "
            "(choose Long Lived), then get a new code."
        ),
        NEW_CODE,
    ),
    "list_not_found": Words(
        N_("We could not find your list"),
        N_(
            "Constant Contact says the list is not in the account you "
            "connected. Check you signed in to the right account, or paste "
            "the list's address again. You do not need to authorize again."
        ),
        FIX_LIST,
    ),
    "list_deleted": Words(
        N_("We could not find your list"),
        N_(
            "Constant Contact says the list is not in the account you connected "
            "(it was deleted). Check you signed in to the right account, or "
            "paste the list's address again. You do not need to authorize again."
        ),
        FIX_LIST,
    ),
    "forbidden": Words(
        N_("Constant Contact would not show us the list"),
        N_(
            "The person who allowed access may not be allowed to see contacts (for "
            "example a Campaign Creator). Ask the account owner to sign in and "
            "authorize."
        ),
        NEW_CODE,
    ),
    "not_connected": Words(
        N_("This integration is not connected"),
        N_("Authorize it to connect it to Constant Contact."),
        NEW_CODE,
    ),
    "unreadable": Words(
        N_("We could not read what we saved"),
        N_(
            "This happens when the keys that protect saved codes were changed. "
            "Get a new code to connect again."
        ),
        NEW_CODE,
    ),
    "replaced": Words(
        N_("A newer code was started"),
        N_(
            "Someone started a new code for this integration in another tab or "
            "window. Use the newest one."
        ),
        NEW_CODE,
    ),
    "quota_exceeded": Words(
        N_("Constant Contact's daily limit is used up"),
        N_(
            "Your application may make 10,000 requests a day, and today's are "
            "used. The limit resets at midnight UTC; nothing is lost, and we try "
            "again then."
        ),
        TRY_AGAIN,
    ),
    "throttled": _SLOW_DOWN,
    "slow_down": _SLOW_DOWN,
}

_OTHER_FLOW = N_(
    "Your application in the developer portal uses another OAuth2 flow. Go back "
    "to step 1 and click Continue: we check your app with Constant Contact again "
    "and ask only for what it needs."
)
_KEY_UNKNOWN = Words(
    N_("Constant Contact does not recognise this API Key"),
    N_(
        "Check that you copied the whole API Key of your application, then "
        "paste it again in step 1."
    ),
    FIX_CREDENTIALS,
)
_KEY_REFUSED = Words(
    N_("Constant Contact did not accept this API Key"),
    N_(
        "Either the API Key is not complete, or your app is set to another "
        "OAuth2 flow. Go back to step 1 and click Continue: we check your app with "
        "Constant Contact again and say what to fix."
    ),
    FIX_CREDENTIALS,
)
_SECRET_REFUSED = Words(
    N_("Constant Contact did not accept the API Key and Client Secret"),
    N_(
        "If you clicked Generate Client Secret again, the old secret "
        "stopped working: paste the new one in step 1. Otherwise copy the "
        "API Key again."
    ),
    FIX_CREDENTIALS,
)

# (code, flow) -> words, where the device and authorization code flows differ.
FLOW_PROBLEMS: dict[tuple[str, str], Words] = {
    ("unauthorized_client", Flow.DEVICE): Words(
        N_("Your Constant Contact app is not set to Device Flow"),
        _OTHER_FLOW,
        FIX_CREDENTIALS,
    ),
    ("unauthorized_client", Flow.AUTHORIZATION_CODE): Words(
        N_("Your Constant Contact app is not set to Authorization Code Flow"),
        _OTHER_FLOW,
        FIX_CREDENTIALS,
    ),
    ("invalid_client", Flow.DEVICE): _KEY_REFUSED,
    ("invalid_client", Flow.AUTHORIZATION_CODE): _SECRET_REFUSED,
    ("unauthorized", Flow.DEVICE): _KEY_UNKNOWN,
    ("unauthorized", Flow.AUTHORIZATION_CODE): _SECRET_REFUSED,
}

# Code -> a saved connection's own words, where step 4's would mislead: a refused
# refresh is not "that code", the person used none.
CONNECTION_PROBLEMS: dict[str, Words] = {
    "invalid_grant": Words(
        N_("Constant Contact no longer accepts this connection"),
        N_(
            "Access was removed in Constant Contact, or it ran out after 180 days "
            "unused. Authorize again to reconnect: your API Key and List ID are "
            "kept."
        ),
        NEW_CODE,
    ),
}

# Code -> what step 4 says while it keeps polling after a passing failure.
_SLOW = N_("Constant Contact is slow to answer. We keep checking.")
_SLOWER = N_("Constant Contact asked us to slow down. We keep checking.")
WAITING_NOTES: dict[str, str] = {
    "timeout": _SLOW,
    "unreachable": _SLOW,
    "unavailable": _SLOW,
    "garbage": _SLOW,
    "throttled": _SLOWER,
    "slow_down": _SLOWER,
}
