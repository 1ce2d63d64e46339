"""The audit log's filter (a GET form in the query string)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from contest.admin.lists import ListFilterForm


class AuditFilterForm(ListFilterForm):
    action = SelectField(_l("Action"), default="")

    def __init__(self, *args, actions=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest.choices = [(0, _("All contests")), *self.contest.choices]
        self.action.choices = [("", _("All actions")), *((action, label) for action, label in actions)]
