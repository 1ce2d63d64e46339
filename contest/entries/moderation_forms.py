"""The moderation queue's forms: its filters, the decisions, the bulk actions, the reason templates."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from contest.admin.lists import STATUS_LABELS, ActionForm, ListFilterForm, strip
from contest.entries.flags import FLAG_LABELS
from contest.entries.models import EntryStatus
from contest.entries.moderation import ANY_FLAG, LISTED_STATUSES, QueueFilter, Reason
from contest.entries.reasons import MAX_REASON

REASON_LENGTH = Length(max=MAX_REASON, message=_l("Please keep the reason under %(max)d characters."))


class QueueForm(ListFilterForm):
    """The queue's filters: status (awaiting review by default), search, author, place, category, flag."""

    status = SelectField(_l("Status"), default=EntryStatus.pending_review.value)
    q = StringField(_l("Code or title"), filters=[strip], validators=[Optional(), Length(max=200)])
    author = StringField(
        _l("Author (name or e-mail)"), filters=[strip], validators=[Optional(), Length(max=254)]
    )
    place = SelectField(_l("Place"), coerce=int, default=0)
    category = SelectField(_l("Category"), coerce=int, default=0)
    flag = SelectField(_l("Flag"), default="")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = [(status.value, STATUS_LABELS[status]) for status in LISTED_STATUSES]
        self.place.choices = [(0, _("All places"))]
        self.category.choices = [(0, _("All categories"))]
        self.flag.choices = [
            ("", _("Flagged or not")),
            (ANY_FLAG, _("Any flag")),
            *((kind.value, label) for kind, label in FLAG_LABELS.items()),
        ]

    def offer(self, contest) -> None:
        """The chosen contest's categories and places (set before validating)."""
        self.category.choices = [(0, _("All categories")), *((c.id, c.name) for c in contest.categories)]
        self.place.choices = [(0, _("All places")), *((p.id, p.name) for p in contest.places)]

    def wanted(self) -> QueueFilter:
        return QueueFilter(
            status=EntryStatus(self.status.data),
            search=self.q.data or "",
            author=self.author.data or "",
            place_id=self.place.data or None,
            category_id=self.category.data or None,
            flag=self.flag.data or "",
        )

    def args(self, **changes) -> dict:
        """The filter as query-string arguments (pager and status links), empty ones left out."""
        values = {
            "contest": self.contest.data,
            "status": self.status.data,
            "q": self.q.data,
            "author": self.author.data,
            "place": self.place.data,
            "category": self.category.data,
            "flag": self.flag.data,
            **changes,
        }
        return {key: value for key, value in values.items() if value}


class FlagFilterForm(ListFilterForm):
    """The organizers' flag list: which contest, which kind of flag, which page (a GET form)."""

    kind = SelectField(_l("Kind of flag"), default="")
    submit = SubmitField(_l("Show"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            ("", _("All kinds")),
            *((kind.value, label) for kind, label in FLAG_LABELS.items()),
        ]


class ApproveForm(ActionForm):
    submit = SubmitField(_l("Approve"))


class ReopenForm(ActionForm):
    submit = SubmitField(_l("Reopen"))


class _ReasonChoice:
    """A reason picked from the templates, or written: one of the two is required."""

    template = SelectField(_l("Reason from a template"), coerce=int, default=0)
    reason = StringField(
        _l("Reason for rejecting"),
        filters=[strip],
        validators=[REASON_LENGTH],
        description=_l("Its author reads it on “My entries” and by e-mail; kept in the audit log."),
    )

    def offer_reasons(self, reasons) -> None:
        self.templates = {r.id: r for r in reasons}
        self.template.choices = [(0, _("Written below")), *((r.id, str(r.shown_text)) for r in reasons)]

    def validate_reason(self, field) -> None:
        if not field.data and not self.template.data:
            raise ValidationError(_("Please say why the entry is rejected."))

    def validate_template(self, field) -> None:
        if field.data and field.data not in self.templates:
            raise ValidationError(_("This reason no longer exists: please pick another."))

    def chosen_reason(self) -> Reason:
        """The written reason if any, else the picked template's two languages."""
        if self.reason.data:
            return Reason.written(self.reason.data)
        picked = self.templates[self.template.data]
        return Reason(picked.text_vi, picked.text_en)


class RejectForm(_ReasonChoice, ActionForm):
    submit = SubmitField(_l("Reject"))

    def __init__(self, *args, reasons=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offer_reasons(reasons)


class BulkForm(_ReasonChoice, ActionForm):
    """A decision on the entries ticked in the list."""

    entries = SelectMultipleField(
        coerce=int, validate_choice=False, validators=[DataRequired(_l("Please tick at least one entry."))]
    )
    decision = SelectField(_l("Decision"), default="approve")

    def __init__(self, *args, reasons=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.decision.choices = [("approve", _("Approve")), ("reject", _("Reject"))]
        self.offer_reasons(reasons)

    def validate_reason(self, field) -> None:
        if self.decision.data == "reject":
            super().validate_reason(field)


class ReasonTemplateForm(FlaskForm):
    text_vi = TextAreaField(
        _l("Reason in Vietnamese"),
        filters=[strip],
        validators=[DataRequired(_l("Please write the reason in Vietnamese.")), REASON_LENGTH],
    )
    text_en = TextAreaField(
        _l("Reason in English"),
        filters=[strip],
        validators=[DataRequired(_l("Please write the reason in English.")), REASON_LENGTH],
    )
    submit = SubmitField(_l("Save"))


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))
