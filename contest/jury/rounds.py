"""Rounds: creating them with their criteria, the entries they take, open, close, reopen,
disqualify and restore. Every change is an audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session

from contest.audit.services import record
from contest.contests.models import Category, Contest
from contest.db import now_utc
from contest.entries.models import Entry, EntryStatus
from contest.jury import selection
from contest.jury.dealing import deal_round
from contest.jury.errors import JuryRefused
from contest.jury.models import Criterion, Round, RoundEntry, RoundKind, RoundStatus, SourceRule
from contest.media import jury_copies


@dataclass(frozen=True)
class CriterionSpec:
    name_vi: str
    name_en: str
    weight: float = 1.0
    scale_min: float = 0.0
    scale_max: float = 10.0
    scale_step: float = 1.0


@dataclass(frozen=True)
class RoundSpec:
    name_vi: str
    name_en: str
    kind: RoundKind
    opens_at: datetime
    closes_at: datetime
    categories: tuple[Category, ...]
    quorum: int | None = None  # None: a full panel
    criteria: tuple[CriterionSpec, ...] = ()
    source_rule: SourceRule = SourceRule.approved_entries
    source_round: Round | None = None
    source_threshold: float | None = None


def create_round(session: Session, contest: Contest, spec: RoundSpec, *, actor_id: int | None) -> Round:
    """A draft round with its criteria; its entries are taken and dealt when it opens."""
    _check_spec(contest, spec)
    round_ = Round(
        contest_id=contest.id,
        name_vi=spec.name_vi,
        name_en=spec.name_en,
        kind=spec.kind,
        opens_at=spec.opens_at,
        closes_at=spec.closes_at,
        quorum=spec.quorum,
        source_rule=spec.source_rule,
        source_round_id=spec.source_round.id if spec.source_round else None,
        source_threshold=spec.source_threshold,
    )
    round_.categories = list(spec.categories)
    round_.criteria = [_criterion(c, position) for position, c in enumerate(spec.criteria)]
    session.add(round_)
    session.flush()
    _audit(session, round_, actor_id, "round.created")
    return round_


def update_round(session: Session, round_: Round, spec: RoundSpec, *, actor_id: int | None) -> None:
    """Change a draft round's settings (once open, its entries and deal depend on them)."""
    if round_.status is not RoundStatus.draft:
        raise JuryRefused(_l("Only a draft round can be edited."))
    contest = session.get(Contest, round_.contest_id)
    _check_spec(contest, spec)
    if spec.source_round is not None and spec.source_round.id >= round_.id:
        raise JuryRefused(_l("The previous round must be of this contest and of the kind the rule reads."))
    for name in ("name_vi", "name_en", "kind", "opens_at", "closes_at", "quorum", "source_rule"):
        setattr(round_, name, getattr(spec, name))
    round_.source_round_id = spec.source_round.id if spec.source_round else None
    round_.source_threshold = spec.source_threshold
    round_.categories = list(spec.categories)
    round_.criteria = [_criterion(c, position) for position, c in enumerate(spec.criteria)]
    session.flush()
    _audit(session, round_, actor_id, "round.edited")


def _check_spec(contest: Contest, spec: RoundSpec) -> None:
    if not spec.categories or any(c.contest_id != contest.id for c in spec.categories):
        raise JuryRefused(_l("Choose at least one category of this contest."))
    if spec.opens_at >= spec.closes_at:
        raise JuryRefused(_l("The round must close after it opens."))
    if spec.quorum is not None and spec.quorum < 1:
        raise JuryRefused(_l("The number of judges per entry must be at least 1."))
    if (spec.kind is RoundKind.score) != bool(spec.criteria):
        raise JuryRefused(_l("A score round needs criteria, and only a score round has them."))
    if spec.source_rule is not SourceRule.approved_entries:
        selection.check_source(contest.id, spec.source_rule, spec.source_round, spec.source_threshold)


def _criterion(spec: CriterionSpec, position: int) -> Criterion:
    """A criterion whose scale is a whole number of steps from its minimum to its maximum."""
    steps = round((spec.scale_max - spec.scale_min) / spec.scale_step) if spec.scale_step > 0 else 0
    exact = abs(spec.scale_min + steps * spec.scale_step - spec.scale_max) < 1e-9
    if spec.weight <= 0 or steps < 1 or not exact:
        raise JuryRefused(_l("A criterion needs a positive weight and a scale made of whole steps."))
    return Criterion(
        name_vi=spec.name_vi,
        name_en=spec.name_en,
        weight=spec.weight,
        scale_min=spec.scale_min,
        scale_step=spec.scale_step,
        max_steps=steps,
        position=position,
    )


def open_round(session: Session, round_: Round, *, actor_id: int | None, seed: int | None = None) -> None:
    """Open a draft round: take its entries and deal them to the jury."""
    if round_.status is not RoundStatus.draft:
        raise JuryRefused(_l("Only a draft round can be opened; a closed one is reopened with a reason."))
    round_.transition(RoundStatus.open)
    take_entries(session, round_)
    # Entries processed before the media jobs made jury copies get theirs (issue 15).
    jury_copies.send_after_commit_for(
        session, select(RoundEntry.entry_id).where(RoundEntry.round_id == round_.id)
    )
    deal_round(session, round_, actor_id=actor_id, why="opened", seed=seed)
    _audit(session, round_, actor_id, "round.opened")


def take_entries(session: Session, round_: Round) -> int:
    """Put the round's entries in it (in one statement) from its source; returns how many."""
    if round_.source_rule is SourceRule.approved_entries:
        category_ids = [c.id for c in round_.categories]
        entry_ids = select(Entry.id).where(
            Entry.contest_id == round_.contest_id,
            Entry.category_id.in_(category_ids),
            Entry.status == EntryStatus.approved,
        )
    else:
        source = session.get(Round, round_.source_round_id)
        passing = selection.passing(session, source, round_.source_rule, round_.source_threshold)
        if not passing:
            return 0
        entry_ids = select(Entry.id).where(Entry.id.in_(passing))
    rows = entry_ids.add_columns(literal(round_.id), literal(now_utc(), RoundEntry.added_at.type))
    session.execute(insert(RoundEntry.__table__).from_select(["entry_id", "round_id", "added_at"], rows))
    return session.scalar(select(func.count()).where(RoundEntry.round_id == round_.id))


def close_round(session: Session, round_: Round, *, actor_id: int | None) -> None:
    """Close an open round: its scores become read-only (contest.jury.scores refuses edits)."""
    _lock(session, round_)
    _move(round_, RoundStatus.closed)
    _audit(session, round_, actor_id, "round.closed")


def reopen_round(session: Session, round_: Round, reason: str, *, actor_id: int | None) -> None:
    """Open a closed round again, for a reason that the audit log keeps."""
    if not reason.strip():
        raise JuryRefused(_l("Please give the reason for reopening the round."))
    _lock(session, round_)
    _move(round_, RoundStatus.open)
    _audit(session, round_, actor_id, "round.reopened", reason=reason.strip())
    if round_.seed is not None:  # the jury may have changed while it was closed
        deal_round(session, round_, actor_id=actor_id, why="reopened")


def disqualify(session: Session, round_: Round, entry_id: int, reason: str, *, actor_id: int | None) -> None:
    """Take an entry out of the round's results, with a reason; its scores stay, to restore it."""
    if not reason.strip():
        raise JuryRefused(_l("Please give the reason for the disqualification."))
    row = _round_entry(session, round_, entry_id)
    if row.disqualified_at is None:
        row.disqualified_at, row.disqualified_reason = now_utc(), reason.strip()
        _audit(
            session, round_, actor_id, "round.entry_disqualified", reason=reason.strip(), entry_id=entry_id
        )


def restore(session: Session, round_: Round, entry_id: int, *, actor_id: int | None) -> None:
    """Put a disqualified entry back in the round (and deal it, if it still lacks judges)."""
    row = _round_entry(session, round_, entry_id)
    if row.disqualified_at is None:
        return
    row.disqualified_at = row.disqualified_reason = None
    _audit(session, round_, actor_id, "round.entry_restored", entry_id=entry_id)
    session.flush()
    if round_.seed is not None and round_.status is not RoundStatus.closed:
        deal_round(session, round_, actor_id=actor_id, why="entry_restored")


def _round_entry(session: Session, round_: Round, entry_id: int) -> RoundEntry:
    row = session.scalar(
        select(RoundEntry).where(RoundEntry.round_id == round_.id, RoundEntry.entry_id == entry_id)
    )
    if row is None:
        raise JuryRefused(_l("This entry is not in the round."))
    return row


def _lock(session: Session, round_: Round) -> None:
    """Wait for the saves under way (they hold a shared lock on the round's row)."""
    session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())


def _move(round_: Round, new: RoundStatus) -> None:
    try:
        round_.transition(new)
    except ValueError:
        raise JuryRefused(_l("The round cannot go from this state to that one.")) from None


def _audit(
    session: Session, round_: Round, actor_id: int | None, action: str, reason: str = "", **details
) -> None:
    record(
        session,
        actor_id=actor_id,
        action=action,
        subject_type="round",
        subject_id=round_.id,
        contest_id=round_.contest_id,
        reason=reason,
        details={"status": round_.status.value, **details},
    )
