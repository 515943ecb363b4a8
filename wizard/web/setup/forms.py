"""Forms for steps 1-3; checking the values is formats.py's job."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import StringField
from wtforms.fields import SelectChoice

from wizard.status import Flow

FLOW_CHOICES = [
    SelectChoice(Flow.DEVICE, lazy_gettext("Device Flow (recommended)")),
    SelectChoice(Flow.AUTHORIZATION_CODE, lazy_gettext("Authorization Code Flow")),
]


class CredentialsForm(FlaskForm):
    """Step 1: which flow the app uses, its API Key and, if needed, its secret."""

    flow = RadioField(
        lazy_gettext("Which OAuth2 flow did you choose for your app?"),
        choices=FLOW_CHOICES,
        default=Flow.DEVICE,
    )
    api_key = StringField(lazy_gettext("API Key"))
    client_secret = StringField(lazy_gettext("Client Secret"))


class ListIdForm(FlaskForm):
    """Step 2: the List ID or the list's address."""

    list_id = StringField(lazy_gettext("List ID"))


class CreateForm(FlaskForm):
    """Step 3: the button that creates the integration."""


class StartForm(FlaskForm):
    """The Start now button; its one-time token makes a second click harmless."""

    token = HiddenField()
