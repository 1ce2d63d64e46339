"""The vote button's form: CSRF, and the signed moment the entry page was served."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField


class VoteForm(FlaskForm):
    view_token = HiddenField()
