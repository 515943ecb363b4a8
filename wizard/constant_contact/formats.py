"""Validate and clean what people paste: API Key, Client Secret, List ID.

Every check returns a plain-language message that says what to do, never just
"invalid". Messages name the fields the way Constant Contact and the article do.
They are English message ids (marked N_): pages translate them for the reader and
support records keep them in English.
"""

from collections.abc import Callable
from dataclasses import dataclass

from wizard.constant_contact import pasted
from wizard.platform.i18n import N_

REDIRECT_PATH = "/callback/constant-contact-auth"

EXAMPLE_UUID = "1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d"


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one field: a clean value or a message."""

    value: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# Each check is a rule table read in order: the first rule whose test holds
# decides; a rule with no message accepts the value (normalized). Constant
# Contact's own labels are in the messages.
Rule = tuple[Callable[[str], bool], str | None]

_API_KEY_RULES: tuple[Rule, ...] = (
    (
        lambda value: REDIRECT_PATH in value,
        N_(
            "That is the Redirect URI. Paste it into your app in Constant "
            "Contact, then copy the value labelled API Key into this box"
        ),
    ),
    (
        pasted.is_address,
        N_(
            "That looks like a web address. Copy the value labelled API Key "
            "on your app's page in Constant Contact"
        ),
    ),
    (pasted.is_uuid, None),
    (
        pasted.looks_like_secret,
        N_(
            "That looks like your Client Secret, not your API Key. Copy the "
            "value labelled API Key: it has 36 letters, numbers and dashes"
        ),
    ),
    (
        pasted.looks_like_partial_uuid,
        N_(
            "That API Key looks incomplete: it should be 36 letters, numbers and "
            "dashes, like 1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d. Copy all of it "
            "again"
        ),
    ),
    (
        lambda value: True,
        N_(
            "The API Key should be 36 letters, numbers and dashes, like "
            "1a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d. Copy it again from your app's "
            "page in Constant Contact"
        ),
    ),
)

_SECRET_RULES: tuple[Rule, ...] = (
    (
        pasted.is_uuid,
        N_(
            "That looks like an API Key, not a Client Secret. Click Generate "
            "Client Secret in Constant Contact and copy what it shows"
        ),
    ),
    (
        lambda value: not pasted.SECRET_SHAPE.fullmatch(value),
        N_(
            "The Client Secret should be one word of letters, numbers, dashes "
            "and underscores, usually 22 characters. Copy it again, or click "
            "Generate Client Secret to make a new one"
        ),
    ),
    (lambda value: True, None),
)


def _first_rule(value: str, rules: tuple[Rule, ...]) -> Checked:
    """Apply the first rule whose test holds for the value."""
    message = next(message for test, message in rules if test(value))
    return Checked(error=message) if message else Checked(value)


def check_api_key(raw: str | None) -> Checked:
    """Check an API Key (client_id): a UUID."""
    value = pasted.clean(raw)
    if not value:
        return Checked(error=N_("Enter your API Key"))
    checked = _first_rule(value, _API_KEY_RULES)
    return Checked(pasted.normalize_uuid(value)) if checked.ok else checked


def check_client_secret(raw: str | None, *, api_key: str = "") -> Checked:
    """Check a Client Secret: one word, usually 22 characters, never a UUID."""
    value = pasted.clean(raw, punctuation=False)
    if not value:
        return Checked(
            error=N_(
                "Enter your Client Secret. If you can no longer see it, click "
                "Generate Client Secret in Constant Contact to make a new one"
            )
        )
    if pasted.is_uuid(value) and api_key and pasted.normalize_uuid(value) == api_key:
        return Checked(
            error=N_(
                "That is your API Key. The Client Secret is the other value, shown "
                "after you click Generate Client Secret"
            )
        )
    return _first_rule(value, _SECRET_RULES)


@dataclass(frozen=True)
class Credentials:
    """Step 1 checked: each field's outcome, and what may go back in the API Key box."""

    api_key: Checked
    secret: Checked
    api_key_echo: str

    @property
    def ok(self) -> bool:
        return self.api_key.ok and self.secret.ok


def check_credentials(raw_api_key: str | None, raw_secret: str | None) -> Credentials:
    """Check the API Key and the Client Secret (optional) together; never echo one.

    A secret pasted into the API Key box is kept as the secret (Constant Contact
    shows a secret only once; the app check drops it for a Device Flow app), and
    the key and secret pasted the wrong way round are put back the right way.
    """
    cleaned_key = pasted.clean(raw_api_key)
    cleaned_secret = pasted.clean(raw_secret, punctuation=False)
    key_is_secret = pasted.looks_like_secret(
        pasted.clean(raw_api_key, punctuation=False)
    )
    secret_from_key = Checked(pasted.clean(raw_api_key, punctuation=False))
    if key_is_secret and pasted.is_uuid(cleaned_secret):
        swapped = Checked(
            error=N_(
                "The API Key and Client Secret were the wrong way round. We have "
                "put them in the right boxes: check the API Key and click Continue"
            )
        )
        return Credentials(
            swapped, secret_from_key, pasted.normalize_uuid(cleaned_secret)
        )
    if key_is_secret and not cleaned_secret:
        moved = Checked(
            error=N_(
                "That looks like your Client Secret, not your API Key. We have "
                "saved it as your Client Secret. Now copy the value labelled API Key"
            )
        )
        return Credentials(moved, secret_from_key, "")
    api_key = check_api_key(raw_api_key)
    echo = "" if key_is_secret else cleaned_key
    if not cleaned_secret:
        return Credentials(api_key, Checked(""), echo)
    return Credentials(
        api_key, check_client_secret(raw_secret, api_key=api_key.value), echo
    )


def extract_list_id(raw: str | None, *, api_key: str = "") -> Checked:
    """Find the List ID in a pasted ID or list address (the last UUID in its path)."""
    value = pasted.clean(raw)
    if not value:
        return Checked(error=N_("Enter the List ID, or paste the address of your list"))
    candidates = pasted.uuids_in(value)
    if not candidates:
        return Checked(
            error=N_(
                "We could not find a List ID in what you pasted. Open the list in "
                "Constant Contact and copy the whole address from your browser's "
                "address bar"
            )
        )
    list_id = pasted.normalize_uuid(candidates[-1])
    if api_key and list_id == api_key:
        return Checked(
            error=N_(
                "That is your API Key. The List ID is the last part of the "
                "address of your list in Constant Contact"
            )
        )
    return Checked(list_id)


def came_from_address(raw: str | None) -> bool:
    """Return whether the pasted List ID was a web address rather than a bare ID."""
    return pasted.is_address(pasted.clean(raw))
