"""The audit log's filter: who, what, when (Vietnam dates), which object (a GET form)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from contest.admin.lists import ListFilterForm, upper
from contest.audit.log import SYSTEM, AuditFilter


class AuditFilterForm(ListFilterForm):
    actor = SelectField(_l("Who"), default="")
    action = SelectField(_l("Action"), default="")
    since = DateField(_l("From"), validators=[Optional()], description=_l("Vietnam date."))
    until = DateField(_l("To"), validators=[Optional()], description=_l("Vietnam date, included."))
    subject_type = SelectField(_l("Kind of record"), default="")
    subject_id = IntegerField(_l("Record number"), validators=[Optional(), NumberRange(min=1, max=2**62)])
    entry = StringField(_l("Entry code"), filters=[upper], validators=[Optional(), Length(max=24)])

    def __init__(self, *args, actions=(), actors=(), subject_types=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.contest.choices = [(0, _("All contests")), *self.contest.choices]
        self.actor.choices = [
            ("", _("Everyone")),
            (SYSTEM, _("the system")),
            *((str(user.id), f"{user.full_name} <{user.email}>") for user in actors),
        ]
        self.action.choices = [("", _("All actions")), *actions]
        self.subject_type.choices = [("", _("All kinds")), *((kind, kind) for kind in subject_types)]

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_("The end date comes before the start date."))

    def chosen(self) -> AuditFilter:
        return AuditFilter(
            contest_id=self.contest.data or None,
            actor=self.actor.data or "",
            action=self.action.data or "",
            since=self.since.data,
            until=self.until.data,
            subject_type=self.subject_type.data or "",
            subject_id=self.subject_id.data,
            entry_code=self.entry.data or "",
        )

    def args(self, **changes) -> dict:
        """The filter as query-string arguments (for the pager and the CSV link)."""
        values = {
            "contest": self.contest.data or None,
            "actor": self.actor.data or None,
            "action": self.action.data or None,
            "since": self.since.data.isoformat() if self.since.data else None,
            "until": self.until.data.isoformat() if self.until.data else None,
            "subject_type": self.subject_type.data or None,
            "subject_id": self.subject_id.data,
            "entry": self.entry.data or None,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value is not None}
