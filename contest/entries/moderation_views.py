"""The moderation queue (/admin/entries): organizers review entries and approve or reject them.

Thin views: each decision is one service function of contest.entries.moderation, committed here.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from contest.admin.lists import STATUS_LABELS, back_to, chosen_contest, current_list_url
from contest.admin.services import all_contests
from contest.auth.policy import organizer_required
from contest.entries import flags as entry_flags
from contest.entries import moderation, reasons
from contest.entries.models import Entry, FlagKind
from contest.entries.moderation_forms import (
    ApproveForm,
    BulkForm,
    FlagFilterForm,
    QueueForm,
    RejectForm,
    ReopenForm,
)
from contest.entries.review_media import review_media
from contest.extensions import db

bp = Blueprint("moderation", __name__)

PAGE = {
    "status_labels": STATUS_LABELS,
    "flag_labels": entry_flags.FLAG_LABELS,
    "thumb_url": entry_flags.thumb_url,
    "exif_of": entry_flags.exif_of,
    "as_date": entry_flags.as_date,
    "review_media": review_media,
}


@bp.get("/entries")
@organizer_required
def queue():
    """Entries to approve or reject: the queue (awaiting review) by default, oldest first."""
    contests = all_contests(db.session)
    form = QueueForm(request.args, contests=contests)
    contest = chosen_contest(form, contests)
    if contest is not None:
        form.offer(contest)
    page = {"form": form, "contest": contest, "result": None, "counts": {}, **PAGE}
    if (request.args and not form.validate()) or contest is None:
        return render_template("entries/moderation/queue.html", **page), 400 if request.args else 200
    page["result"] = moderation.queue(db.session, contest.id, form.wanted(), form.page.data or 1)
    page["counts"] = moderation.status_counts(db.session, contest.id, form.category.data or None)
    templates = reasons.all_reasons(db.session)
    page["reject_form"] = RejectForm(formdata=None, reasons=templates)
    page["bulk_form"] = BulkForm(formdata=None, reasons=templates)
    return render_template("entries/moderation/queue.html", back=current_list_url(), **page)


@bp.post("/entries/<int:entry_id>/approve")
@organizer_required
def approve(entry_id: int):
    entry = _locked(entry_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    if _decided(lambda: moderation.approve(db.session, entry, current_user), entry):
        flash(_("%(code)s is approved: it appears in the public gallery.", code=entry.code), "success")
    return redirect(back_to(form.next.data, "moderation.queue"))


@bp.post("/entries/<int:entry_id>/reopen")
@organizer_required
def reopen(entry_id: int):
    entry = _locked(entry_id)
    form = ReopenForm()
    if not form.validate_on_submit():
        abort(400)
    if _decided(lambda: moderation.reopen(db.session, entry, current_user), entry):
        flash(_("%(code)s is back in the queue, awaiting review.", code=entry.code), "success")
    return redirect(back_to(form.next.data, "moderation.queue"))


@bp.route("/entries/<int:entry_id>/reject", methods=["GET", "POST"])
@organizer_required
def reject(entry_id: int):
    """Reject with a reason (the list posts here; this page shows a refused form again)."""
    entry = _locked(entry_id) if request.method == "POST" else db.session.get(Entry, entry_id) or abort(404)
    form = RejectForm(next=request.args.get("next", ""), reasons=reasons.all_reasons(db.session))
    if form.validate_on_submit():
        reason = form.chosen_reason()
        if _decided(lambda: moderation.reject(db.session, entry, current_user, reason), entry):
            flash(_("%(code)s is rejected.", code=entry.code), "success")
        return redirect(back_to(form.next.data, "moderation.queue"))
    status = 400 if form.is_submitted() else 200
    cancel = back_to(form.next.data, "moderation.queue")
    return render_template(
        "entries/moderation/reject.html", entry=entry, form=form, cancel=cancel, **PAGE
    ), status


@bp.post("/entries/bulk")
@organizer_required
def bulk():
    """Approve or reject every ticked entry of the list (those whose status allows it)."""
    form = BulkForm(reasons=reasons.all_reasons(db.session))
    back = back_to(form.next.data, "moderation.queue")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
        return redirect(back)
    chosen = moderation.selected_entries(db.session, form.entries.data)
    if form.decision.data == "approve":
        outcome = moderation.approve_many(db.session, chosen, current_user)
    else:
        outcome = moderation.reject_many(db.session, chosen, current_user, form.chosen_reason())
    db.session.commit()
    _flash_bulk(outcome, form.decision.data)
    return redirect(back)


def _flash_bulk(outcome: moderation.BulkOutcome, decision: str) -> None:
    done = len(outcome.done)
    if decision == "approve":
        message = ngettext("%(num)d entry approved.", "%(num)d entries approved.", done)
    else:
        message = ngettext("%(num)d entry rejected.", "%(num)d entries rejected.", done)
    flash(message, "success" if done else "error")
    if outcome.refused:
        codes = ", ".join(outcome.refused)
        flash(_("Not changed, their status does not allow it: %(codes)s", codes=codes), "error")


def _locked(entry_id: int) -> Entry:
    return db.session.get(Entry, entry_id, with_for_update=True) or abort(404)


def _decided(decide, entry: Entry) -> bool:
    """Run one decision and commit it; a status that does not allow it changes nothing."""
    try:
        decide()
    except moderation.DecisionRefused:
        db.session.rollback()
        flash(
            _(
                "%(code)s was not changed: its status is “%(status)s” now.",
                code=entry.code,
                status=STATUS_LABELS[entry.status],
            ),
            "error",
        )
        return False
    db.session.commit()
    return True


# --- flags: duplicates, EXIF and GPS hints for review -------------------------------------
@bp.get("/flags")
@organizer_required
def flags():
    """The contest's flagged entries, newest first; filtered by contest and kind of flag."""
    contests = all_contests(db.session)
    form = FlagFilterForm(request.args, contests=contests)
    contest = chosen_contest(form, contests)
    if (request.args and not form.validate()) or contest is None:
        status = 400 if request.args else 200
        return render_template("entries/moderation/flags.html", form=form, result=None, **PAGE), status
    kind = FlagKind(form.kind.data) if form.kind.data else None
    result = entry_flags.flagged_entries(db.session, contest.id, kind, form.page.data or 1)
    return render_template("entries/moderation/flags.html", form=form, result=result, **PAGE)
