"""Voting: the vote button on an entry page, the voter's own votes, the audience ranking.

The organizers' audience prizes page lives with the other winners, in contest.results."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from contest.auth.policy import is_anonymous, session_login
from contest.botcheck import bot_check_passes, vote_bot_check_widget
from contest.contests.models import Contest, VotePolicy, current_contest
from contest.entries.models import Entry, EntryStatus
from contest.extensions import db
from contest.gallery import listing
from contest.gallery.cache import caches, ttl_s
from contest.ops import metrics
from contest.ratelimit import counts_own_limits, within
from contest.results.audience import monthly_awards
from contest.voting import counts, eligibility, services, statement
from contest.voting.ballot import BallotContest, BallotEntry, BallotVoter, ballot
from contest.voting.forms import VoteForm
from contest.voting.services import VoteRefused
from contest.voting.signals import VoteSignals

bp = Blueprint("voting", __name__)

VIEW_TOKEN_SALT = "entry-view"
VIEW_TOKEN_MAX_AGE_S = 24 * 3600


# --- the vote box (used by the entry page) -----------------------------------------------
def _view_serializer() -> URLSafeTimedSerializer:
    return _serializer(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _serializer(secret: str) -> URLSafeTimedSerializer:
    # Made once per key: building one probes its JSON module, a cost on every vote.
    return URLSafeTimedSerializer(secret, salt=VIEW_TOKEN_SALT)


def view_token(entry: Entry) -> str:
    """A signed note of when this entry's page was served (a signal kept with the vote)."""
    return _view_serializer().dumps(entry.id)


def read_view_token(token: str | None) -> tuple[int, datetime] | None:
    """(entry id, when its page was served) from a valid, fresh view token; else None."""
    if not token:
        return None
    try:
        entry_id, signed_at = _view_serializer().loads(
            token, max_age=VIEW_TOKEN_MAX_AGE_S, return_timestamp=True
        )
    except BadSignature:
        return None
    return entry_id, signed_at.astimezone(UTC)


def viewed_at(token: str | None, entry: Entry | BallotEntry) -> datetime | None:
    found = read_view_token(token)
    return found[1] if found is not None and found[0] == entry.id else None


def vote_box(contest: Contest, entry: Entry) -> dict:
    """What the vote button shows for the current visitor: its state, the count, the form.

    The box says the same after a vote as on the page loaded again: the script puts the
    "voted" state, rendered here beside the button (``votes_left_after``), in the button's
    place."""
    state = _state(contest, entry)
    votes_left = (
        services.votes_left_today(db.session, contest, current_user.id)
        if current_user.is_authenticated
        else None
    )
    return {
        "entry": entry,
        "state": state,
        "refusal": _refusal_text(contest, state),
        "count": _shown_count(entry) if contest.vote_counts_visible() else None,
        "closes_at": contest.voting_closes_at,
        "opens_at": contest.voting_opens_at,
        "daily": contest.vote_policy is not VotePolicy.once_per_entry,
        "votes_left": votes_left,
        "votes_left_after": max(0, votes_left - 1) if votes_left is not None else None,
        "form": VoteForm(formdata=None, view_token=view_token(entry)),
        "bot_check": vote_bot_check_widget(),
        "action": url_for("voting.vote", code=entry.code),
        "login_url": url_for("auth.login", next=request.path),
    }


def _shown_count(entry: Entry) -> int:
    """The count on the entry's page: a visitor's own page has the counter as it is; an
    anonymous visitor's (a page shared between them) has the gallery's copy of it, no
    newer nor older than the gallery's cards (contest.gallery.listing.vote_counts)."""
    if not is_anonymous():
        return entry.vote_count
    shown = listing.vote_counts(caches().counts, ttl_s(), db.session, (entry.id,))
    return shown.get(entry.id, entry.vote_count)


def _refusal_text(contest: Contest, state: str) -> str | None:
    """What the box says in a state that refuses a vote: the refused vote's own message."""
    if state not in services.REFUSALS or state in ("not_open", "voted", "not_votable"):
        return None
    return VoteRefused(state, count=contest.votes_per_day or 0).message


def _state(contest: Contest | BallotContest, entry: Entry | BallotEntry) -> str:
    if entry.status is not EntryStatus.approved:
        return "not_votable"
    if not contest.voting_open():
        return "not_open" if datetime.now(UTC) < contest.voting_opens_at else "closed"
    if not current_user.is_authenticated:
        return "login"
    if not current_user.is_verified:
        return "not_verified"
    refused = eligibility.refusal(contest, entry, current_user)
    if refused is not None:
        return refused
    if entry.id in services.voted_today(db.session, contest, current_user.id, [entry.id]):
        return "voted"
    if services.votes_left_today(db.session, contest, current_user.id) == 0:
        return "daily_quota_used"
    return "open"


# --- casting a vote ----------------------------------------------------------------------
def _within_rate_limits(voter_id: int | None) -> bool:
    """The vote's rate limits (VOTE_RATE_LIMIT per account, VOTE_RATE_LIMIT_PER_ADDRESS per
    client address), counted in Flask-Limiter's storage (contest.ratelimit.within)."""
    config = current_app.config
    voter_id = voter_id or (current_user.id if current_user.is_authenticated else None)
    per_voter = voter_id is None or within(config["VOTE_RATE_LIMIT"], "vote", "voter", str(voter_id))
    per_address = within(config["VOTE_RATE_LIMIT_PER_ADDRESS"], "vote", "address", request.remote_addr or "")
    return per_voter and per_address


def _wants_json() -> bool:
    accept = request.headers.get("Accept", "")
    if accept == "application/json":  # what the vote button's script sends: no header to parse
        return True
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"


@bp.post("/e/<code>/vote")
@counts_own_limits
def vote(code: str):
    """Count the logged-in voter's vote (CSRFProtect has checked the form's token already).

    The hot path (PostgreSQL, a voter named by the session) is one statement that checks
    every rule and writes the vote with its counters (statement.quick_vote); a second vote
    for the same entry (a double click), or one by someone who may not vote for it
    (contest.voting.eligibility), is refused by that same statement. When it writes
    nothing for another reason, the general path finds out why and tells the voter in their
    language.
    """
    login = session_login()
    if not _within_rate_limits(login[0] if login else None):
        abort(429)
    human = None  # the bot check is asked at most once: a CAPTCHA answer is good for one use
    if login is not None:
        human = bot_check_passes(request)
        if human:
            quick = _quick_vote(code, *login)
            if quick is not None:
                count = quick.entry_count if quick.counts_visible else None
                if quick.refusal is not None:  # the statement knows the reason for sure
                    message = VoteRefused(quick.refusal).message
                    return _refused(code.upper(), message, count, state=_state_after(quick.refusal))
                return _counted(code.upper(), count)
    found = ballot(db.session, code, login)
    if found is None:
        abort(404)
    contest, entry = found.contest, found.entry
    voter = found.voter or _voter_from_login()
    if voter is None:
        login_url = url_for("auth.login", next=url_for("gallery.entry", code=entry.code))
        if _wants_json():
            return jsonify(ok=False, message=_("Please log in to vote."), login_url=login_url), 401
        return redirect(login_url)
    if not (bot_check_passes(request) if human is None else human):
        message = _("Please answer the check question correctly to vote.")
        return _answer(contest, entry, message=message, status=400)
    signals = VoteSignals(
        address=request.remote_addr or "",
        user_agent=request.user_agent.string,
        viewed_at=viewed_at(request.form.get("view_token"), entry),
    )
    try:
        counted = services.record_vote(
            db.session,
            contest=contest,
            entry=entry,
            voter=voter,
            signals=signals,
            secret=current_app.config["SECRET_KEY"],
        )
    except VoteRefused as refused:
        db.session.rollback()
        return _answer(contest, entry, message=refused.message, status=409)
    db.session.commit()
    return _counted(entry.code, counted.entry_count if contest.vote_counts_visible() else None)


def _quick_vote(code: str, voter_id: int, login_session: str) -> statement.QuickVote | None:
    viewed = read_view_token(request.form.get("view_token"))
    return statement.quick_vote(
        db.vote_engine,
        code=code,
        voter_id=voter_id,
        login_session=login_session,
        signals=VoteSignals(
            address=request.remote_addr or "",
            user_agent=request.user_agent.string,
            viewed_at=viewed[1] if viewed else None,
        ),
        viewed_entry_id=viewed[0] if viewed else None,
        secret=current_app.config["SECRET_KEY"],
    )


def _state_after(refusal: str) -> str:
    """The button's state after the statement refused a vote: a second vote reads as voted."""
    return "voted" if refusal in statement.ONCE_PER_ENTRY_REFUSALS.values() else refusal


def _counted(code: str, count: int | None):
    """The answer to a counted vote; ``count`` is None while counts are hidden."""
    metrics.count_vote("counted")
    message = _("Thank you: your vote is counted.")
    if _wants_json():  # the count comes back from the vote's own UPDATE: no further query
        return jsonify(ok=True, message=message, count=count, state="voted")
    flash(message, "success")
    return redirect(url_for("gallery.entry", code=code))


def _refused(code: str, message: str, count: int | None, state: str, status: int = 409):
    """The answer to a refused vote: JSON for the page's script, else a message on the entry page."""
    metrics.count_vote("refused")
    if _wants_json():
        return jsonify(ok=False, message=message, count=count, state=state), status
    flash(message, "error")
    return redirect(url_for("gallery.entry", code=code))


def _voter_from_login() -> BallotVoter | None:
    """The voter when the session did not name one: Flask-Login's other ways (remember cookie)."""
    return BallotVoter.of(current_user) if current_user.is_authenticated else None


def _public_entry(contest: Contest | None, code: str) -> Entry:
    if contest is None:
        abort(404)
    entry = db.session.scalar(select(Entry).where(Entry.contest_id == contest.id, Entry.code == code.upper()))
    if entry is None or entry.status is not EntryStatus.approved:
        abort(404)
    return entry


def _answer(contest: BallotContest, entry: BallotEntry, *, message: str, status: int):
    """The answer to a vote refused on the general path (the state and count read again)."""
    if not _wants_json():
        return _refused(entry.code, message, None, "", status)
    count = (
        db.session.scalar(select(Entry.vote_count).where(Entry.id == entry.id))
        if contest.vote_counts_visible()
        else None
    )
    return _refused(entry.code, message, count, _state(contest, entry), status)


@bp.get("/e/<code>/votes.json")
def count(code: str):
    """The entry's count for the page to refresh now and then (None while counts are hidden):
    the gallery's copy of it, as every anonymous page shows (shared caches keep this answer)."""
    contest = current_contest(db.session)
    entry = _public_entry(contest, code)
    shown = listing.vote_counts(caches().counts, ttl_s(), db.session, (entry.id,)).get(entry.id)
    response = jsonify(count=shown if contest.vote_counts_visible() else None)
    response.headers["Cache-Control"] = "public, max-age=10"
    return response


# --- the voter's own votes -------------------------------------------------------------
@bp.get("/votes/mine")
@login_required
def mine():
    contest = current_contest(db.session)
    votes = services.votes_of(db.session, contest, current_user.id) if contest else []
    left = services.votes_left_today(db.session, contest, current_user.id) if contest else None
    return render_template("voting/mine.html", contest=contest, votes=votes, votes_left=left)


# --- audience ranking --------------------------------------------------------------------
@bp.get("/ranking")
def ranking():
    contest = current_contest(db.session)
    if contest is None:
        abort(404)
    visible = contest.vote_counts_visible()
    columns = (
        [
            (category, counts.places(counts.live_ranking(db.session, contest, category, limit=10)))
            for category in contest.categories
        ]
        if visible
        else []
    )
    months = monthly_awards(db.session, contest) if visible else []
    return render_template(
        "voting/ranking.html", contest=contest, visible=visible, columns=columns, months=months
    )
