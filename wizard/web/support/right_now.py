"""The support console's "Right now": where she is, and the one thing to say.

A table, one row per state: where she is (for the agent to read) and a line written
to be read aloud. English message ids (N_); the page says them in the agent's language.
"""

from dataclasses import dataclass
from datetime import datetime

from wizard.domain import drafts
from wizard.domain import presence
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.models import Presence
from wizard.platform.i18n import N_
from wizard.status import AppCheck
from wizard.status import Status
from wizard.web.presence import PAGES

# state -> (where she is, what to say)
LINES: dict[str, tuple[str, str]] = {
    "step_1_key": (
        N_("Step 1: creating her app in Constant Contact"),
        N_(
            "In the Constant Contact developer portal, click New Application, choose "
            "Device Flow and Long Lived, click Create, then Edit, and copy the API Key "
            "into our page."
        ),
    ),
    "step_1_not_device": (
        N_("Step 1: Constant Contact found no Device Flow app with her API Key"),
        N_(
            "Copy the API Key again from your app's page in Constant Contact: click "
            "Edit on your app. If your app uses Authorization Code Flow, paste its "
            "Client Secret too."
        ),
    ),
    "step_1_wrong_flow": (
        N_("Step 1: her app is set to another flow"),
        N_(
            "In Constant Contact, click New Application, choose Device Flow and Long "
            "Lived, click Create, and paste the new app's API Key into our page."
        ),
    ),
    "step_1_secret_refused": (
        N_("Step 1: her API Key and Client Secret do not match"),
        N_(
            "In Constant Contact, click Generate Client Secret on your app and paste "
            "the new secret into our page, with the API Key from the same page."
        ),
    ),
    "step_1_redirect_missing": (
        N_("Step 1: the Redirect URI is not added to her app"),
        N_(
            "In Constant Contact, click Edit on your app, click the pencil next to "
            "Redirect URI, paste the address from our page, click Save, then click "
            "Check again on our page."
        ),
    ),
    "step_2": (
        N_("Step 2: finding her List ID"),
        N_(
            "In Constant Contact, open Contacts, then Lists, click your list, and copy "
            "the whole address from the address bar into our page."
        ),
    ),
    "step_3": (
        N_("Step 3: checking her answers"),
        N_("Check the API Key and List ID on the page, then click Create integration."),
    ),
    "step_4_ready": (
        N_("Step 4: ready to authorize, the clock not started"),
        N_(
            "First sign in to Constant Contact in another tab. Then, on our page, "
            "click Get my activation code."
        ),
    ),
    "step_4_waiting_device": (
        N_("Step 4: waiting for Allow Access"),
        N_(
            "In the Constant Contact tab, click Next, then Allow Access. If that tab "
            "is closed, click Open Constant Contact on our page."
        ),
    ),
    "step_4_waiting_code": (
        N_("Step 4: waiting for Allow Access"),
        N_(
            "In the Constant Contact window, sign in if it asks and click Allow "
            "Access, then come back to our page."
        ),
    ),
    "step_4_ended": (
        N_("Step 4: the last code ended without access"),
        N_(
            "On our page, click Get a new code, then Open Constant Contact, Next and "
            "Allow Access."
        ),
    ),
    "active": (
        N_("Connected and working"),
        N_(
            "Nothing to do: the connection works. To use another list, click Actions, "
            "then Change List ID."
        ),
    ),
    "list_missing": (
        N_("Connected, but the list is not in her account"),
        N_(
            "On the Integrations page, click Actions, then Change List ID, and choose "
            "your list by name."
        ),
    ),
    "needs_reauthorization": (
        N_("Constant Contact stopped our access"),
        N_(
            "On the Integrations page, click Actions, then Re-authorize, and allow "
            "access again."
        ),
    ),
    "trouble": (
        N_("Connected, but Constant Contact is not answering properly"),
        N_(
            "Nothing for you to do now: we try again by ourselves. Nothing you entered "
            "is lost."
        ),
    ),
    "disconnected": (
        N_("Disconnected"),
        N_("To connect again, click Actions on the Integrations page, then Authorize."),
    ),
}
_STEPS = {1: "step_1_key", 2: "step_2", 3: "step_3"}
_AFTER = {
    Status.ACTIVE: "active",
    Status.LIST_NOT_FOUND: "list_missing",
    Status.NEEDS_REAUTHORIZATION: "needs_reauthorization",
    Status.FAILING: "trouble",
    Status.UNVERIFIED: "trouble",
    Status.DISCONNECTED: "disconnected",
}


@dataclass(frozen=True)
class RightNow:
    """Where she is, what to say, her code's ending and time left if waiting, and
    the page her browser has open (step, title) with when it was last active."""

    state: str
    where: str
    say: str
    code_ending: str | None = None
    seconds_left: int | None = None
    page: tuple[int | None, str] | None = None
    seen_at: datetime | None = None
    quiet: bool = False


def state_of(
    integration: Integration,
    attempt: AuthorizationAttempt | None,
    now: datetime | None = None,
) -> str:
    """Return the row of LINES that describes her now (an attempt whose window
    passed unanswered has ended, though nobody has closed it yet)."""
    if integration.status in _AFTER:
        return _AFTER[Status(integration.status)]
    step = drafts.current_step(integration)
    if step == 1 and integration.app_check and AppCheck(integration.app_check).blocks:
        return f"step_1_{integration.app_check}"
    # A missing Redirect URI may be passed over: until step 2 is done, it is the news.
    missing = integration.app_check == AppCheck.REDIRECT_MISSING
    if missing and integration.list_id is None:
        return "step_1_redirect_missing"
    if step < 4:
        return _STEPS[step]
    passed = now is not None and attempt is not None and attempt.expires_at <= now
    if attempt is not None and attempt.is_open and not passed:
        kind = "device" if attempt.uses_device_flow else "code"
        return f"step_4_waiting_{kind}"
    return "step_4_ended" if attempt is not None else "step_4_ready"


def right_now(
    integration: Integration,
    attempt: AuthorizationAttempt | None,
    now: datetime,
    seen: Presence | None = None,
) -> RightNow:
    """Say where she is now (in English message ids), for the support page."""
    state = state_of(integration, attempt, now)
    where, say = LINES[state]
    waiting = state.startswith("step_4_waiting") and attempt is not None
    return RightNow(
        state=state,
        where=where,
        say=say,
        code_ending=attempt.user_code[-4:] if waiting and attempt.user_code else None,
        seconds_left=attempt.seconds_left(now) if waiting else None,
        page=PAGES.get(seen.page) if seen is not None else None,
        seen_at=seen.seen_at if seen is not None else None,
        quiet=seen is not None and presence.is_quiet(seen, now),
    )
