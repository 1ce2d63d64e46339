"""The JSON bodies the upload API takes, read by WTForms (Flask-WTF reads a JSON body as form data).

CSRF is checked for the whole app by the X-CSRFToken header (CSRFProtect), not per form.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange

from contest.storage_multipart import MAX_PARTS
from contest.uploads.models import UPLOAD_FIELDS


class _JsonForm(FlaskForm):
    class Meta:
        csrf = False  # the header, checked before the view (contest.extensions.csrf)


class StartUploadForm(_JsonForm):
    category_id = IntegerField(validators=[InputRequired(message=_l("Choose the category of your entry."))])
    field = StringField(validators=[AnyOf(UPLOAD_FIELDS)])
    filename = StringField(validators=[DataRequired(message=_l("The file has no name.")), Length(max=1000)])
    type = StringField(validators=[Length(max=200)])
    size = IntegerField(validators=[NumberRange(min=0)])  # 0 is a size: InputRequired would refuse it


def named_parts(body) -> list[tuple[int, str]] | None:
    """The parts a completion names, ``{"parts": [{"PartNumber", "ETag"}]}`` (None if malformed).

    By hand: WTForms reads a JSON body flat, without its list of objects."""
    parts = body.get("parts") if isinstance(body, dict) else None
    if not isinstance(parts, list) or not 1 <= len(parts) <= MAX_PARTS:
        return None
    named = []
    for part in parts:
        number = part.get("PartNumber") if isinstance(part, dict) else None
        etag = part.get("ETag") if isinstance(part, dict) else None
        if (
            type(number) is not int
            or not 1 <= number <= MAX_PARTS
            or not isinstance(etag, str)
            or len(etag) > 200
        ):
            return None
        named.append((number, etag))
    return named
