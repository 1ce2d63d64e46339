"""Organizer pages for the public vote: cases of suspicious votes, votes by entry or voter.

Under ``/admin/votes``, organizers only. Voiding and restoring
need a reason; a refused form is shown again with its message and nothing changes.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from contest.admin import services
from contest.admin.lists import STATUS_LABELS, back_to, chosen_contest, current_list_url
from contest.auth.policy import organizer_required
from contest.contests.models import Contest
from contest.entries import flags as entry_flags
from contest.extensions import db
from contest.voting import review as vote_review
from contest.voting import review_runs
from contest.voting.clusters import Case
from contest.voting.clusters.kinds import CLUSTER_LABELS, VOIDING_KINDS, ClusterKind, window
from contest.voting.models import Vote
from contest.voting.review_forms import (
    CaseFilterForm,
    CaseVoidForm,
    RestoreForm,
    RunReviewForm,
    VoidForm,
    VoteFilterForm,
)

bp = Blueprint("vote_review", __name__)

CASES_PER_PAGE = 50


def account_age(seconds: int) -> str:
    return format_timedelta(timedelta(seconds=seconds), threshold=1)


def since_view(milliseconds: int | None) -> str:
    if milliseconds is None:
        return _("no page view")
    return _("%(seconds)s s", seconds=f"{milliseconds / 1000:.1f}")


_VOTE_PAGE = {
    "account_age": account_age,
    "since_view": since_view,
    "cluster_labels": CLUSTER_LABELS,
    "voiding_kinds": VOIDING_KINDS,
    "window": window,
    "status_labels": STATUS_LABELS,
    "thumb_url": entry_flags.thumb_url,
}


# --- cases --------------------------------------------------------------------------------
@bp.get("/votes/cases")
@organizer_required
def vote_cases():
    """One case per suspected ring among the contest's valid votes, the most recent first."""
    contests = services.all_contests(db.session)
    form = CaseFilterForm(request.args, contests=contests)
    contest = chosen_contest(form, contests)
    page = {"form": form, "contest": contest, "cases": None, **_VOTE_PAGE}
    if contest is None or (request.args and not form.validate()):
        return render_template("voting/review_cases.html", **page), 400 if request.args else 200
    kind = ClusterKind(form.kind.data) if form.kind.data else None
    run, current = _run_of(contest)
    found = review_runs.run_cases(run, kind)
    number = form.page.data or 1
    shown = found[(number - 1) * CASES_PER_PAGE : number * CASES_PER_PAGE]
    page.update(
        cases=shown,
        total=len(found),
        page=number,
        has_next=len(found) > number * CASES_PER_PAGE,
        entries=vote_review.entries_of(db.session, {e for case in shown for e in case.entry_ids}),
        run=run,
        current=current,
        run_form=RunReviewForm(formdata=None),
    )
    return render_template("voting/review_cases.html", **page)


def _run_of(contest: Contest) -> tuple[review_runs.ReviewRun | None, bool]:
    """The stored review run the pages read (a small contest's computed again if votes changed)."""
    run, current = review_runs.current_run(db.session, contest.id)
    db.session.commit()
    return run, current


@bp.post("/votes/cases/run")
@organizer_required
def run_vote_review():
    """Examine the window's votes with every rule now and store the cases the pages show."""
    form = RunReviewForm()
    contest = db.session.get(Contest, request.args.get("contest", type=int) or 0) or abort(404)
    if not form.validate_on_submit():
        abort(400)
    run = review_runs.run_review(db.session, contest.id)
    db.session.commit()
    found = len(review_runs.run_cases(run))
    flash(
        ngettext(
            "The review ran in %(seconds)s s: %(num)d case found.",
            "The review ran in %(seconds)s s: %(num)d cases found.",
            found,
            seconds=f"{run.seconds:.1f}",
        ),
        "success",
    )
    return redirect(url_for("vote_review.vote_cases", contest=contest.id))


def _case_contest() -> Contest:
    contest_id = request.args.get("contest", type=int)
    if contest_id is None:
        contests = services.all_contests(db.session)
        return contests[0] if contests else abort(404)
    return db.session.get(Contest, contest_id) or abort(404)


@bp.get("/votes/cases/<case_id>")
@organizer_required
def vote_case(case_id: str):
    contest = _case_contest()
    case = review_runs.find_run_case(_run_of(contest)[0], case_id)
    if case is None:
        return render_template("voting/review_case.html", contest=contest, case=None, **_VOTE_PAGE), 404
    return _case_page(
        contest, case, CaseVoidForm(formdata=None, case=case, votes=list(case.default_vote_ids))
    )


@bp.post("/votes/cases/<case_id>/void")
@organizer_required
def void_vote_case(case_id: str):
    """Void the votes the organizer selected; a case changed since it was shown voids nothing."""
    contest = _case_contest()
    case = review_runs.find_run_case(_run_of(contest)[0], case_id)
    if case is None:
        flash(
            _(
                "Nothing was voided: this case changed since you opened it, or its votes "
                "are already voided. Please look at the list again."
            ),
            "error",
        )
        return redirect(url_for("vote_review.vote_cases", contest=contest.id))
    form = CaseVoidForm(case=case)
    if not form.validate_on_submit():
        return _case_page(contest, case, form), 400
    voided = vote_review.void_case(db.session, case, form.votes.data, current_user, form.reason.data)
    db.session.commit()
    flash(ngettext("%(num)d vote was voided.", "%(num)d votes were voided.", voided), "success")
    left = len(case.vote_ids) - len(set(form.votes.data))
    if left:
        flash(
            ngettext("%(num)d vote of the case still counts.", "%(num)d votes of the case still count.", left)
        )
    return redirect(url_for("vote_review.vote_cases", contest=contest.id))


def _case_page(contest: Contest, case: Case, form: CaseVoidForm):
    entries = vote_review.entries_of(db.session, set(case.entry_ids))
    return render_template(
        "voting/review_case.html",
        contest=contest,
        case=case,
        entries=[entries[e] for e in case.entry_ids if e in entries],
        votes=vote_review.votes_by_id(db.session, case.vote_ids),
        selected=set(form.votes.data or ()),
        form=form,
        **_VOTE_PAGE,
    )


# --- votes by entry or voter ------------------------------------------------------------
@bp.get("/votes")
@organizer_required
def votes():
    """The contest's votes, newest first, filtered by entry, voter and state."""
    contests = services.all_contests(db.session)
    form = VoteFilterForm(request.args, contests=contests)
    contest = chosen_contest(form, contests)
    page = {"form": form, "contest": contest, "result": None, **_VOTE_PAGE}
    if contest is None or (request.args and not form.validate()):
        return render_template("admin/votes.html", **page), 400 if request.args else 200
    page["result"] = vote_review.votes_page(
        db.session,
        contest.id,
        entry_code=form.entry.data or "",
        voter_email=form.voter.data or "",
        state=form.state.data,
        page=form.page.data or 1,
    )
    # Empty forms: each row renders its reason field under its own id.
    page.update(void_form=VoidForm(formdata=None), restore_form=RestoreForm(formdata=None))
    return render_template("admin/votes.html", back=current_list_url(), **page)


@bp.route("/votes/<int:vote_id>/void", methods=["GET", "POST"])
@organizer_required
def void_vote(vote_id: int):
    return _vote_action(vote_id, VoidForm, vote_review.void_vote, "void")


@bp.route("/votes/<int:vote_id>/restore", methods=["GET", "POST"])
@organizer_required
def restore_vote(vote_id: int):
    return _vote_action(vote_id, RestoreForm, vote_review.restore_vote, "restore")


def _vote_action(vote_id: int, form_class, act, action: str):
    """Void or restore one vote with a reason; the list posts here, this page shows a refused form."""
    vote = db.session.get(Vote, vote_id, with_for_update=request.method == "POST") or abort(404)
    form = form_class(next=request.args.get("next", ""))
    if form.validate_on_submit():
        if act(db.session, vote, current_user, form.reason.data):
            db.session.commit()
            flash(_("The vote is voided.") if action == "void" else _("The vote counts again."), "success")
        else:
            flash(
                _("Nothing changed: the vote was already voided.")
                if action == "void"
                else _("Nothing changed: the vote already counts."),
                "error",
            )
        return redirect(back_to(form.next.data, "vote_review.votes"))
    status = 400 if form.is_submitted() else 200
    cancel = back_to(form.next.data, "vote_review.votes")
    return render_template(
        "admin/vote_action.html", vote=vote, form=form, action=action, cancel=cancel, **_VOTE_PAGE
    ), status
