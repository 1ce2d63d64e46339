"""Organizer pages for the public vote: suspicious clusters, votes by entry or voter.

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
from contest.voting import clusters as detection
from contest.voting import review as vote_review
from contest.voting.clusters.kinds import CLUSTER_LABELS, Cluster, ClusterKind
from contest.voting.models import Vote
from contest.voting.review_forms import ClusterFilterForm, RestoreForm, VoidForm, VoteFilterForm

bp = Blueprint("vote_review", __name__)

CLUSTERS_PER_PAGE = 50


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
    "status_labels": STATUS_LABELS,
    "thumb_url": entry_flags.thumb_url,
}


# --- clusters -----------------------------------------------------------------------------
@bp.get("/votes/clusters")
@organizer_required
def vote_clusters():
    """Suspicious clusters of the contest's valid votes, the most recent first."""
    contests = services.all_contests(db.session)
    form = ClusterFilterForm(request.args, contests=contests)
    contest = chosen_contest(form, contests)
    page = {"form": form, "contest": contest, "clusters": None, **_VOTE_PAGE}
    if contest is None or (request.args and not form.validate()):
        return render_template("admin/vote_clusters.html", **page), 400 if request.args else 200
    kind = ClusterKind(form.kind.data) if form.kind.data else None
    found = vote_review.clusters(db.session, contest.id, kind)
    number = form.page.data or 1
    shown = found[(number - 1) * CLUSTERS_PER_PAGE : number * CLUSTERS_PER_PAGE]
    page.update(
        clusters=shown,
        total=len(found),
        page=number,
        has_next=len(found) > number * CLUSTERS_PER_PAGE,
        entries=vote_review.entries_of(db.session, {c.entry_id for c in shown}),
    )
    return render_template("admin/vote_clusters.html", **page)


def _cluster_kind() -> ClusterKind | None:
    """The kind the link names, so that only that pattern is searched again."""
    kind = request.args.get("kind", "")
    return ClusterKind(kind) if kind in ClusterKind.__members__ else None


def _cluster_contest() -> Contest:
    contest_id = request.args.get("contest", type=int)
    if contest_id is None:
        contests = services.all_contests(db.session)
        return contests[0] if contests else abort(404)
    return db.session.get(Contest, contest_id) or abort(404)


@bp.get("/votes/clusters/<cluster_id>")
@organizer_required
def vote_cluster(cluster_id: str):
    contest = _cluster_contest()
    cluster = detection.find(db.session, contest.id, cluster_id, _cluster_kind())
    if cluster is None:
        return render_template("admin/vote_cluster.html", contest=contest, cluster=None, **_VOTE_PAGE), 404
    return _cluster_page(contest, cluster, VoidForm(formdata=None))


@bp.post("/votes/clusters/<cluster_id>/void")
@organizer_required
def void_vote_cluster(cluster_id: str):
    contest = _cluster_contest()
    cluster = detection.find(db.session, contest.id, cluster_id, _cluster_kind())
    if cluster is None:
        flash(
            _(
                "Nothing was voided: this cluster changed since you opened it, or its votes "
                "are already voided. Please look at the list again."
            ),
            "error",
        )
        return redirect(url_for("vote_review.vote_clusters", contest=contest.id))
    form = VoidForm()
    if not form.validate_on_submit():
        return _cluster_page(contest, cluster, form), 400
    voided = vote_review.void_cluster(db.session, cluster, current_user, form.reason.data)
    db.session.commit()
    flash(ngettext("%(num)d vote was voided.", "%(num)d votes were voided.", voided), "success")
    return redirect(url_for("vote_review.vote_clusters", contest=contest.id))


def _cluster_page(contest: Contest, cluster: Cluster, form: VoidForm):
    return render_template(
        "admin/vote_cluster.html",
        contest=contest,
        cluster=cluster,
        entry=vote_review.entries_of(db.session, {cluster.entry_id}).get(cluster.entry_id),
        votes=vote_review.votes_by_id(db.session, cluster.vote_ids),
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
