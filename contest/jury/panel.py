"""The judge's panel at /jury: my rounds, my entries in a round, the entry I judge, a ranking.

Only judges for whom ``can_judge`` holds see a round (closed rounds read-only); an assignment
that is not the judge's own answers 404. What a judge receives is blind (contest.jury.panel_data).
A save answers JSON to the panel's script (autosave, Enter) and redirects a plain form post.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from contest.auth.models import Role
from contest.auth.policy import can_judge, role_required
from contest.entries.models import Entry
from contest.extensions import db
from contest.jury import panel_data
from contest.jury.errors import JuryRefused
from contest.jury.forms import KIND_LABELS
from contest.jury.models import Assignment, AssignmentState, Round, RoundKind, RoundStatus
from contest.jury.panel_forms import RankingForm, RecusalForm, judgement_form
from contest.jury.scores import is_finished, recuse, save_judgement, save_ranking

bp = Blueprint("jury", __name__)
judge_required = role_required(Role.judge)
STATE_FILTERS = ("todo", "done", "recused")


@bp.get("/")
@judge_required
def index():
    rounds = panel_data.my_rounds(db.session, current_user.id)
    return render_template("jury/panel_index.html", rounds=rounds, kind_labels=KIND_LABELS)


@bp.get("/rounds/<int:round_id>/")
@judge_required
def round_page(round_id: int):
    round_ = _my_round(round_id)
    if round_.kind is RoundKind.ranking:
        items = panel_data.ranking_list(db.session, round_, current_user.id)
        form = RankingForm(order=",".join(str(i.assignment_id) for i in items))
        return render_template("jury/panel_ranking.html", round=round_, items=items, form=form)
    state = request.args.get("state", "")
    state = state if state in STATE_FILTERS else ""
    page = request.args.get("page", 1, type=int)
    items, pages = panel_data.grid(db.session, round_, current_user.id, state, page)
    return render_template(
        "jury/panel_round.html",
        round=round_,
        items=items,
        state=state,
        page=page,
        pages=pages,
        progress=panel_data.progress(db.session, round_, current_user.id),
        next_id=panel_data.next_to_judge(db.session, round_, current_user.id),
    )


@bp.get("/rounds/<int:round_id>/next")
@judge_required
def next_entry(round_id: int):
    """The judge's next unfinished entry; the grid when there is none."""
    round_ = _my_round(round_id)
    after = request.args.get("after", 0, type=int)
    found = panel_data.next_to_judge(db.session, round_, current_user.id, after)
    if found is None:
        flash(_("You have judged every entry of this round. Thank you!"), "success")
        return redirect(url_for(".round_page", round_id=round_.id))
    return redirect(url_for(".entry", round_id=round_.id, assignment_id=found))


@bp.get("/rounds/<int:round_id>/entries/<int:assignment_id>")
@judge_required
def entry(round_id: int, assignment_id: int):
    round_ = _my_round(round_id)
    assignment = _my_assignment(round_, assignment_id)
    if round_.kind is RoundKind.ranking:
        return redirect(url_for(".round_page", round_id=round_.id))
    form = judgement_form(round_, formdata=None, data=_current(round_, assignment))
    previous_id, following_id = panel_data.neighbours(db.session, round_, current_user.id, assignment.id)
    upcoming = panel_data.next_to_judge(db.session, round_, current_user.id, assignment.id)
    return render_template(
        "jury/panel_entry.html",
        round=round_,
        assignment=assignment,
        shown=panel_data.judged_entry(db.session, assignment.entry_id),
        form=form,
        recusal=RecusalForm(),
        editable=round_.status is RoundStatus.open and assignment.state is AssignmentState.assigned,
        previous_id=previous_id,
        following_id=following_id,
        prefetch=panel_data.display_image_url(db.session, upcoming) if upcoming else None,
        progress=panel_data.progress(db.session, round_, current_user.id),
        is_done=is_finished(db.session, round_, assignment.id),
    )


@bp.post("/rounds/<int:round_id>/entries/<int:assignment_id>")
@judge_required
def save(round_id: int, assignment_id: int):
    """Save what the judge typed (all of it or part of it) and say what comes next."""
    round_ = _my_round(round_id)
    assignment = _my_assignment(round_, assignment_id)
    form = judgement_form(round_)
    if not form.validate():
        return _refused(round_, assignment, _first_error(form), 400)
    try:
        save_judgement(db.session, assignment.id, current_user.id, form.judgement(round_))
    except JuryRefused as refusal:
        db.session.rollback()
        return _refused(round_, assignment, str(refusal.message), 409)
    db.session.commit()
    return _saved(round_, assignment)


@bp.post("/rounds/<int:round_id>/entries/<int:assignment_id>/recuse")
@judge_required
def recuse_entry(round_id: int, assignment_id: int):
    round_ = _my_round(round_id)
    assignment = _my_assignment(round_, assignment_id)
    form = RecusalForm()
    try:
        if not form.validate():
            raise JuryRefused(_first_error(form))
        recuse(db.session, assignment.id, current_user.id, form.reason.data or "")
    except JuryRefused as refusal:
        db.session.rollback()
        flash(str(refusal.message), "error")
        return redirect(url_for(".entry", round_id=round_.id, assignment_id=assignment.id))
    db.session.commit()
    flash(
        _("You stood aside from entry %(code)s: it goes to another judge.", code=_code(assignment)), "success"
    )
    return redirect(url_for(".next_entry", round_id=round_.id, after=assignment.id))


@bp.post("/rounds/<int:round_id>/ranking")
@judge_required
def save_order(round_id: int):
    round_ = _my_round(round_id)
    form = RankingForm()
    order = form.assignment_ids() if form.validate() and round_.kind is RoundKind.ranking else None
    try:
        if order is None:
            raise JuryRefused(_("The order must list each entry of your shortlist once."))
        save_ranking(db.session, round_.id, current_user.id, order)
    except JuryRefused as refusal:
        db.session.rollback()
        return _answer({"ok": False, "message": str(refusal.message)}, 409, round_)
    db.session.commit()
    return _answer({"ok": True, "message": _("Your order is saved.")}, 200, round_)


# --- helpers -----------------------------------------------------------------------------
def _my_round(round_id: int) -> Round:
    """The round, if the judge may see their work in it (403 otherwise)."""
    round_ = db.session.get(Round, round_id) or abort(404)
    if not can_judge(current_user, round_, reading=True):
        abort(403)
    return round_


def _my_assignment(round_: Round, assignment_id: int) -> Assignment:
    """The judge's own assignment in the round; anyone else's is 404."""
    found = db.session.scalar(
        select(Assignment).where(
            Assignment.id == assignment_id,
            Assignment.round_id == round_.id,
            Assignment.judge_id == current_user.id,
        )
    )
    return found or abort(404)


def _current(round_: Round, assignment: Assignment) -> dict:
    values = panel_data.my_values(db.session, round_, assignment)
    verdict = {True: "yes", False: "no"}.get(assignment.verdict)
    return {"comment": assignment.comment, "verdict": verdict, **{f"c{k}": v for k, v in values.items()}}


def _code(assignment: Assignment) -> str:
    return db.session.scalar(select(Entry.code).where(Entry.id == assignment.entry_id))


def _first_error(form) -> str:
    for field in form:
        if field.errors:
            return f"{field.label.text}: {field.errors[0]}"
    return _("The form could not be read: reload the page and try again.")


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"


def _saved(round_: Round, assignment: Assignment):
    """JSON: the assignment's new state and where to go next (the page counts its progress:
    a save-and-next is a few indexed queries, not a count over the judge's entries)."""
    done = is_finished(db.session, round_, assignment.id)
    following = panel_data.next_to_judge(db.session, round_, current_user.id, assignment.id)
    next_url = (
        url_for(".entry", round_id=round_.id, assignment_id=following)
        if following
        else url_for(".next_entry", round_id=round_.id)
    )
    body = {
        "ok": True,
        "done": done,
        "state": "done" if done else "todo",
        "values": _current(round_, assignment),
        "next_url": next_url,
        "message": _("Saved."),
    }
    if _wants_json():
        return jsonify(body)
    flash(body["message"], "success")
    return redirect(next_url if done else url_for(".entry", round_id=round_.id, assignment_id=assignment.id))


def _refused(round_: Round, assignment: Assignment, message: str, status: int):
    back = url_for(".entry", round_id=round_.id, assignment_id=assignment.id)
    return _answer({"ok": False, "message": message}, status, round_, back)


def _answer(body: dict, status: int, round_: Round, back: str | None = None):
    if _wants_json():
        return jsonify(body), status
    flash(body["message"], "success" if body["ok"] else "error")
    return redirect(back or url_for(".round_page", round_id=round_.id))
