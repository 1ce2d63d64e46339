"""Organizer forms to start an edition and keep its places."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from contest.admin.forms import _moment, _strip, _upper
from contest.contests.settings_forms import _check_window

TEMPLATE_SOURCE = 0  # the source choice "the 2025 rules"


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class NewEditionForm(FlaskForm):
    source = SelectField(_l("Start from"), coerce=int)
    slug = StringField(
        _l("Address name"),
        filters=[_lower],
        validators=[
            DataRequired(),
            Regexp(
                r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
                message=_l(
                    "Use lower-case letters, digits and hyphens (at most 40), e.g. happy-nghean-2026."
                ),
            ),
        ],
        description=_l("Part of the addresses of the edition's files; it cannot change later."),
    )
    code_prefix = StringField(
        _l("Entry code prefix"),
        filters=[_upper],
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z0-9]{2,12}$", message=_l("Use 2 to 12 capital letters or digits, without spaces.")),
        ],
        description=_l("Entry codes look like PREFIX-0001."),
    )
    title_vi = StringField(
        _l("Title (Vietnamese)"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    title_en = StringField(
        _l("Title (English)"), filters=[_strip], validators=[DataRequired(), Length(max=200)]
    )
    submission_opens_at = _moment(_l("Submission opens"))
    submission_closes_at = _moment(_l("Submission closes"))
    voting_opens_at = _moment(_l("Public voting opens"))
    voting_closes_at = _moment(_l("Public voting closes"))
    results_at = _moment(_l("Results announced"), required=False)
    submit = SubmitField(_l("Create the edition"))

    def __init__(self, *args, contests=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        copies = [(c.id, _l("A copy of %(title)s", title=c.title)) for c in contests]
        self.source.choices = [*copies, (TEMPLATE_SOURCE, _l("The 2025 rules (Photo, Photo series, Video)"))]

    def validate_submission_closes_at(self, field) -> None:
        _check_window(self.submission_opens_at.data, field.data, _l("Submission must close after it opens."))

    def validate_voting_closes_at(self, field) -> None:
        _check_window(self.voting_opens_at.data, field.data, _l("Voting must close after it opens."))


class PlaceForm(FlaskForm):
    code = StringField(
        _l("Code"),
        filters=[_lower],
        validators=[
            DataRequired(),
            Regexp(
                r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
                message=_l("Use lower-case letters, digits and hyphens."),
            ),
        ],
    )
    name_vi = StringField(
        _l("Name (Vietnamese)"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    name_en = StringField(
        _l("Name (English)"), filters=[_strip], validators=[DataRequired(), Length(max=120)]
    )
    retired = BooleanField(_l("Retired (no longer offered to new entries)"))
    submit = SubmitField(_l("Save place"))


class ImageForm(FlaskForm):
    picture = FileField(_l("Picture"), validators=[FileRequired(message=_l("Choose a picture to upload."))])
    submit = SubmitField(_l("Upload"))
