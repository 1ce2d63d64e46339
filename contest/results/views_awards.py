"""The organizer's prize pages: the contest's prize slots (/admin/results/.../prizes) and the
awards (/admin/results/.../awards): pre-filled from the tally and the votes, changed with a
reason, frozen, published now or at a set time. Each action is one service call, committed
once; organizers only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from contest.auth.policy import organizer_required
from contest.contests.models import Contest, current_contest
from contest.entries.models import Entry
from contest.extensions import db
from contest.results import awards, proposals, publication
from contest.results.award_forms import (
    KIND_LABELS,
    REFUSALS,
    STEP_REFUSED,
    AssignForm,
    ConfirmForm,
    ReasonForm,
    ScheduleForm,
    SlotForm,
)
from contest.results.awards import AwardRefused, SlotSpec
from contest.results.prizes import PrizeKind, PrizeSlot, PublicationState
from contest.results.publication import PublicationRefused
from contest.timeutil import from_vn_local, to_vn

bp = Blueprint("results_awards", __name__)


def _contest(contest_id: int) -> Contest:
    return db.session.get(Contest, contest_id) or abort(404)


def _current_contest_or_404() -> Contest:
    return current_contest(db.session) or abort(404)


@bp.get("/prizes")
@organizer_required
def current_prizes():
    return redirect(url_for(".prizes", contest_id=_current_contest_or_404().id))


@bp.get("/awards")
@organizer_required
def current_awards():
    return redirect(url_for(".awards_page", contest_id=_current_contest_or_404().id))


# --- prize slots --------------------------------------------------------------------------
@bp.route("/contests/<int:contest_id>/prizes", methods=["GET", "POST"])
@organizer_required
def prizes(contest_id: int):
    contest = _contest(contest_id)
    form = SlotForm().offer(contest)
    if form.validate_on_submit():
        return _save_slot(contest, form, None)
    return _prizes_page(contest, form, None)


@bp.route("/contests/<int:contest_id>/prizes/<int:slot_id>", methods=["GET", "POST"])
@organizer_required
def edit_prize(contest_id: int, slot_id: int):
    contest, slot = _slot(contest_id, slot_id)
    form = SlotForm(obj=slot).offer(contest)
    if not form.is_submitted():
        form.kind.data, form.category.data = slot.kind.value, str(slot.category_id or "")
    if form.validate_on_submit():
        return _save_slot(contest, form, slot)
    return _prizes_page(contest, form, slot)


@bp.post("/contests/<int:contest_id>/prizes/<int:slot_id>/delete")
@organizer_required
def delete_prize(contest_id: int, slot_id: int):
    contest, slot = _slot(contest_id, slot_id)
    if ConfirmForm().validate_on_submit():
        try:
            awards.delete_slot(db.session, contest, slot, actor_id=current_user.id)
        except AwardRefused as exc:
            db.session.rollback()
            flash(REFUSALS.get(str(exc), STEP_REFUSED), "error")
        else:
            db.session.commit()
            flash(_("The prize is removed."), "success")
    return redirect(url_for(".prizes", contest_id=contest.id))


def _slot(contest_id: int, slot_id: int) -> tuple[Contest, PrizeSlot]:
    contest = _contest(contest_id)
    slot = db.session.get(PrizeSlot, slot_id)
    if slot is None or slot.contest_id != contest.id:
        abort(404)
    return contest, slot


def _save_slot(contest: Contest, form: SlotForm, slot: PrizeSlot | None):
    spec = SlotSpec(
        kind=PrizeKind(form.kind.data),
        category_id=int(form.category.data) if form.category.data else None,
        name_vi=form.name_vi.data,
        name_en=form.name_en.data,
        count=form.count.data,
        position=form.position.data,
    )
    try:
        awards.save_slot(db.session, contest, spec, actor_id=current_user.id, slot=slot)
    except AwardRefused as exc:
        db.session.rollback()
        flash(REFUSALS.get(str(exc), STEP_REFUSED), "error")
        return _prizes_page(contest, form, slot), 400
    db.session.commit()
    flash(_("The prize is saved."), "success")
    return redirect(url_for(".prizes", contest_id=contest.id))


def _prizes_page(contest: Contest, form: SlotForm, editing: PrizeSlot | None):
    return render_template(
        "results/awards_prizes.html",
        contest=contest,
        slots=awards.contest_slots(db.session, contest.id),
        form=form,
        editing=editing,
        kind_labels=KIND_LABELS,
        confirm=ConfirmForm(),
    )


# --- awards -------------------------------------------------------------------------------
@bp.get("/contests/<int:contest_id>/awards")
@organizer_required
def awards_page(contest_id: int):
    contest = _contest(contest_id)
    pub = publication.current_publication(db.session, contest.id)
    given = awards.contest_awards(db.session, contest.id)
    proposed = proposals.contest_proposals(db.session, contest)
    return render_template(
        "results/awards.html",
        contest=contest,
        slots=awards.contest_slots(db.session, contest.id),
        given=given,
        proposed=proposed,
        entries=_entries_named(given, proposed),
        pub=pub,
        states=PublicationState,
        publish_at_vn=to_vn(pub.publish_at) if pub.publish_at else None,
        kind_labels=KIND_LABELS,
        assign_form=AssignForm(),
        reason_form=ReasonForm(),
        schedule_form=ScheduleForm(),
        confirm=ConfirmForm(),
    )


def _entries_named(given: dict, proposed: dict) -> dict[int, Entry]:
    """Entry id -> entry, for every entry the page names (one query)."""
    ids = {a.entry_id for a in given.values()} | {p.entry_id for by in proposed.values() for p in by.values()}
    if not ids:
        return {}
    return {e.id: e for e in db.session.scalars(select(Entry).where(Entry.id.in_(ids)))}


@bp.post("/contests/<int:contest_id>/awards/accept")
@organizer_required
def accept(contest_id: int):
    contest = _contest(contest_id)
    return _act(
        contest,
        lambda: awards.accept_proposals(db.session, contest, actor_id=current_user.id),
        _("The proposed entries are given their places."),
        form=ConfirmForm(),
    )


@bp.post("/contests/<int:contest_id>/awards/<int:slot_id>/<int:place>")
@organizer_required
def assign(contest_id: int, slot_id: int, place: int):
    contest, slot = _slot(contest_id, slot_id)
    form = AssignForm()
    if not form.validate_on_submit():
        flash(_("Give an entry code."), "error")
        return redirect(url_for(".awards_page", contest_id=contest.id))
    return _act(
        contest,
        lambda: awards.assign(
            db.session, contest, slot, place, form.code.data, form.reason.data or "", actor_id=current_user.id
        ),
        _("The place is given."),
    )


@bp.post("/contests/<int:contest_id>/freeze")
@organizer_required
def freeze(contest_id: int):
    contest = _contest(contest_id)
    return _act(
        contest,
        lambda: publication.freeze(db.session, contest, actor_id=current_user.id),
        _("The results are frozen."),
        form=ConfirmForm(),
    )


@bp.post("/contests/<int:contest_id>/unfreeze")
@organizer_required
def unfreeze(contest_id: int):
    contest = _contest(contest_id)
    form = ReasonForm()
    return _act(
        contest,
        lambda: publication.unfreeze(db.session, contest, form.reason.data or "", actor_id=current_user.id),
        _("The results are a draft again."),
        form=form,
    )


@bp.post("/contests/<int:contest_id>/schedule")
@organizer_required
def schedule(contest_id: int):
    contest = _contest(contest_id)
    form = ScheduleForm()
    return _act(
        contest,
        lambda: publication.schedule(
            db.session, contest, from_vn_local(form.publish_at.data), actor_id=current_user.id
        ),
        _("The results will be published at the chosen time."),
        form=form,
    )


@bp.post("/contests/<int:contest_id>/publish")
@organizer_required
def publish(contest_id: int):
    contest = _contest(contest_id)
    return _act(
        contest,
        lambda: publication.publish_now(db.session, contest, actor_id=current_user.id),
        _("The results are published and the winners are told."),
        form=ConfirmForm(),
    )


def _act(contest: Contest, service, done: str, form=None):
    """Run one service after the form's check, commit once, say how it went."""
    back = redirect(url_for(".awards_page", contest_id=contest.id))
    if form is not None and not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return back
    try:
        service()
    except (AwardRefused, PublicationRefused) as exc:
        db.session.rollback()
        flash(REFUSALS.get(str(exc), STEP_REFUSED), "error")
        return back
    db.session.commit()
    flash(done, "success")
    return back
