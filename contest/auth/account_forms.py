"""The account page's forms: details, e-mail address, deleting the account.

Each form has a prefix, so that the page's several forms never share a field's name.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from contest.auth.forms import _email_field, _stripped, country_choices, refuse_disposable

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}


def _password_field() -> PasswordField:
    return PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class DetailsForm(FlaskForm):
    full_name = StringField(
        _l("Full name"),
        filters=[_stripped],
        validators=[
            DataRequired(_l("Please enter your full name.")),
            Length(max=120, message=_l("The name can have at most %(max)d characters.")),
        ],
        render_kw={"autocomplete": "name"},
    )
    country = SelectField(_l("Country"), validators=[DataRequired(_l("Please choose your country."))])
    locale = SelectField(
        _l("Language"),
        description=_l("The language of the site when you are logged in, and of our e-mails to you."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="details", **kwargs)
        self.country.choices = country_choices(str(get_locale() or "vi"))
        self.locale.choices = [
            (code, LANGUAGE_NAMES.get(code, code)) for code in current_app.config["LANGUAGES"]
        ]


class ChangeEmailForm(FlaskForm):
    email = _email_field()
    password = _password_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="email", **kwargs)
        self.email.label.text = _l("New e-mail address")

    def validate_email(self, field) -> None:
        refuse_disposable(field)


class DeleteAccountForm(FlaskForm):
    password = _password_field()
    understood = BooleanField(
        _l("I understand that my entries are withdrawn and their files deleted, for good."),
        validators=[DataRequired(_l("Please tick the box to confirm."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="delete", **kwargs)
