"""Organizer forms shared by the feature pages (date and time fields, check boxes), and the flag filter.

Contest and category settings are in contest.contests.settings_forms.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    SelectMultipleField,
)
from wtforms.validators import (
    InputRequired,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

# What a datetime-local input sends (some browsers add seconds); the first is how it is shown.
VN_MINUTE_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
VN_TIME_HELP = _l("Vietnam time (UTC+7).")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _unix_lines(value):
    """Browsers send text areas with CRLF line ends; store plain newlines."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _moment(label, required: bool = True) -> DateTimeLocalField:
    presence = InputRequired(message=_l("Please give a date and time.")) if required else Optional()
    return DateTimeLocalField(
        label, format=VN_MINUTE_FORMATS, validators=[presence], description=VN_TIME_HELP
    )


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes, one per choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
