"""Changing how results are reckoned: a round's tally settings, a contest's audience share.

Each change is an audit event with the old and the new values; services flush, the request
commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.jury.models import Round
from contest.results.models import (
    MAX_AUDIENCE_SHARE,
    AudienceMode,
    ResultsSettings,
    RoundTallySettings,
    format_tie_break,
)
from contest.results.sheet import TallySettings


def _tally_values(row: RoundTallySettings | None) -> dict:
    settings = row.as_settings() if row else TallySettings()
    return {
        "normalise": settings.normalise,
        "trimmed": settings.trimmed,
        "ranking_method": settings.ranking_method.value,
        "tie_break": format_tie_break(settings.tie_break),
    }


def save_tally_settings(session: Session, round_: Round, settings: TallySettings, *, actor_id: int) -> bool:
    """Record the round's tally settings; False (and no event) when nothing changed."""
    row = session.get(RoundTallySettings, round_.id)
    old = _tally_values(row)
    if row is None:
        row = RoundTallySettings(round_id=round_.id)
        session.add(row)
    row.normalise, row.trimmed = settings.normalise, settings.trimmed
    row.ranking_method = settings.ranking_method
    row.tie_break = format_tie_break(settings.tie_break)
    new = _tally_values(row)
    if new == old:
        return False
    record(
        session,
        actor_id=actor_id,
        action="results.tally_settings.changed",
        subject_type="round",
        subject_id=round_.id,
        contest_id=round_.contest_id,
        details={"old": old, "new": new},
    )
    session.flush()
    return True


def results_settings(session: Session, contest_id: int) -> ResultsSettings:
    """The contest's row, or the default (separate audience prize) not added to the session."""
    found = session.get(ResultsSettings, contest_id)
    return found or ResultsSettings(
        contest_id=contest_id, audience_mode=AudienceMode.separate, audience_share=0.0
    )


def save_audience_share(
    session: Session, contest_id: int, mode: AudienceMode, share: float, *, actor_id: int
) -> bool:
    """Public votes as a separate prize, or ``share`` (0 < share <= 0.5) of the final figure."""
    if mode is AudienceMode.separate:
        share = 0.0
    elif not 0 < share <= MAX_AUDIENCE_SHARE:
        raise ValueError(f"the audience share must be above 0 and at most {MAX_AUDIENCE_SHARE}")
    row = session.get(ResultsSettings, contest_id)
    old = {"mode": row.audience_mode.value, "share": row.audience_share} if row else None
    new = {"mode": mode.value, "share": share}
    if old == new or (old is None and mode is AudienceMode.separate):
        return False
    if row is None:
        row = ResultsSettings(contest_id=contest_id)
        session.add(row)
    row.audience_mode, row.audience_share = mode, share
    record(
        session,
        actor_id=actor_id,
        action="results.audience_share.changed",
        subject_type="contest",
        subject_id=contest_id,
        contest_id=contest_id,
        details={"old": old, "new": new},
    )
    session.flush()
    return True


def record_raw_export(session: Session, round_: Round, *, actor_id: int, marks: int) -> None:
    """The raw-score file left the site: who, when, which round."""
    record(
        session,
        actor_id=actor_id,
        action="results.raw_scores.exported",
        subject_type="round",
        subject_id=round_.id,
        contest_id=round_.contest_id,
        details={"what": "export of the raw-score file", "marks": marks},
    )
    session.flush()
