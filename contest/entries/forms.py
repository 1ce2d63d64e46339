"""Forms of the entrant's side: submitting a photo, editing its text, withdrawing it."""

from __future__ import annotations

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from contest.contests.models import Category, CategoryKind, Contest
from contest.entries.validation import PHOTO_FORMATS
from contest.timeutil import vn_today

_NO_PLACE = 0
# Extensions browsers should offer in the file picker, per format (the server sniffs the content).
_PICKER_EXTENSIONS = {"jpeg": ".jpg,.jpeg", "png": ".png", "webp": ".webp", "heif": ".heic,.heif"}


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def works_window_error(taken_on, category: Category | None) -> str | None:
    """Why ``taken_on`` is not accepted (in the future, outside the category's window), or None."""
    if taken_on > vn_today():
        return _("The date taken cannot be in the future.")
    if category is None:
        return None
    start, end = category.works_from, category.works_until
    if start and end and not start <= taken_on <= end:
        return _(
            "Works in this category must be made between %(start)s and %(end)s.",
            start=format_date(start),
            end=format_date(end),
        )
    if start and taken_on < start:
        return _("Works in this category must be made on or after %(start)s.", start=format_date(start))
    if end and taken_on > end:
        return _("Works in this category must be made on or before %(end)s.", end=format_date(end))
    return None


class EntryDetailsForm(FlaskForm):
    """The text of an entry, shared by submitting and editing."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], filters=[_strip]
    )
    place = SelectField(_l("Place in Nghệ An"), coerce=int, validators=[InputRequired()])
    taken_on = DateField(
        _l("Date taken"), validators=[InputRequired()], description=_l("The day the photo was taken.")
    )

    def __init__(self, contest: Contest, *args, category: Category | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest = contest
        self._category = category
        self.place.choices = [(_NO_PLACE, _("Choose a place"))] + [(p.id, p.name) for p in contest.places]
        self.taken_on.render_kw = {"max": vn_today().isoformat()}

    def chosen_category(self) -> Category | None:
        return self._category

    def validate_place(self, field) -> None:
        if field.data == _NO_PLACE:
            raise ValidationError(_("Choose the place in Nghệ An where the work was made."))

    def validate_taken_on(self, field) -> None:
        problem = works_window_error(field.data, self.chosen_category())
        if problem:
            raise ValidationError(problem)

    def entry_details(self) -> dict:
        """The entry's text fields, as the services take them."""
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "place_id": self.place.data,
            "taken_on": self.taken_on.data,
        }


class PhotoEntryForm(EntryDetailsForm):
    """A new single-photo entry: category, file, text and the three declarations."""

    category = SelectField(_l("Category"), coerce=int, validators=[InputRequired()])
    photo = FileField(_l("Photo file"), validators=[FileRequired(message=_l("Choose the photo to upload."))])
    accept_own_work = BooleanField(
        _l("This work is my own, and I hold the rights to it."),
        validators=[DataRequired(message=_l("Please confirm that the work is your own."))],
    )
    accept_promo_use = BooleanField(
        _l("I allow the organizers to use this work to promote Nghệ An and the contest."),
        validators=[DataRequired(message=_l("Please allow the promotional use of your work to take part."))],
    )
    accept_not_awarded = BooleanField(
        _l("This work has not won an award in another contest."),
        validators=[DataRequired(message=_l("Please confirm that the work has not been awarded before."))],
    )
    submit = SubmitField(_l("Submit the entry"))

    def __init__(self, contest: Contest, *args, **kwargs) -> None:
        super().__init__(contest, *args, **kwargs)
        self.categories = [c for c in contest.categories if c.kind is CategoryKind.photo]
        self.category.choices = [(c.id, c.name) for c in self.categories]
        formats = {f for c in self.categories for f in c.allowed_formats if f in PHOTO_FORMATS}
        self.photo.render_kw = {
            "accept": ",".join(
                [PHOTO_FORMATS[f][1] for f in sorted(formats)]
                + [_PICKER_EXTENSIONS[f] for f in sorted(formats)]
            )
        }

    def chosen_category(self) -> Category | None:
        return next((c for c in self.categories if c.id == self.category.data), None)


class EditEntryForm(EntryDetailsForm):
    submit = SubmitField(_l("Save changes"))


class WithdrawForm(FlaskForm):
    submit = SubmitField(_l("Withdraw the entry"))
