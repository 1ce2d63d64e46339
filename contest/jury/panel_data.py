"""What a judge's panel reads: their rounds and progress, their assignments in a round, and the
entry being judged.

Blind by construction: nothing here reads an entry's author, its votes or another judge's
work. An entry is shown by its code, title, description, category, place and media; the
original is the jury's copy without metadata, downloaded under the entry's code, never under
the name it was uploaded with.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset
from contest.gallery import pictures
from contest.jury.models import Assignment, AssignmentState, JuryMember, Round, RoundStatus, Score
from contest.jury.scores import finished
from contest.media.publication import rendition_url
from contest.storage import get_storage

GRID_PAGE = 48  # entries per page of a judge's grid
NEARBY = 50  # assignments looked at first for the next one to judge
# Originals a browser shows in an <img> (a HEIC original zooms to its largest rendition).
ZOOMABLE = frozenset({"image/jpeg", "image/png", "image/webp"})
DISPLAY = (AssetKind.display_webp, AssetKind.display_jpeg)
POSTER = (AssetKind.poster_webp, AssetKind.poster_jpeg)


@dataclass(frozen=True)
class Progress:
    done: int
    assigned: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.assigned) if self.assigned else 100


@dataclass(frozen=True)
class GridItem:
    assignment_id: int
    code: str
    title: str
    state: str  # "done", "todo" or "recused"
    picture: pictures.Picture | None
    rank: int | None = None


@dataclass(frozen=True)
class Original:
    """One uploaded file as the judge gets it: its jury copy, which names no author (issue 15)."""

    zoom_url: str | None  # shown in the browser (None: not an image it can show, or not ready)
    download_url: str | None  # None: the jury copy is still being made (worker.blind)


@dataclass(frozen=True)
class Shot:
    """One photo (or a video's poster) as the panel shows it: its display image."""

    src: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class JudgedEntry:
    code: str
    title: str
    description: str
    kind: str
    category: str
    place: str
    photos: list[Shot]
    videos: list[pictures.VideoSource]
    poster: Shot | None
    originals: list[Original]


def _mine(round_: Round, judge_id: int):
    return and_(Assignment.round_id == round_.id, Assignment.judge_id == judge_id)


def my_rounds(session: Session, judge_id: int) -> list[tuple[Round, Progress]]:
    """The rounds of the contests where the judge is on the jury: open ones, and closed ones
    where they had entries; soonest closing first."""
    member_of = select(JuryMember.contest_id).where(
        JuryMember.judge_id == judge_id, JuryMember.removed_at.is_(None)
    )
    dealt = select(Assignment.round_id).where(Assignment.judge_id == judge_id)
    rounds = session.scalars(
        select(Round)
        .where(Round.contest_id.in_(member_of), Round.status != RoundStatus.draft)
        .where(or_(Round.status == RoundStatus.open, Round.id.in_(dealt)))
        .order_by(Round.status != RoundStatus.open, Round.closes_at, Round.id)
    ).all()
    return [(r, progress(session, r, judge_id)) for r in rounds]


def progress(session: Session, round_: Round, judge_id: int) -> Progress:
    """How many of the judge's entries (not recused) are judged, in one query."""
    done, assigned = session.execute(
        select(func.count(case((finished(round_), 1))), func.count()).where(
            _mine(round_, judge_id), Assignment.state == AssignmentState.assigned
        )
    ).one()
    return Progress(done, assigned)


def next_to_judge(session: Session, round_: Round, judge_id: int, after: int = 0) -> int | None:
    """The judge's next unfinished assignment after ``after`` (in their order), else the first.

    Looked for among the next NEARBY first: "unfinished" is a subquery per row, and the next
    one to judge is nearly always close by (a save-and-next stays a few cheap queries)."""
    mine = select(Assignment.id).where(_mine(round_, judge_id), Assignment.state == AssignmentState.assigned)
    nearby = mine.where(Assignment.id > after).order_by(Assignment.id).limit(NEARBY).subquery()
    unfinished = select(Assignment.id).where(~finished(round_)).order_by(Assignment.id).limit(1)
    found = session.scalar(unfinished.join(nearby, nearby.c.id == Assignment.id))
    if found is not None:
        return found
    todo = unfinished.where(_mine(round_, judge_id), Assignment.state == AssignmentState.assigned)
    return session.scalar(todo.where(Assignment.id > after)) or session.scalar(
        todo.where(Assignment.id < after)
    )


def neighbours(
    session: Session, round_: Round, judge_id: int, assignment_id: int
) -> tuple[int | None, int | None]:
    """The judge's previous and next assignment (not recused) in their order."""
    mine = select(Assignment.id).where(_mine(round_, judge_id), Assignment.state == AssignmentState.assigned)
    before = session.scalar(mine.where(Assignment.id < assignment_id).order_by(Assignment.id.desc()).limit(1))
    after = session.scalar(mine.where(Assignment.id > assignment_id).order_by(Assignment.id).limit(1))
    return before, after


def grid(
    session: Session, round_: Round, judge_id: int, state: str = "", page: int = 1
) -> tuple[list[GridItem], int]:
    """A page of the judge's entries with their state, filtered by state; and the number of pages."""
    done = finished(round_)
    shown = case(
        (Assignment.state == AssignmentState.recused, "recused"), (done, "done"), else_="todo"
    ).label("shown")
    query = (
        select(Assignment.id, Entry.id, Entry.code, Entry.title, shown, Assignment.rank)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(_mine(round_, judge_id))
    )
    if state in ("done", "todo", "recused"):
        query = query.where(shown == state)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.execute(
        query.order_by(Assignment.id).limit(GRID_PAGE).offset((max(page, 1) - 1) * GRID_PAGE)
    ).all()
    thumbs = _thumbnails(session, [row[1] for row in rows])
    items = [
        GridItem(a_id, code, title, shown_state, thumbs.get(entry_id), rank)
        for a_id, entry_id, code, title, shown_state, rank in rows
    ]
    return items, max(1, -(-total // GRID_PAGE))


def ranking_list(session: Session, round_: Round, judge_id: int) -> list[GridItem]:
    """The judge's shortlist in their order: ranked ones first by rank, then the others."""
    rows = session.execute(
        select(Assignment.id, Entry.id, Entry.code, Entry.title, Assignment.rank)
        .join(Entry, Entry.id == Assignment.entry_id)
        .where(_mine(round_, judge_id), Assignment.state == AssignmentState.assigned)
        .order_by(Assignment.rank.is_(None), Assignment.rank, Assignment.id)
    ).all()
    thumbs = _thumbnails(session, [row[1] for row in rows])
    return [
        GridItem(a_id, code, title, "done" if rank else "todo", thumbs.get(entry_id), rank)
        for a_id, entry_id, code, title, rank in rows
    ]


def _thumbnails(session: Session, entry_ids: list[int]) -> dict[int, pictures.Picture]:
    """Each entry's first thumbnail (a video's poster), read in one query."""
    if not entry_ids:
        return {}
    kinds = (AssetKind.thumb_jpeg, AssetKind.thumb_webp, AssetKind.poster_jpeg, AssetKind.poster_webp)
    found, public = defaultdict(list), {}
    for asset, status in session.execute(
        select(MediaAsset, Entry.status)
        .join(Entry, Entry.id == MediaAsset.entry_id)
        .where(MediaAsset.entry_id.in_(entry_ids), MediaAsset.kind.in_(kinds), MediaAsset.position == 0)
    ):
        found[asset.entry_id].append(asset)
        public[asset.entry_id] = status is EntryStatus.approved
    ladder = pictures.PHOTO_LADDER[:1] + pictures.POSTER_LADDER
    return {
        entry_id: pictures.picture(assets, 0, ladder, public=public[entry_id])
        for entry_id, assets in found.items()
    }


def judged_entry(session: Session, entry_id: int) -> JudgedEntry:
    """What the judge sees of an entry: its work, not its author."""
    entry = session.scalar(
        select(Entry)
        .where(Entry.id == entry_id)
        .options(selectinload(Entry.assets), joinedload(Entry.category), joinedload(Entry.place))
    )
    assets, public = entry.assets, entry.media_is_public
    positions = sorted({a.position for a in assets if a.kind in DISPLAY})
    videos = pictures.video_sources(assets, public=public)
    videos.sort(key=lambda v: -(v.height or 0))  # the judge sees the best rendition
    return JudgedEntry(
        code=entry.code,
        title=entry.title,
        description=entry.description,
        kind=entry.category.kind.value,
        category=entry.category.name,
        place=entry.place.name,
        photos=[_shot(assets, n, DISPLAY, public) for n in positions],
        videos=videos,
        poster=_shot(assets, 0, POSTER, public),
        originals=_originals(entry),
    )


def _shot(assets, position: int, kinds: tuple[AssetKind, ...], public: bool) -> Shot | None:
    """The first of ``kinds`` (WebP before JPEG) at ``position``."""
    found = {a.kind: a for a in assets if a.position == position and a.label == ""}
    asset = next((found[k] for k in kinds if k in found), None)
    if asset is None:
        return None
    return Shot(rendition_url(asset.storage_key, public=public), asset.width, asset.height)


def _originals(entry: Entry) -> list[Original]:
    """Signed URLs of each uploaded file's jury copy, downloaded as ``<code>.<ext>`` (``<code>-<n>.<ext>``
    in a series). Never the file as uploaded: its metadata can name the author (worker.blind
    makes the copy without it); while a copy is missing, its Original has no URL."""
    storage, originals = get_storage(), entry.originals()
    found = []
    for n, original in enumerate(originals, start=1):
        copy = entry.asset(AssetKind.jury_original, original.position)
        if copy is None:
            found.append(Original(None, None))
            continue
        suffix = PurePosixPath(copy.storage_key).suffix.lower()
        name = f"{entry.code}{f'-{n}' if len(originals) > 1 else ''}{suffix}"
        zoom = storage.url(copy.storage_key) if copy.mime_type in ZOOMABLE else None
        found.append(Original(zoom, storage.url(copy.storage_key, download_name=name)))
    return found


def display_image_url(session: Session, assignment_id: int) -> str | None:
    """The URL of the first image the assignment's page shows, for the browser to fetch ahead."""
    entry = session.scalar(
        select(Entry)
        .join(Assignment, Assignment.entry_id == Entry.id)
        .where(Assignment.id == assignment_id)
        .options(selectinload(Entry.assets))
    )
    shot = entry and _shot(entry.assets, 0, DISPLAY + POSTER, entry.media_is_public)
    return shot.src if shot else None


def my_values(session: Session, round_: Round, assignment: Assignment) -> dict[int, float]:
    """The judge's own values on each criterion of this assignment."""
    criteria = {c.id: c for c in round_.criteria}
    rows = session.execute(
        select(Score.criterion_id, Score.steps).where(Score.assignment_id == assignment.id)
    )
    return {cid: criteria[cid].value(steps) for cid, steps in rows if cid in criteria}
