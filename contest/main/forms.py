"""The organizer's button that features an entry on the home page (or stops featuring it)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf


class FeatureForm(FlaskForm):
    """``feature``: "1" shows the entry on the home page, "0" lets the page choose again;
    ``next``: the organizer's list to go back to."""

    feature = HiddenField(validators=[AnyOf(("1", "0"))])
    next = HiddenField()
