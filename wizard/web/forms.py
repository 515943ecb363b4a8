"""What the blueprints' forms share: the CSRF-only button, and their messages.

Validators raise formats' English message ids through `refused`: the page shows
them in the reader's language, and support's records keep the English ids.
"""

from flask_babel import gettext
from flask_wtf import FlaskForm
from wtforms import ValidationError


class ButtonForm(FlaskForm):
    """A button that needs only CSRF protection."""


class Message(str):
    """A message in the reader's language that remembers its English id."""

    english: str

    def __new__(cls, english: str) -> "Message":
        message = super().__new__(cls, gettext(english))
        message.english = english
        return message


def refused(english: str) -> ValidationError:
    """Return a field's error for an English message id, shown translated."""
    return ValidationError(Message(english))


def english_errors(form: FlaskForm) -> list[str]:
    """Return the English ids of the messages the form shows, field by field."""
    return [
        message.english
        for messages in form.errors.values()
        for message in messages
        if isinstance(message, Message)
    ]
