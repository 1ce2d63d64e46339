"""A round's page for organizers: its settings, which entries enter it, the judges' progress,
and its actions (open, close, reopen with a reason, remind the judges who are behind,
disqualify and restore an entry). Each action is one service call, committed once."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select

from contest.auth.policy import organizer_required
from contest.entries.models import Entry
from contest.extensions import db
from contest.jury import progress, rounds, selection
from contest.jury.errors import JuryRefused
from contest.jury.forms import KIND_LABELS, SOURCE_LABELS, STATUS_LABELS, ConfirmForm, ReasonForm
from contest.jury.models import Round, RoundEntry, RoundStatus, SourceRule

bp = Blueprint("round", __name__, url_prefix="/rounds/<int:round_id>")


def _round(round_id: int) -> Round:
    return db.session.get(Round, round_id) or abort(404)


@bp.get("")
@organizer_required
def show(round_id: int):
    round_ = _round(round_id)
    judges = progress.judges_progress(db.session, round_)
    behind = {p.judge.id for p in progress.behind(round_, judges)}
    return render_template(
        "jury/admin_round.html",
        round=round_,
        judges=judges,
        behind=behind,
        entry_counts=_entry_counts(round_),
        short=progress.entries_progress(db.session, round_, short_only=True)[1],
        source=_source(round_),
        kind_labels=KIND_LABELS,
        status_labels=STATUS_LABELS,
        source_labels=SOURCE_LABELS,
    )


def _entry_counts(round_: Round) -> tuple[int, int]:
    """(entries in the round, of which disqualified)."""
    query = select(func.count(), func.count(RoundEntry.disqualified_at)).where(
        RoundEntry.round_id == round_.id
    )
    return tuple(db.session.execute(query).one())


def _source(round_: Round) -> dict | None:
    """The previous round, the preview of its thresholds and how many pass this round's."""
    if round_.source_rule is SourceRule.approved_entries:
        return None
    source = db.session.get(Round, round_.source_round_id)
    read = selection.figures(db.session, source)  # a score round's whole tally: read once
    passing = selection.passing(db.session, source, round_.source_rule, round_.source_threshold, read)
    marks = selection.preview_marks(db.session, source, read).get(round_.source_rule, [])
    return {"round": source, "passing": len(passing), "marks": marks}


@bp.post("/open")
@organizer_required
def open_(round_id: int):
    return _act(round_id, rounds.open_round, _("The round is open and its entries are dealt."))


@bp.post("/close")
@organizer_required
def close(round_id: int):
    return _act(round_id, rounds.close_round, _("The round is closed: its scores are read-only."))


def _act(round_id: int, service, done: str):
    round_ = _round(round_id)
    if ConfirmForm().validate_on_submit():
        try:
            service(db.session, round_, actor_id=current_user.id)
        except JuryRefused as refusal:
            db.session.rollback()
            flash(str(refusal.message), "error")
        else:
            db.session.commit()
            flash(done, "success")
    return redirect(url_for(".show", round_id=round_id))


@bp.route("/reopen", methods=["GET", "POST"])
@organizer_required
def reopen(round_id: int):
    round_ = _round(round_id)
    if round_.status is not RoundStatus.closed:
        flash(_("Only a closed round can be reopened."), "error")
        return redirect(url_for(".show", round_id=round_id))
    form = ReasonForm()
    if form.validate_on_submit():
        rounds.reopen_round(db.session, round_, form.reason.data, actor_id=current_user.id)
        db.session.commit()
        flash(_("The round is open again."), "success")
        return redirect(url_for(".show", round_id=round_id))
    return _reason_page(form, round_, _("Reopen the round"), None)


@bp.post("/remind")
@organizer_required
def remind(round_id: int):
    round_ = _round(round_id)
    if not ConfirmForm().validate_on_submit() or round_.status is not RoundStatus.open:
        flash(_("Only the judges of an open round can be reminded."), "error")
        return redirect(url_for(".show", round_id=round_id))
    reminded = progress.remind_behind(db.session, round_, actor_id=current_user.id)
    db.session.commit()
    count = len(reminded)
    flash(ngettext("%(num)d judge was reminded.", "%(num)d judges were reminded.", count), "success")
    return redirect(url_for(".show", round_id=round_id))


@bp.get("/entries")
@organizer_required
def entries(round_id: int):
    round_ = _round(round_id)
    short_only = request.args.get("short") == "1"
    page = request.args.get("page", 1, type=int)
    rows, total = progress.entries_progress(db.session, round_, short_only=short_only, page=page)
    return render_template(
        "jury/admin_round_entries.html",
        round=round_,
        rows=rows,
        total=total,
        page=max(page, 1),
        pages=max(1, -(-total // progress.ENTRIES_PER_PAGE)),
        short_only=short_only,
    )


@bp.route("/entries/<int:entry_id>/disqualify", methods=["GET", "POST"])
@organizer_required
def disqualify(round_id: int, entry_id: int):
    round_ = _round(round_id)
    entry = db.session.get(Entry, entry_id) or abort(404)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            rounds.disqualify(db.session, round_, entry_id, form.reason.data, actor_id=current_user.id)
        except JuryRefused as refusal:
            form.reason.errors = [refusal.message]
        else:
            db.session.commit()
            flash(_("Entry %(code)s is disqualified from this round.", code=entry.code), "success")
            return redirect(url_for(".entries", round_id=round_id))
    return _reason_page(form, round_, _("Disqualify entry %(code)s", code=entry.code), entry)


@bp.post("/entries/<int:entry_id>/restore")
@organizer_required
def restore(round_id: int, entry_id: int):
    round_ = _round(round_id)
    entry = db.session.get(Entry, entry_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            rounds.restore(db.session, round_, entry_id, actor_id=current_user.id)
        except JuryRefused as refusal:
            flash(str(refusal.message), "error")
        else:
            db.session.commit()
            flash(_("Entry %(code)s is back in this round.", code=entry.code), "success")
    return redirect(url_for(".entries", round_id=round_id))


def _reason_page(form: ReasonForm, round_: Round, heading: str, entry: Entry | None):
    status = 400 if form.is_submitted() else 200
    return render_template(
        "jury/admin_reason.html", form=form, round=round_, heading=heading, entry=entry
    ), status
