"""The sign-in form; whether the password matches is the view's question."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField
from wtforms import PasswordField


class SignInForm(FlaskForm):
    """Email address and password."""

    email = EmailField(lazy_gettext("Email address"))
    password = PasswordField(lazy_gettext("Password"))
