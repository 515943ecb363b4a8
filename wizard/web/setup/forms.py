"""Forms for steps 1-3: each checks its own fields with formats.py's rules."""

from functools import cached_property
from typing import Any

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms import HiddenField
from wtforms import StringField

from wizard.constant_contact import formats
from wizard.models import Integration
from wizard.web.forms import refused


class CredentialsForm(FlaskForm):
    """Step 1: the app's API Key and, for an Authorization Code app, its secret.

    Which flow the app uses is not asked: the app check finds out.
    """

    api_key = StringField(lazy_gettext("API Key"))
    client_secret = StringField(lazy_gettext("Client Secret"))

    @cached_property
    def checked(self) -> formats.Credentials:
        """The API Key and Client Secret checked together, as they were typed."""
        return formats.check_credentials(self.api_key.data, self.client_secret.data)

    @property
    def answers(self) -> dict[str, str | None]:
        """Step 1's answers as checked, for drafts.save_credentials."""
        return {
            "api_key": self.checked.api_key.value,
            "client_secret": self.checked.secret.value or None,
        }

    @property
    def secret_to_keep(self) -> str:
        """A good Client Secret sent beside a wrong API Key, or "".

        Constant Contact shows a secret only once: keeping it spares making a new one.
        """
        return self.checked.secret.value if self.is_submitted() else ""

    def validate_api_key(self, field: Field) -> None:
        """Check the API Key with the secret; leave in the box only what may show."""
        checked = self.checked
        field.data = checked.api_key_echo
        if checked.api_key.error:
            raise refused(checked.api_key.error)

    def validate_client_secret(self, field: Field) -> None:
        """Check the Client Secret, if one was typed."""
        if self.checked.secret.error:
            raise refused(self.checked.secret.error)


class ListIdForm(FlaskForm):
    """Step 2 (and Change the List ID): the List ID or the list's address."""

    list_id = StringField(lazy_gettext("List ID"))

    def __init__(self, *args: Any, integration: Integration, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.integration = integration

    @cached_property
    def checked(self) -> formats.Checked:
        """The List ID found in what was typed, unless it is the API Key."""
        return formats.extract_list_id(
            self.list_id.data, api_key=self.integration.api_key or ""
        )

    @property
    def from_address(self) -> bool:
        """Whether a list's address was pasted rather than a bare List ID."""
        return formats.came_from_address(self.list_id.data)

    def validate_list_id(self, field: Field) -> None:
        """Refuse what holds no List ID, or holds the API Key instead."""
        if self.checked.error:
            raise refused(self.checked.error)


class StartForm(FlaskForm):
    """The Start now button; its one-time token makes a second click harmless."""

    token = HiddenField()
