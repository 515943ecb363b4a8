"""The app check's answers as a tick list and one fix, in the portal's own labels.

English message ids (N_); the page translates them. Each answer has its rows (a
label and whether it held: True, False, or None for "could not be checked").
"""

from dataclasses import dataclass

from wizard.platform.i18n import N_
from wizard.status import AppCheck

APP_FOUND = N_("App found")
DEVICE_FLOW = N_("Set to Device Flow")
SECRET_MATCHES = N_("API Key and Client Secret match")
REDIRECT_ADDED = N_("Redirect URI added")


@dataclass(frozen=True)
class Finding:
    """What one answer looks like: the tick list, the fix, and what comes next."""

    rows: tuple[tuple[str, bool | None], ...]
    fix: str = ""

    @property
    def all_ticked(self) -> bool:
        """Whether every row held: the only answer shown in green."""
        return all(held is True for _, held in self.rows)


FINDINGS = {
    AppCheck.DEVICE: Finding(((APP_FOUND, True), (DEVICE_FLOW, True))),
    AppCheck.CODE_FLOW: Finding(
        ((APP_FOUND, True), (SECRET_MATCHES, True), (REDIRECT_ADDED, True))
    ),
    AppCheck.REDIRECT_UNKNOWN: Finding(
        ((APP_FOUND, True), (SECRET_MATCHES, True), (REDIRECT_ADDED, None)),
        N_(
            "We could not check the Redirect URI. Make sure it is added to your app, "
            "exactly as shown below."
        ),
    ),
    AppCheck.REDIRECT_MISSING: Finding(
        ((APP_FOUND, True), (SECRET_MATCHES, True), (REDIRECT_ADDED, False)),
        N_(
            "In Constant Contact, click Edit on your app, click the pencil icon next "
            "to Redirect URI, paste the address below and click Save. Then click "
            "Check again."
        ),
    ),
    AppCheck.NOT_DEVICE: Finding(
        ((APP_FOUND, False),),
        N_(
            "Constant Contact has no app set to Device Flow with this API Key. Copy "
            "the API Key again from your app's page (click Edit on your app to see "
            "it). If your app uses Authorization Code Flow, also paste its Client "
            "Secret."
        ),
    ),
    AppCheck.WRONG_FLOW: Finding(
        ((APP_FOUND, True), (DEVICE_FLOW, False)),
        N_(
            "Your app is set to another OAuth2 flow. In Constant Contact, click New "
            "Application, choose Device Flow and Long Lived, click Create, then "
            "paste the new app's API Key here."
        ),
    ),
    AppCheck.SECRET_REFUSED: Finding(
        ((SECRET_MATCHES, False),),
        N_(
            "Constant Contact has no app with this API Key and Client Secret. Copy "
            "both again from your app's page. If you cannot see the Client Secret "
            "any more, click Generate Client Secret to make a new one."
        ),
    ),
    AppCheck.UNREACHABLE: Finding(
        ((APP_FOUND, None),),
        N_(
            "We could not reach Constant Contact to check your app just now. You "
            "can go on: we will check again when you authorize."
        ),
    ),
}
