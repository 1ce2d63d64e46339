"""The organizer's jury pages: every contest's rounds, a new round and a draft's edit.

A round's own page and actions are contest.jury.admin_round's, the jury's judges and
conflicts contest.jury.admin_members'; both are blueprints inside this one.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from contest.auth.policy import organizer_required
from contest.contests.models import Contest
from contest.extensions import db
from contest.jury import selection
from contest.jury.admin_members import bp as members_bp
from contest.jury.admin_round import bp as round_bp
from contest.jury.errors import JuryRefused
from contest.jury.forms import CRITERIA_ROWS, KIND_LABELS, SOURCE_LABELS, STATUS_LABELS, RoundForm
from contest.jury.models import Round, RoundEntry, RoundKind, RoundStatus, SourceRule
from contest.jury.rounds import CriterionSpec, RoundSpec, create_round, update_round
from contest.timeutil import from_vn_local, to_vn

bp = Blueprint("jury_admin", __name__)
bp.register_blueprint(round_bp)
bp.register_blueprint(members_bp)


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
    earlier = _rounds_of(contest.id)
    form = _round_form(contest, earlier)
    if form.validate_on_submit():
        try:
            round_ = create_round(
                db.session, contest, _spec(form, contest, earlier), actor_id=current_user.id
            )
        except JuryRefused as refusal:
            form.form_errors.append(refusal.message)
        else:
            db.session.commit()
            flash(_("The round %(name)s was created.", name=form.name_vi.data), "success")
            return redirect(url_for(".round.show", round_id=round_.id))
    return _form_page(form, contest, earlier, None)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@organizer_required
def edit_round(round_id: int):
    round_ = db.session.get(Round, round_id) or abort(404)
    if round_.status is not RoundStatus.draft:
        flash(_("Only a draft round can be edited."), "error")
        return redirect(url_for(".round.show", round_id=round_.id))
    contest = db.session.get(Contest, round_.contest_id)
    earlier = [r for r in _rounds_of(contest.id) if r.id < round_.id]
    form = _round_form(contest, earlier, None if _submitted() else round_)
    if form.validate_on_submit():
        try:
            update_round(db.session, round_, _spec(form, contest, earlier), actor_id=current_user.id)
        except JuryRefused as refusal:
            form.form_errors.append(refusal.message)
        else:
            db.session.commit()
            flash(_("The round's settings are saved."), "success")
            return redirect(url_for(".round.show", round_id=round_.id))
    return _form_page(form, contest, earlier, round_)


def _submitted() -> bool:
    return request.method == "POST"


def _rounds_of(contest_id: int) -> list[Round]:
    return list(db.session.scalars(select(Round).where(Round.contest_id == contest_id).order_by(Round.id)))


def _round_form(contest: Contest, earlier: list[Round], round_: Round | None = None) -> RoundForm:
    """The form, filled from ``round_`` when one is edited (and not yet posted)."""
    form = RoundForm(obj=round_ and _as_form_data(round_))
    form.categories.choices = [SelectChoice(c.id, c.name) for c in contest.categories]
    form.source_round.choices = [SelectChoice(0, "—")] + [SelectChoice(r.id, r.name) for r in earlier]
    return form


def _as_form_data(round_: Round) -> SimpleNamespace:
    criteria = [
        SimpleNamespace(
            name_vi=c.name_vi,
            name_en=c.name_en,
            weight=c.weight,
            scale_min=c.scale_min,
            scale_max=c.scale_max,
            scale_step=c.scale_step,
        )
        for c in round_.criteria
    ]
    return SimpleNamespace(
        name_vi=round_.name_vi,
        name_en=round_.name_en,
        kind=round_.kind.value,
        categories=[c.id for c in round_.categories],
        opens_at=to_vn(round_.opens_at).replace(tzinfo=None),
        closes_at=to_vn(round_.closes_at).replace(tzinfo=None),
        quorum=round_.quorum,
        source_rule=round_.source_rule.value,
        source_round=round_.source_round_id or 0,
        source_threshold=round_.source_threshold,
        criteria=criteria + [SimpleNamespace()] * (CRITERIA_ROWS - len(criteria)),
    )


def _form_page(form: RoundForm, contest: Contest, earlier: list[Round], round_: Round | None):
    """The form, with what each earlier round's result would let through (the preview)."""
    previews = [
        (r, selection.preview_marks(db.session, r))
        for r in earlier
        if r.kind in (RoundKind.score, RoundKind.yes_no) and r.status is not RoundStatus.draft
    ]
    status = 400 if form.is_submitted() else 200
    return render_template(
        "jury/admin_round_form.html",
        form=form,
        contest=contest,
        round=round_,
        previews=previews,
        source_labels=SOURCE_LABELS,
    ), status


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
