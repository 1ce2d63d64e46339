"""Organizer forms for staff accounts: invite a judge or organizer, find an account, change it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from contest.auth.models import Role
from contest.auth.services import normalize_email

ROLE_LABELS = {Role.entrant: _l("Entrant"), Role.judge: _l("Judge"), Role.organizer: _l("Organizer")}


def _email() -> EmailField:
    return EmailField(
        _l("E-mail address"),
        filters=[lambda value: normalize_email(value) if value else value],
        validators=[
            DataRequired(_l("Please enter an e-mail address.")),
            Length(max=254),
            Email(
                _l("Please enter a valid e-mail address, such as name@example.com."),
                check_deliverability=False,
            ),
        ],
    )


def _role(label, roles) -> SelectField:
    return SelectField(label, choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in roles])


class InviteStaffForm(FlaskForm):
    email = _email()
    full_name = StringField(
        _l("Full name"),
        filters=[lambda value: value.strip() if value else value],
        validators=[DataRequired(_l("Please enter the full name.")), Length(max=120)],
    )
    role = _role(_l("Role"), (Role.organizer, Role.judge))
    locale = SelectField(
        _l("Language of the e-mails"),
        choices=[SelectChoice("vi", "Tiếng Việt"), SelectChoice("en", "English")],
    )
    submit = SubmitField(_l("Invite"))


class FindAccountForm(FlaskForm):
    class Meta:
        csrf = False  # a read-only search in the query string

    email = _email()
    submit = SubmitField(_l("Find"))


class RoleForm(FlaskForm):
    role = _role(_l("Role"), tuple(Role))
    submit = SubmitField(_l("Change role"))


class ActiveForm(FlaskForm):
    submit = SubmitField(_l("Save"))
