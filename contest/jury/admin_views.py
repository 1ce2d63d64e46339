"""The organizer's jury pages: every contest's rounds, and a new round."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from contest.auth.policy import organizer_required
from contest.contests.models import Contest
from contest.extensions import db
from contest.jury.errors import JuryRefused
from contest.jury.forms import KIND_LABELS, STATUS_LABELS, RoundForm
from contest.jury.models import Round, RoundEntry, RoundKind, SourceRule
from contest.jury.rounds import CriterionSpec, RoundSpec, create_round
from contest.timeutil import from_vn_local

bp = Blueprint("jury_admin", __name__)


@bp.get("/")
@organizer_required
def rounds():
    contests = db.session.scalars(select(Contest).order_by(Contest.created_at.desc())).all()
    listed = db.session.scalars(select(Round).order_by(Round.contest_id, Round.id)).all()
    sizes = dict(
        db.session.execute(select(RoundEntry.round_id, func.count()).group_by(RoundEntry.round_id)).all()
    )
    by_contest = {c.id: [r for r in listed if r.contest_id == c.id] for c in contests}
    return render_template(
        "jury/admin_rounds.html",
        contests=contests,
        by_contest=by_contest,
        sizes=sizes,
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
    )


@bp.route("/contests/<int:contest_id>/rounds/new", methods=["GET", "POST"])
@organizer_required
def new_round(contest_id: int):
    contest = db.session.get(Contest, contest_id) or abort(404)
    form = RoundForm()
    form.categories.choices = [SelectChoice(c.id, c.name) for c in contest.categories]
    earlier = db.session.scalars(select(Round).where(Round.contest_id == contest.id).order_by(Round.id)).all()
    form.source_round.choices = [SelectChoice(0, "—")] + [SelectChoice(r.id, r.name) for r in earlier]
    if form.validate_on_submit():
        try:
            create_round(db.session, contest, _spec(form, contest, earlier), actor_id=current_user.id)
        except JuryRefused as refusal:
            form.form_errors.append(refusal.message)
        else:
            db.session.commit()
            flash(_("The round %(name)s was created.", name=form.name_vi.data), "success")
            return redirect(url_for(".rounds"))
    status = 400 if form.is_submitted() else 200
    return render_template("jury/admin_round_form.html", form=form, contest=contest), status


def _spec(form: RoundForm, contest: Contest, earlier: list[Round]) -> RoundSpec:
    chosen = set(form.categories.data or [])
    criteria = tuple(
        CriterionSpec(
            c.name_vi.data or c.name_en.data,
            c.name_en.data or c.name_vi.data,
            weight=c.weight.data or 1,
            scale_min=c.scale_min.data or 0,
            scale_max=c.scale_max.data if c.scale_max.data is not None else 10,
            scale_step=c.scale_step.data or 1,
        )
        for c in (entry.form for entry in form.criteria)
        if not c.is_blank
    )
    kind, rule = RoundKind(form.kind.data), SourceRule(form.source_rule.data)
    from_all = rule is SourceRule.approved_entries  # then no previous round and no threshold
    return RoundSpec(
        name_vi=form.name_vi.data,
        name_en=form.name_en.data,
        kind=kind,
        opens_at=from_vn_local(form.opens_at.data),
        closes_at=from_vn_local(form.closes_at.data),
        categories=tuple(c for c in contest.categories if c.id in chosen),
        quorum=form.quorum.data,
        criteria=criteria if kind is RoundKind.score else (),
        source_rule=rule,
        source_round=None if from_all else next((r for r in earlier if r.id == form.source_round.data), None),
        source_threshold=None if from_all else form.source_threshold.data,
    )
