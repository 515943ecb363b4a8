"""Change List ID: a list of the account chosen by name, or a List ID pasted."""

from functools import cached_property
from typing import Any

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms import HiddenField
from wtforms import RadioField
from wtforms import StringField
from wtforms.fields import Label

from wizard.constant_contact import formats
from wizard.constant_contact import pasted
from wizard.domain.list_choices import ListChoices
from wizard.models import Integration
from wizard.platform.i18n import N_
from wizard.web.forms import refused

CHOOSE = N_("Choose your list, or paste its List ID or address")
NOT_ONE_OF_THEM = N_("Choose one of the lists shown")


class ChangeListForm(FlaskForm):
    """A list chosen by name, or a List ID or list address pasted, which wins."""

    chosen = RadioField(
        lazy_gettext("Your lists in Constant Contact"),
        choices=[],
        # The lists are read after validating (saving needs none of them): here the
        # value must be a List ID; change_list then checks it is in the account.
        validate_choice=False,
    )
    list_id = StringField(lazy_gettext("Or paste a List ID or the list's address"))
    # Whether the page offered lists: then "nothing chosen" is said beside them.
    offered = HiddenField()

    def __init__(self, *args: Any, integration: Integration, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.integration = integration

    @property
    def from_paste_box(self) -> bool:
        """Whether the answer is the paste box's: something typed there wins, and
        with nothing chosen and no list offered it is the only answer."""
        typed = bool(pasted.clean(self.list_id.data))
        return typed or not (self.chosen.data or self.offered.data)

    @cached_property
    def checked(self) -> formats.Checked:
        """The List ID to save: the one pasted, else the chosen list's."""
        if self.from_paste_box:
            return formats.extract_list_id(
                self.list_id.data, api_key=self.integration.api_key or ""
            )
        chosen = pasted.clean(self.chosen.data)
        if not chosen:
            return formats.Checked(error=CHOOSE)
        if not pasted.is_uuid(chosen):
            return formats.Checked(error=NOT_ONE_OF_THEM)
        return formats.Checked(pasted.normalize_uuid(chosen))

    @property
    def from_address(self) -> bool:
        """Whether a list's address was pasted rather than a List ID or a choice."""
        return self.from_paste_box and formats.came_from_address(self.list_id.data)

    def validate_chosen(self, field: Field) -> None:
        """Refuse no choice where lists were offered, or a choice that is no List ID."""
        if not self.from_paste_box and self.checked.error:
            raise refused(self.checked.error)

    def validate_list_id(self, field: Field) -> None:
        """Refuse a paste that holds no List ID, or holds the API Key instead."""
        if self.from_paste_box and self.checked.error:
            raise refused(self.checked.error)

    def refuse(self, message: str) -> None:
        """Show Constant Contact's answer beside what was sent: paste or choice."""
        field = self.list_id if self.from_paste_box else self.chosen
        field.errors = [*field.errors, message]

    def offer(self, choices: ListChoices) -> None:
        """Show the account's lists, the List ID in use chosen if it is among them."""
        self.chosen.choices = [(item.list_id, item.name) for item in choices.lists]
        if not self.is_submitted():
            shown = {item.list_id for item in choices.lists}
            in_use = self.integration.list_id
            self.chosen.data = in_use if in_use in shown else None
        elif not choices.lists and self.chosen.errors:
            # Offered before but not now: say it where it can be seen.
            self.list_id.errors = [*self.chosen.errors, *self.list_id.errors]
            self.chosen.errors = []
        self.offered.data = "yes" if choices.lists else ""
        if not choices.lists:
            # Nothing to choose: the box is the one way, not an "or".
            self.list_id.label = Label(self.list_id.id, lazy_gettext("List ID"))
