"""The one next step a problem page offers: a table from action to link or form.

templates/authorize/_problem.html draws what next_step returns and decides
nothing itself.
"""

from dataclasses import dataclass

from flask import url_for

from wizard.domain.problem_words import CHECK_AGAIN
from wizard.domain.problem_words import FIX_CREDENTIALS
from wizard.domain.problem_words import FIX_LIST
from wizard.domain.problem_words import NEW_CODE
from wizard.domain.problem_words import TRY_AGAIN
from wizard.domain.problems import Problem
from wizard.models import AuthorizationAttempt
from wizard.models import Integration
from wizard.platform.i18n import N_

# Next steps only the integration's state leads to, never a problem's own action.
REAUTHORIZE = "reauthorize"  # Constant Contact stopped renewing: authorize again
KEEP_CONNECTION = "keep_connection"  # new credentials need a new integration


@dataclass(frozen=True)
class NextStep:
    """Where a problem's next step goes, its button's words, and how it is sent."""

    endpoint: str
    words: str  # an English message id; the page translates it
    post: bool = False  # a form with only the CSRF token, else a link
    note: str | None = None  # a paragraph before the button (message id, HTML)
    per_integration: bool = True  # the endpoint takes the integration's id
    start_shown: bool = True  # step 4's start button still shows beside it

    def url(self, integration: Integration) -> str:
        """Return the address the link goes to or the form posts to."""
        if not self.per_integration:
            return url_for(self.endpoint)
        return url_for(self.endpoint, integration_id=integration.id)


NEXT_STEPS: dict[str, NextStep] = {
    NEW_CODE: NextStep("authorize.before", N_("Get a new code"), post=True),
    TRY_AGAIN: NextStep("authorize.before", N_("Try again"), post=True),
    CHECK_AGAIN: NextStep("authorize.verify", N_("Check again"), post=True),
    # Starting step 4 again would fail the same way until step 1 changes.
    FIX_CREDENTIALS: NextStep(
        "setup.credentials",
        N_("Check your app again in step 1"),
        start_shown=False,
    ),
    FIX_LIST: NextStep("integrations.change_list", N_("Choose the list again")),
    REAUTHORIZE: NextStep("authorize.before", N_("Re-authorize now")),
    KEEP_CONNECTION: NextStep(
        "integrations.index",
        N_("Go to Integrations"),
        note=N_(
            "Your current connection keeps working. To connect through a different "
            "application, delete this integration from the <strong>Actions</strong> "
            "menu and add it again with the new API Key."
        ),
        per_integration=False,
    ),
}
# Actions a connection that needs authorizing again turns into REAUTHORIZE.
_REAUTHORIZED = frozenset({FIX_CREDENTIALS, CHECK_AGAIN, TRY_AGAIN})


def next_action(
    problem: Problem, integration: Integration, attempt: AuthorizationAttempt | None
) -> str:
    """Return the problem's action as this integration's state changes it."""
    action = problem.action
    if attempt and attempt.is_approved and action == TRY_AGAIN:
        action = CHECK_AGAIN  # access was allowed: only the list check is left
    if integration.needs_reauthorization and action in _REAUTHORIZED:
        return REAUTHORIZE
    if action == NEW_CODE and not integration.uses_device_flow:
        return TRY_AGAIN  # the authorization code flow shows no code
    if action == FIX_CREDENTIALS and integration.holds_tokens and integration.is_active:
        return KEEP_CONNECTION  # step 1 is closed while it holds tokens
    return action


def next_step(
    problem: Problem, integration: Integration, attempt: AuthorizationAttempt | None
) -> NextStep:
    """Return the link or form a problem page offers for this integration."""
    return NEXT_STEPS[next_action(problem, integration, attempt)]


def start_shown(problem: Problem | None) -> bool:
    """Return whether step 4's start button shows beside this problem, if any."""
    return problem is None or NEXT_STEPS[problem.action].start_shown
