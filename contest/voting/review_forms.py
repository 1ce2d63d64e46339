"""The organizers' vote review forms: list filters, and voiding or restoring with a reason."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional

from contest.admin.lists import ActionForm, ListFilterForm, required_reason, strip, upper
from contest.voting.clusters.kinds import CLUSTER_LABELS


class CaseFilterForm(ListFilterForm):
    kind = SelectField(_l("Rule that applied"), default="")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [
            ("", _("All rules")),
            *((kind.value, label) for kind, label in CLUSTER_LABELS.items()),
        ]


class VoteFilterForm(ListFilterForm):
    entry = StringField(_l("Entry code"), filters=[upper], validators=[Optional(), Length(max=24)])
    voter = StringField(
        _l("Voter's e-mail address"), filters=[strip], validators=[Optional(), Length(max=254)]
    )
    state = SelectField(_l("Votes"), default="all")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = [("all", _("All votes")), ("valid", _("Counted")), ("voided", _("Voided"))]


class VoidForm(ActionForm):
    reason = StringField(
        _l("Reason for voiding"),
        filters=[strip],
        validators=required_reason(_l("Please say why the votes are voided.")),
        description=_l("Kept in the audit log."),
    )
    submit = SubmitField(_l("Void"))


class CaseVoidForm(VoidForm):
    """Void the votes of a case the organizer selected (those meeting a ring's rule at first)."""

    votes = SelectMultipleField(
        _l("Votes to void"), coerce=int, validators=[InputRequired(_l("Select the votes to void."))]
    )

    def __init__(self, *args, case, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.votes.choices = [(vote_id, str(vote_id)) for vote_id in case.vote_ids]


class RestoreForm(ActionForm):
    reason = StringField(
        _l("Reason for restoring"),
        filters=[strip],
        validators=required_reason(_l("Please say why the vote counts again.")),
        description=_l("Kept in the audit log."),
    )
    submit = SubmitField(_l("Restore"))


class RunReviewForm(FlaskForm):
    """Run the vote review now (its CSRF token only)."""

    submit = SubmitField(_l("Run the review now"))
