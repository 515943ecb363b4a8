"""What went wrong, in plain language, and the one next step that fixes it."""

from dataclasses import dataclass

from flask_babel import gettext

from wizard.platform.i18n import N_

# Next steps a problem page offers.
NEW_CODE = "new_code"  # start step 4 again, keeping everything else
FIX_CREDENTIALS = "fix_credentials"  # back to step 1 for this integration
FIX_LIST = "fix_list"  # choose the List ID again, keeping the authorization
TRY_AGAIN = "try_again"  # the same action again in a moment
CHECK_AGAIN = "check_again"  # check the list again, no new authorization


@dataclass(frozen=True)
class Problem:
    """A failure as the customer reads it.

    The words are kept in English (the message ids) and translated when read, so
    a stored copy is English and every page shows the reader's language.
    """

    code: str
    heading_en: str
    text_en: str
    action: str

    @property
    def heading(self) -> str:
        """The heading in the reader's language."""
        return gettext(self.heading_en)

    @property
    def text(self) -> str:
        """The advice in the reader's language."""
        return gettext(self.text_en)


def connection_problem(code: str, flow: str = "device") -> Problem:
    """Return the problem for a saved connection, in its own words where step 4's
    would mislead (a refused refresh is not "that code", the person used none)."""
    if code == "invalid_grant":
        return Problem(
            code,
            N_("Constant Contact no longer accepts this connection"),
            N_(
                "Access was removed in Constant Contact, or it ran out after 180 days "
                "unused. Authorize again to reconnect: your API Key and List ID are "
                "kept."
            ),
            NEW_CODE,
        )
    return problem_for(code, flow)


def _device_or_code(flow: str, device: str, code: str) -> str:
    return device if flow == "device" else code


def problem_for(code: str, flow: str = "device") -> Problem:
    """Return the plain-language problem for an error code."""
    if code in ("expired", "expired_token"):
        return Problem(
            code,
            N_("Time ran out"),
            N_(
                "The 5 minutes ran out before Constant Contact told us you allowed "
                "access. Nothing you entered is lost: get a new code and try again."
            ),
            NEW_CODE,
        )
    if code == "access_denied":
        return Problem(
            code,
            N_("Access was not allowed"),
            N_(
                "Constant Contact says access was not allowed. If that was a mistake, "
                "get a new code and click Allow Access this time."
            ),
            NEW_CODE,
        )
    if code == "unauthorized_client":
        return Problem(
            code,
            _device_or_code(
                flow,
                N_("Your Constant Contact app is not set to Device Flow"),
                N_("Your Constant Contact app is not set to Authorization Code Flow"),
            ),
            _device_or_code(
                flow,
                N_(
                    "Your application in the developer portal uses another OAuth2 "
                    "flow. If it uses Authorization Code Flow, choose that in step 1 "
                    "and add its Client Secret. Otherwise create a new application "
                    "with Device Flow and paste its API Key in step 1."
                ),
                N_(
                    "Your application in the developer portal uses another OAuth2 "
                    "flow. If it uses Device Flow, choose that in step 1. Otherwise "
                    "create a new application with Authorization Code Flow and paste "
                    "its API Key and Client Secret in step 1."
                ),
            ),
            FIX_CREDENTIALS,
        )
    if code in ("invalid_client", "unauthorized"):
        return Problem(
            code,
            _device_or_code(
                flow,
                N_("Constant Contact does not recognise this API Key"),
                N_("Constant Contact did not accept the API Key and Client Secret"),
            ),
            _device_or_code(
                flow,
                N_(
                    "Check that you copied the whole API Key of your application, then "
                    "paste it again in step 1."
                ),
                N_(
                    "If you clicked Generate Client Secret again, the old secret "
                    "stopped working: paste the new one in step 1. Otherwise copy the "
                    "API Key again."
                ),
            ),
            FIX_CREDENTIALS,
        )
    if code == "invalid_scope":
        return Problem(
            code,
            N_("Constant Contact refused the permissions we ask for"),
            N_(
                "Call support and give them your support reference: they will help you "
                "check your application's settings."
            ),
            TRY_AGAIN,
        )
    if code in ("invalid_grant", "invalid_request", "state_used"):
        return Problem(
            code,
            N_("That code can no longer be used"),
            N_("It was already used or is too old. Get a new code and try again."),
            NEW_CODE,
        )
    if code == "state_other_user":
        return Problem(
            code,
            N_("This approval was started by someone else"),
            N_("Sign in as the person who clicked Authorize, or get a new code here."),
            NEW_CODE,
        )
    if code == "no_refresh_token":
        return Problem(
            code,
            N_("Constant Contact did not give lasting access"),
            N_(
                "Without it the connection would stop working within a day. In the "
                "developer portal, check your application can use refresh tokens "
                "(choose Long Lived), then get a new code."
            ),
            NEW_CODE,
        )
    if code in ("list_not_found", "list_deleted"):
        return Problem(
            code,
            N_("We could not find your list"),
            N_(
                "Constant Contact says the list is not in the account you connected "
                "(it was deleted). Check you signed in to the right account, or "
                "paste the list's address again. You do not need to authorize again."
            )
            if code == "list_deleted"
            else N_(
                "Constant Contact says the list is not in the account you "
                "connected. Check you signed in to the right account, or paste "
                "the list's address again. You do not need to authorize again."
            ),
            FIX_LIST,
        )
    if code == "forbidden":
        return Problem(
            code,
            N_("Constant Contact would not show us the list"),
            N_(
                "The person who allowed access may not be allowed to see contacts (for "
                "example a Campaign Creator). Ask the account owner to sign in and "
                "authorize."
            ),
            NEW_CODE,
        )
    if code == "not_connected":
        return Problem(
            code,
            N_("This integration is not connected"),
            N_("Authorize it to connect it to Constant Contact."),
            NEW_CODE,
        )
    if code == "unreadable":
        return Problem(
            code,
            N_("We could not read what we saved"),
            N_(
                "This happens when the keys that protect saved codes were changed. "
                "Get a new code to connect again."
            ),
            NEW_CODE,
        )
    if code == "replaced":
        return Problem(
            code,
            N_("A newer code was started"),
            N_(
                "Someone started a new code for this integration in another tab or "
                "window. Use the newest one."
            ),
            NEW_CODE,
        )
    if code == "quota_exceeded":
        return Problem(
            code,
            N_("Constant Contact's daily limit is used up"),
            N_(
                "Your application may make 10,000 requests a day, and today's are "
                "used. The limit resets at midnight UTC; nothing is lost, and we try "
                "again then."
            ),
            TRY_AGAIN,
        )
    if code in ("throttled", "slow_down"):
        return Problem(
            code,
            N_("Constant Contact asked us to slow down"),
            N_(
                "Too many requests reached Constant Contact at once. Wait a minute, "
                "then try again."
            ),
            TRY_AGAIN,
        )
    return Problem(
        code,
        N_("Constant Contact did not answer properly"),
        N_("This is usually brief. Nothing is lost: try again in a minute."),
        TRY_AGAIN,
    )


def waiting_note(code: str | None) -> str | None:
    """Return what to say while polling goes on after a passing failure."""
    if code in ("timeout", "unreachable", "unavailable", "garbage"):
        return gettext("Constant Contact is slow to answer. We keep checking.")
    if code in ("throttled", "slow_down"):
        return gettext("Constant Contact asked us to slow down. We keep checking.")
    return None
