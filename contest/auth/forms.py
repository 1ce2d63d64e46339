"""Account forms: sign-up, log-in, password reset and change."""

from __future__ import annotations

import unicodedata

from babel import Locale
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    ValidationError,
)

from contest.auth.emails import is_disposable
from contest.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalize_email
from contest.timeutil import vn_today

EARLIEST_BIRTH_YEAR = 1900
DEFAULT_COUNTRY = "VN"

# CLDR territories that are not countries of ISO 3166-1 (regions, unions, reserved codes).
_NOT_COUNTRIES = frozenset({"AC", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"})


def _sort_key(name: str) -> str:
    """Order names as people read them: "Ấn Độ" with the A's, "Đan Mạch" with the D's."""
    plain = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def country_choices(locale: str) -> list[tuple[str, str]]:
    """(ISO 3166 alpha-2 code, name in ``locale``), sorted by name."""
    territories = Locale.parse(locale).territories
    countries = [
        (code, name)
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return sorted(countries, key=lambda item: _sort_key(item[1]))


def _normalized_email(value: str | None) -> str | None:
    return normalize_email(value) if value else value


def _stripped(value: str | None) -> str | None:
    return value.strip() if value else value


class YearField(IntegerField):
    """A year typed as digits; anything else gets a message in the visitor's language."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError as exc:
            self.data = None
            raise ValueError(_l("Please write the year with digits only, for example 1990.")) from exc


def _email_field() -> EmailField:
    return EmailField(
        _l("E-mail address"),
        filters=[_normalized_email],
        validators=[
            DataRequired(_l("Please enter your e-mail address.")),
            Length(max=254, message=_l("This e-mail address is too long.")),
            Email(
                _l("Please enter a valid e-mail address, such as name@example.com."),
                check_deliverability=False,
            ),
        ],
        render_kw={"autocomplete": "email"},
    )


def refuse_disposable(field) -> None:
    """An address at a throw-away mail service is refused (registration and e-mail changes)."""
    if field.data and is_disposable(
        field.data,
        extra=current_app.config["DISPOSABLE_EMAIL_DOMAINS_EXTRA"],
        allowed=current_app.config["DISPOSABLE_EMAIL_DOMAINS_ALLOWED"],
    ):
        raise ValidationError(
            _l("Addresses of throw-away mail services cannot be used. Please use your own e-mail address.")
        )


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Please choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH, message=_l("The password must have at least %(min)d characters.")
            ),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("The password can have at most %(max)d characters.")),
        ],
        description=_l("At least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Please type the password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


class RegisterForm(FlaskForm):
    email = _email_field()
    password, password_confirm = _new_password_fields()
    full_name = StringField(
        _l("Full name"),
        filters=[_stripped],
        validators=[
            DataRequired(_l("Please enter your full name.")),
            Length(max=120, message=_l("The name can have at most %(max)d characters.")),
        ],
        render_kw={"autocomplete": "name"},
    )
    country = SelectField(
        _l("Country"), default=DEFAULT_COUNTRY, validators=[DataRequired(_l("Please choose your country."))]
    )
    birth_year = YearField(
        _l("Year of birth"),
        validators=[InputRequired(_l("Please enter your year of birth."))],
        render_kw={"inputmode": "numeric", "min": EARLIEST_BIRTH_YEAR, "autocomplete": "bday-year"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(str(get_locale() or "vi"))

    def validate_email(self, field) -> None:
        refuse_disposable(field)

    def validate_birth_year(self, field: YearField) -> None:
        if field.data is None:  # not a number: the field already says so
            return
        if field.data < EARLIEST_BIRTH_YEAR:
            raise ValidationError(_l("Please enter your real year of birth."))
        min_age = current_app.config["MIN_ACCOUNT_AGE"]
        if vn_today().year - field.data < min_age:
            raise ValidationError(
                _l("You must be %(age)d or older to take part in the contest.", age=min_age)
            )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        filters=[_normalized_email],
        validators=[DataRequired(_l("Please enter your e-mail address."))],
        render_kw={"autocomplete": "email"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me logged in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(FlaskForm):
    password, password_confirm = _new_password_fields()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    password, password_confirm = _new_password_fields()
