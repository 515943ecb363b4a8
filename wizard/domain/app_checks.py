"""Step 1's app check: ask Constant Contact about the app, keep what it said.

The answer decides the flow (the customer is never asked which one she chose) and
whether the Client Secret and Redirect URI are needed at all.
"""

from wizard.constant_contact import app_check
from wizard.constant_contact.client import client_for
from wizard.domain import audit
from wizard.models import Integration
from wizard.models import User
from wizard.platform.columns import utcnow
from wizard.status import AppCheck
from wizard.status import Flow

# Answers after which a Client Secret may show the app is an Authorization Code one.
_ASK_WITH_SECRET = frozenset({AppCheck.NOT_DEVICE, AppCheck.WRONG_FLOW})
# Answers after which step 1 shows the Client Secret box and the Redirect URI: all
# but a Device Flow app and no answer at all.
ASKS_FOR_SECRET = frozenset(AppCheck) - {AppCheck.DEVICE, AppCheck.UNREACHABLE}


def check(integration: Integration, *, actor: User | None) -> AppCheck:
    """Ask about the saved API Key (and saved secret, when the key alone says no)."""
    client = client_for(integration)
    found = app_check.check_app(client)
    has_secret = integration.client_secret_encrypted is not None
    if found in _ASK_WITH_SECRET and has_secret:
        # Decrypted only here: a Device Flow answer never needs it.
        secret = integration.client_secret or ""
        with_secret = app_check.check_app_with_secret(client, secret)
        # A refused secret says nothing about an app already found in another flow.
        refused = with_secret is AppCheck.SECRET_REFUSED
        if not (found is AppCheck.WRONG_FLOW and refused):
            found = with_secret
    _keep(integration, found)
    audit.record(
        "setup.app_checked",
        actor=actor,
        integration=integration,
        found=str(found),
        with_secret=has_secret,
    )
    return found


def _keep(integration: Integration, found: AppCheck) -> None:
    """Save the answer and the flow it shows; a Device Flow app keeps no secret."""
    integration.app_check = found
    integration.app_checked_at = utcnow()
    if found.flow is not None:
        integration.flow = found.flow
    elif found is AppCheck.UNREACHABLE:
        # Nobody could say: a pasted secret is the best sign of her choice.
        secret_saved = integration.client_secret_encrypted is not None
        integration.flow = Flow.AUTHORIZATION_CODE if secret_saved else Flow.DEVICE
    if integration.flow == Flow.DEVICE:
        integration.client_secret = None


def recheck_before_clock(integration: Integration, *, actor: User | None) -> bool:
    """At step 4, ask again what step 1 could not learn; True if step 1 needs a fix.

    Only for an Authorization Code app: step 4 sends it to Constant Contact with its
    Redirect URI, where a problem would show only after the clock started. A Device
    Flow app's step 4 begins by asking Constant Contact, which is the check itself.
    """
    unsure = last_check(integration) in (
        AppCheck.UNREACHABLE,
        AppCheck.REDIRECT_UNKNOWN,
    )
    if integration.flow != Flow.AUTHORIZATION_CODE or not unsure:
        return False
    found = check(integration, actor=actor)
    return not found.passed


def device_answered(integration: Integration) -> None:
    """Step 4 got a device code: the app is set to Device Flow after all."""
    if last_check(integration) is AppCheck.UNREACHABLE:
        _keep(integration, AppCheck.DEVICE)


def last_check(integration: Integration) -> AppCheck | None:
    """Return what the last check found, if the app was checked."""
    return AppCheck(integration.app_check) if integration.app_check else None


def asks_for_secret(integration: Integration) -> bool:
    """Return whether step 1 shows the Client Secret box and the Redirect URI."""
    found = last_check(integration)
    if integration.client_secret_encrypted is not None:
        return True  # one was pasted: say so, and let it be replaced
    if found is None:
        return integration.flow == Flow.AUTHORIZATION_CODE
    return found in ASKS_FOR_SECRET or (
        found is AppCheck.UNREACHABLE and integration.flow == Flow.AUTHORIZATION_CODE
    )
