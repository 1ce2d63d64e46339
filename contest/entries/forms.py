"""Forms of the entrant's side: submitting an entry (photo, series, video), editing its text, withdrawing it."""

from __future__ import annotations

import re

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    Field,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from contest.contests.models import Category, CategoryKind, Contest
from contest.entries.validation import PHOTO_FORMATS, series_count_problem
from contest.entries.video import VIDEO_FORMATS
from contest.timeutil import vn_today

_NO_PLACE = 0
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
# Extensions browsers should offer in the file picker, per format (the server sniffs the content).
_PICKER_EXTENSIONS = {
    "jpeg": ".jpg,.jpeg",
    "png": ".png",
    "webp": ".webp",
    "heif": ".heic,.heif",
    "mp4": ".mp4,.m4v",
    "mov": ".mov",
}


class UploadRefsField(Field):
    """Hidden references to stored uploads (contest.uploads): ids separated by commas, or the
    field repeated; a series names several, in the entrant's order. Anything but an id is dropped."""

    widget = HiddenInput()

    def process_formdata(self, valuelist):
        ids = [part.strip().lower() for value in valuelist for part in str(value).split(",")]
        self.data = [i for i in ids if _UPLOAD_ID.fullmatch(i)][:100]

    def _value(self) -> str:
        return ",".join(self.data or [])


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def works_window_error(taken_on, category: Category | None) -> str | None:
    """Why ``taken_on`` is not accepted (in the future, outside the category's window), or None."""
    if taken_on > vn_today():
        if _is_video(category):
            return _("The date filmed cannot be in the future.")
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


def _is_video(category: Category | None) -> bool:
    return category is not None and category.kind is CategoryKind.video


# The date field's words, by whether the work is a video: a video is filmed, a photo taken.
DATE_LABELS = {False: _l("Date taken"), True: _l("Date filmed")}
DATE_HELP = {False: _l("The day the photo was taken."), True: _l("The day the video was filmed.")}


class EntryDetailsForm(FlaskForm):
    """The text of an entry, shared by submitting and editing: Vietnamese, and optionally English."""

    keeps_retired_place = False  # True when changing an entry: the place it names stays a choice

    date_labels, date_helps = DATE_LABELS, DATE_HELP

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=5000)], filters=[_strip]
    )
    title_en = StringField(
        _l("Title in English"),
        validators=[Optional(), Length(max=200)],
        filters=[_strip],
        description=_l(
            "Optional. Visitors who read the site in English see it; without it, the title above."
        ),
    )
    description_en = TextAreaField(
        _l("Description in English"),
        validators=[Optional(), Length(max=5000)],
        filters=[_strip],
        description=_l("Optional, like the English title."),
    )
    place = SelectField(_l("Place in Nghệ An"), coerce=int, validators=[InputRequired()])
    taken_on = DateField(
        _l("Date taken"), validators=[InputRequired()], description=_l("The day the photo was taken.")
    )

    def __init__(self, contest: Contest, *args, category: Category | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest = contest
        self._category = category
        # A retired place is no longer offered; an entry being changed may keep the one it names.
        kept = self.place.data if self.keeps_retired_place else None
        offered = [p for p in contest.places if not p.retired or p.id == kept]
        self.place.choices = [(_NO_PLACE, _("Choose a place"))] + [(p.id, p.name) for p in offered]
        self.taken_on.render_kw = {"max": vn_today().isoformat()}
        self.date_words()

    def date_words(self) -> None:
        """The date field says "date filmed" for a video category, "date taken" otherwise."""
        video = _is_video(self.chosen_category())
        self.taken_on.label.text, self.taken_on.description = self.date_labels[video], self.date_helps[video]

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
            "title_en": self.title_en.data or "",
            "description_en": self.description_en.data or "",
            "place_id": self.place.data,
            "taken_on": self.taken_on.data,
        }


class NewEntryForm(EntryDetailsForm):
    """A new entry of any kind: the category, its file(s), the text and the three declarations.

    The file field follows the category's kind: ``photo`` (one file), ``photos`` (a series,
    several files in the order sent) or ``video`` (one file). The page shows all three
    without JavaScript; a small script shows only the one the chosen category needs.
    """

    category = RadioField(
        _l("Category"),
        coerce=int,
        validate_choice=False,  # validate_category says it in words the entrant understands
        validators=[InputRequired(message=_l("Choose the category of your entry."))],
    )
    photo = FileField(_l("Photo file"))
    photos = MultipleFileField(
        _l("Photos of the series"),
        description=_l(
            "Select all the photos of the series at once. They keep the order in which your device "
            "sends them, usually the order of their file names."
        ),
    )
    video = FileField(_l("Video file"))
    # The same files already in storage (sent by the page's script, or kept from a form that
    # came back with an error): the entrant need not send them again.
    upload_photo = UploadRefsField()
    upload_photos = UploadRefsField()
    upload_video = UploadRefsField()
    keep_files = RadioField(_l("The file you already sent"), default="keep")
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
        self.categories = list(contest.categories)  # before the fields: chosen_category reads them
        super().__init__(contest, *args, **kwargs)
        self.category.choices = [(c.id, c.name) for c in self.categories]
        self.keep_files.choices = [
            ("keep", _("Keep it")),
            ("replace", _("Replace it with the file chosen here")),
        ]
        photo_accept = _accept(self._formats(CategoryKind.photo, CategoryKind.photo_series), PHOTO_FORMATS)
        self.photo.render_kw = self.photos.render_kw = {"accept": photo_accept}
        self.video.render_kw = {"accept": _accept(self._formats(CategoryKind.video), VIDEO_FORMATS)}

    def _formats(self, *kinds: CategoryKind) -> set[str]:
        return {f for c in self.categories if c.kind in kinds for f in c.allowed_formats}

    def chosen_category(self) -> Category | None:
        return next((c for c in self.categories if c.id == self.category.data), None)

    def file_field(self) -> Field:
        """The file field of the chosen category's kind (the photo field when none is chosen)."""
        category = self.chosen_category()
        kind = category.kind if category else CategoryKind.photo
        return {CategoryKind.photo: self.photo, CategoryKind.photo_series: self.photos}.get(kind, self.video)

    def uploads(self) -> list[FileStorage]:
        """The files sent for the chosen category, in their order."""
        data = self.file_field().data
        return [f for f in (data if isinstance(data, list) else [data]) if isinstance(f, FileStorage) and f]

    def refs_field(self) -> UploadRefsField:
        return getattr(self, f"upload_{self.file_field().name}")

    def upload_ids(self) -> list[str]:
        """The stored uploads named for the chosen category, unless files were posted instead
        or the entrant chose to replace them."""
        if self.uploads() or self.keep_files.data == "replace":
            return []
        return list(self.refs_field().data or [])

    def refer_to(self, upload_ids: list[str]) -> None:
        """The re-rendered form names these stored uploads, kept for the entrant."""
        self.refs_field().data = upload_ids
        self.keep_files.data = "keep"

    def has_files(self) -> bool:
        return bool(self.uploads() or self.upload_ids())

    def validate_category(self, field) -> None:
        if self.chosen_category() is None:
            raise ValidationError(_("Choose one of the categories shown."))

    def validate_photo(self, field) -> None:
        if self._needs(CategoryKind.photo) and not self.has_files():
            raise ValidationError(_("Choose the photo to upload."))

    def validate_photos(self, field) -> None:
        if not self._needs(CategoryKind.photo_series):
            return
        count = len(self.uploads() or self.upload_ids())
        if count == 0:
            raise ValidationError(_("Choose the photos of the series."))
        problem = series_count_problem(count, self.chosen_category())
        if problem:
            raise ValidationError(problem)

    def validate_video(self, field) -> None:
        if self._needs(CategoryKind.video) and not self.has_files():
            raise ValidationError(_("Choose the video to upload."))

    def _needs(self, kind: CategoryKind) -> bool:
        category = self.chosen_category()
        return category is not None and category.kind is kind


def _accept(formats: set[str], known: dict) -> str:
    """The file picker's hint: MIME types and extensions (the server reads the content)."""
    chosen = sorted(f for f in formats if f in known)
    mime_types = [known[f][1] if isinstance(known[f], tuple) else known[f] for f in chosen]
    return ",".join(mime_types + [_PICKER_EXTENSIONS[f] for f in chosen])


class EditEntryForm(EntryDetailsForm):
    keeps_retired_place = True
    submit = SubmitField(_l("Save changes"))


class WithdrawForm(FlaskForm):
    submit = SubmitField(_l("Withdraw the entry"))


class NewFileForm(FlaskForm):
    """A new file for a rejected entry: one photo, the photos of a series, or one video."""

    photo = FileField(_l("Photo file"))
    photos = MultipleFileField(_l("Photos of the series"))
    video = FileField(_l("Video file"))
    submit = SubmitField(_l("Send the new file"))

    def __init__(self, category: Category, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.category = category
        known = VIDEO_FORMATS if category.kind is CategoryKind.video else PHOTO_FORMATS
        self.file_field().render_kw = {"accept": _accept(set(category.allowed_formats), known)}

    def file_field(self) -> Field:
        return {CategoryKind.photo: self.photo, CategoryKind.photo_series: self.photos}.get(
            self.category.kind, self.video
        )

    def uploads(self) -> list[FileStorage]:
        data = self.file_field().data
        return [f for f in (data if isinstance(data, list) else [data]) if isinstance(f, FileStorage) and f]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if not self.uploads():
            self.file_field().errors.append(_("Choose the new file to upload."))
            return False
        return True
