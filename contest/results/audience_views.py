"""The organizers' audience prizes page: the official tally of the public vote."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from contest.auth.policy import organizer_required
from contest.contests.models import current_contest
from contest.extensions import db
from contest.results.audience import category_awards, monthly_awards
from contest.voting.counts import vote_totals

bp = Blueprint("audience", __name__)


@bp.get("/admin/audience")
@organizer_required
def audience():
    """The official audience tally, read from the valid votes themselves."""
    contest = current_contest(db.session) or abort(404)
    total_votes, voided_votes = vote_totals(db.session, contest.id)
    return render_template(
        "results/audience.html",
        contest=contest,
        awards=category_awards(db.session, contest),
        months=monthly_awards(db.session, contest),
        total_votes=total_votes,
        voided_votes=voided_votes,
    )
