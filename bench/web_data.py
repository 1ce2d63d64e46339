"""Data for the web benchmark: a contest with many approved entries and votes, loaded with COPY.

``load(url, shape, media_root)`` fills a migrated, empty PostgreSQL database:

- the demo edition (contest.contests.demo: 3 categories, 21 places) with its voting window
  opened ``VOTE_DAYS`` Vietnam days ago, policy "once per entry per day", counts shown live;
- one organizer, ``shape.authors`` entrants and ``shape.voters`` verified voters (all with
  the password ``PASSWORD``, hashed once with a cheap PBKDF2 so that logging hundreds of
  voters in before a run is quick; logging in is not what the bench measures);
- ``shape.entries`` approved entries (60 % photos, 25 % series of 3, 15 % videos; places
  skewed towards the city and the beach) with their original and rendition MediaAsset rows.
  Storage keys are unique (the schema says so), but each entry's folder under ``public/r/``
  is a symlink to one of three folders of real renditions (bench.web_media) made from a real
  photograph and a real video, so every page and image of the bench site works (on S3 too,
  for the entries whose objects are put there);
- ``shape.votes`` votes on the past ``VOTE_DAYS`` days (never today, so that the votes the
  bench casts are new): entries drawn from a Zipf law (s = 1) over a shuffled order, voters
  from a milder one (s = 0.6), days uniformly, each (entry, voter, day) once as the policy
  demands; 0.5 % voided by the organizer with a reason. The signals look like real ones
  (each voter has its own address, network and browser hashes).

``entries.vote_count`` and ``monthly_vote_counts`` are computed from the same generated
votes before anything is written, so the counters agree with the votes by construction
(``counts_consistent`` checks it in SQL afterwards, once the application has added its own
votes). ``entries.rank_votes`` (the "most voted" order's copy) is left at 0: the
application's own refresh (contest.gallery.ranks) fills it, as it would on a live site.
Everything goes in with psycopg's ``cursor.copy`` in one transaction, then ``VACUUM ANALYZE``.
"""

from __future__ import annotations

import bisect
import itertools
import random
import shutil
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from werkzeug.security import generate_password_hash

from bench.web_media import Rendition, link_entry_folders, make_renditions
from contest.auth.emails import canonical_email
from contest.timeutil import vn_day_start, vn_today

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-voter-password"
VOTE_DAYS = 60
SEED = 20250601
VOID_SHARE = 0.005
VOID_REASON = "Bench: votes of a fabricated account ring"
KINDS = (("photo", 0.60), ("photo-series", 0.25), ("video", 0.15))
SERIES_WORKS = 3

# Vietnamese names and photo titles, so that searches by author and by title find something.
FAMILY = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý",
)  # fmt: skip
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thu", "Ngọc", "Quang", "Thanh", "Xuân")
GIVEN = (
    "An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long",
    "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Trung", "Tuấn", "Vân", "Yến",
)  # fmt: skip
SUBJECTS = (
    "Bình minh",
    "Hoàng hôn",
    "Mùa lúa chín",
    "Biển sớm",
    "Chợ quê",
    "Làng sen",
    "Đồi chè",
    "Núi mây",
    "Sông Lam",
    "Nụ cười",
    "Lễ hội",
    "Thác nước",
    "Mùa hoa",
    "Ngư dân",
    "Phiên chợ",
    "Cánh đồng",
)


@dataclass(frozen=True)
class Shape:
    entries: int
    authors: int
    voters: int
    votes: int


@dataclass(frozen=True)
class Loaded:
    contest_id: int
    codes: list[str]  # entry codes, in id order
    voter_emails: list[str]  # the first voters (the ones a bench logs in)
    seconds: float


# --- the contest -----------------------------------------------------------------------------
def create_contest(url: str, opens_day: date) -> tuple[int, dict[str, int], list[int], str]:
    """The demo edition, voting open since ``opens_day``; (id, category ids by slug, place ids, prefix)."""
    from sqlalchemy.orm import Session

    from contest.contests.demo import build_demo_contest
    from contest.contests.models import VoteCountDisplay, VotePolicy
    from contest.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        contest, _ = build_demo_contest(session)
        contest.voting_opens_at = vn_day_start(opens_day)
        contest.vote_policy = VotePolicy.once_per_entry_per_day
        contest.vote_counts = VoteCountDisplay.live
        session.commit()
        result = (
            contest.id,
            {c.slug: c.id for c in contest.categories},
            [p.id for p in sorted(contest.places, key=lambda p: p.position)],
            contest.code_prefix,
        )
    engine.dispose()
    return result


# --- generation ------------------------------------------------------------------------------
def _zipf_cum(n: int, s: float) -> list[float]:
    return list(itertools.accumulate(1 / (k + 1) ** s for k in range(n)))


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def generate_votes(rng: random.Random, shape: Shape) -> list[tuple[int, int, int]]:
    """(entry index, voter index, day index) triples, distinct, ``shape.votes`` of them."""
    entry_order = list(range(shape.entries))
    rng.shuffle(entry_order)  # popularity does not follow the entry number
    entry_cum, voter_cum = _zipf_cum(shape.entries, 1.0), _zipf_cum(shape.voters, 0.6)
    voter_order = list(range(shape.voters))
    rng.shuffle(voter_order)
    seen: set[int] = set()
    votes: list[tuple[int, int, int]] = []
    while len(votes) < shape.votes:
        need = shape.votes - len(votes)
        entries = rng.choices(entry_order, cum_weights=entry_cum, k=need + need // 20)
        voters = rng.choices(voter_order, cum_weights=voter_cum, k=len(entries))
        for entry, voter in zip(entries, voters, strict=True):
            day = rng.randrange(VOTE_DAYS)
            key = (entry * shape.voters + voter) * VOTE_DAYS + day
            if key not in seen:
                seen.add(key)
                votes.append((entry, voter, day))
                if len(votes) == shape.votes:
                    break
    return votes


# --- loading ---------------------------------------------------------------------------------
def load(url: str, shape: Shape, media_root: Path, voters_returned: int = 0) -> Loaded:
    started = time.perf_counter()
    rng = random.Random(SEED)
    today = vn_today()
    opens_day = today - timedelta(days=VOTE_DAYS)
    contest_id, categories, places, prefix = create_contest(url, opens_day)
    renditions = make_renditions(media_root)
    kinds = rng.choices([slug for slug, _ in KINDS], weights=[w for _, w in KINDS], k=shape.entries)
    link_entry_folders(media_root, [f"shared-{slug}" for slug in kinds])
    votes = generate_votes(rng, shape)
    organizer_id, first_author, first_voter = 1, 2, 2 + shape.authors
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        _copy_users(cur, rng, shape, organizer_id, opens_day)
        rows, counts, monthly = _vote_rows(
            cur, rng, shape, votes, contest_id, first_voter, organizer_id, opens_day
        )
        _copy_entries(cur, rng, shape, contest_id, kinds, categories, places, prefix, first_author, counts)
        with without_indexes(cur, "media_assets"):
            _copy_assets(cur, kinds, renditions)
        with without_indexes(cur, "votes"):
            _copy_votes(cur, rows)
        _copy_monthly(cur, contest_id, monthly)
        for table in ("users", "entries", "media_assets", "votes"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        cur.execute("UPDATE contests SET entry_counter = %s WHERE id = %s", (shape.entries, contest_id))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return Loaded(
        contest_id=contest_id,
        codes=[f"{prefix}-{n:04d}" for n in range(1, shape.entries + 1)],
        voter_emails=[_voter_email(n) for n in range(voters_returned)],
        seconds=time.perf_counter() - started,
    )


@contextmanager
def without_indexes(cur, table: str):
    """Load ``table`` without its secondary indexes, unique and foreign keys, then rebuild them.

    What pg_restore does: building an index once over the loaded rows is far quicker than
    maintaining it row by row (2,000,000 votes: ~10 s against ~75 s). The definitions are read
    back from the catalog, so the rebuilt schema is exactly the migrated one.
    """
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
        (table,),
    )
    constraints = cur.fetchall()
    for name, _ in constraints:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    cur.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = %s::regclass AND NOT x.indisprimary",
        (table,),
    )
    indexes = cur.fetchall()
    for name, _ in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    yield
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in indexes:
        cur.execute(definition)
    for name, definition in constraints:
        cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _voter_email(n: int) -> str:
    return f"voter{n}@bench.happynghean.vn"


def _copy_users(cur, rng: random.Random, shape: Shape, organizer_id: int, opens_day: date) -> None:
    fast_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    opened = vn_day_start(opens_day)
    columns = "id, email, email_canonical, password_hash, full_name, country, birth_year, role, locale, active, email_verified_at, created_at"
    with cur.copy(f"COPY users ({columns}) FROM STDIN") as copy:
        people = [("organizer@bench.happynghean.vn", "Ban Tổ chức (bench)", "organizer")]
        people += [(f"author{n}@bench.happynghean.vn", None, "entrant") for n in range(shape.authors)]
        people += [(_voter_email(n), None, "entrant") for n in range(shape.voters)]
        for user_id, (email, name, role) in enumerate(people, start=organizer_id):
            created = opened - timedelta(seconds=rng.randrange(3600, 400 * 86400))
            copy.write_row(
                (
                    user_id,
                    email,
                    canonical_email(email),
                    fast_hash,
                    name or _name(rng),
                    "VN",
                    rng.randrange(1960, 2008),
                    role,
                    rng.choice(("vi", "vi", "vi", "en")),
                    True,
                    created + timedelta(minutes=5),
                    created,
                )
            )


def _vote_rows(cur, rng, shape, votes, contest_id, first_voter, organizer_id, opens_day):
    """The votes' rows in time order, and the valid votes per entry index and per (entry, month)."""
    day_starts = [vn_day_start(opens_day + timedelta(days=d)) for d in range(VOTE_DAYS)]
    months = [(opens_day + timedelta(days=d)).replace(day=1) for d in range(VOTE_DAYS)]
    voters = [(_hex(rng), _hex(rng), _hex(rng)) for _ in range(shape.voters)]  # ip, net, browser
    voter_created = _voter_created(cur, first_voter, shape.voters)
    timed = sorted((day_starts[d] + timedelta(seconds=rng.random() * 86400), e, v, d) for e, v, d in votes)
    now = datetime.now(UTC)
    counts: Counter[int] = Counter()
    monthly: Counter[tuple[int, date]] = Counter()
    rows = []
    for at, entry, voter, d in timed:
        day = opens_day + timedelta(days=d)
        voided = rng.random() < VOID_SHARE
        if not voided:
            counts[entry] += 1
            monthly[entry, months[d]] += 1
        ip, net, ua = voters[voter]
        rows.append(
            (
                contest_id,
                entry + 1,
                first_voter + voter,
                at,
                day,
                day.isoformat(),
                ip,
                net,
                ua,
                int((at - voter_created[voter]).total_seconds()),
                rng.randrange(1500, 180_000) if rng.random() < 0.9 else None,
                min(now, at + timedelta(days=1)) if voided else None,
                organizer_id if voided else None,
                VOID_REASON if voided else None,
            )
        )
    return rows, counts, monthly


def _copy_votes(cur, rows) -> None:
    columns = "contest_id, entry_id, voter_id, created_at, day, period, ip_hash, net_hash, ua_hash, account_age_s, since_view_ms, voided_at, voided_by_id, void_reason"
    with cur.copy(f"COPY votes ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _voter_created(cur, first_voter: int, voters: int) -> list[datetime]:
    cur.execute(
        "SELECT created_at FROM users WHERE id >= %s AND id < %s ORDER BY id",
        (first_voter, first_voter + voters),
    )
    return [row[0] for row in cur.fetchall()]


def _copy_entries(
    cur, rng, shape, contest_id, kinds, categories, places, prefix, first_author, counts
) -> None:
    place_cum = _zipf_cum(len(places), 0.8)
    now = datetime.now(UTC)
    submitted_from = now - timedelta(days=VOTE_DAYS + 30)
    columns = "id, code, contest_id, category_id, author_id, place_id, title, description, taken_on, status, declarations_accepted_at, created_at, submitted_at, approved_at, updated_at, vote_count, shuffle_key"
    # Approved entries' renditions are public (contest.media.publication), where the schema records it.
    published = _has_column(cur, "entries", "media_published")
    columns += ", media_published" if published else ""
    with cur.copy(f"COPY entries ({columns}) FROM STDIN") as copy:
        for index, slug in enumerate(kinds):
            # Submitted in entry-number order over the edition; approved within two days.
            submitted = submitted_from + (now - submitted_from) * (index / shape.entries) * 0.97
            approved = submitted + timedelta(seconds=rng.randrange(600, 2 * 86400))
            place = bisect.bisect_left(place_cum, rng.random() * place_cum[-1])
            copy.write_row(
                (
                    index + 1,
                    f"{prefix}-{index + 1:04d}",
                    contest_id,
                    categories[slug],
                    first_author + rng.randrange(shape.authors),
                    places[place],
                    f"{rng.choice(SUBJECTS)} {index + 1}",
                    "Ảnh chụp tại Nghệ An." if rng.random() < 0.7 else "",
                    date(2023, 1, 1) + timedelta(days=rng.randrange(1000)),
                    "approved",
                    submitted,
                    submitted - timedelta(minutes=3),
                    submitted,
                    min(approved, now),
                    min(approved, now),
                    counts[index],
                    rng.randrange(2**31),
                    *((True,) if published else ()),
                )
            )


def _has_column(cur, table: str, column: str) -> bool:
    cur.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s", (table, column)
    )
    return cur.fetchone() is not None


def _copy_assets(cur, kinds: list[str], renditions: dict[str, list[Rendition]]) -> None:
    columns = "entry_id, position, kind, label, storage_key, mime_type, width, height, duration_s, bytes, original_filename, created_at"
    now = datetime.now(UTC)
    with cur.copy(f"COPY media_assets ({columns}) FROM STDIN") as copy:
        for entry_id, slug in enumerate(kinds, start=1):
            shared = renditions[f"shared-{slug}"]
            works = sorted({r.position for r in shared})
            for position in works:
                video = slug == "video"
                copy.write_row(
                    (
                        entry_id,
                        position,
                        "original",
                        "",
                        f"originals/bench/{entry_id}-{position}.{'mp4' if video else 'jpg'}",
                        "video/mp4" if video else "image/jpeg",
                        1280 if video else 5120,
                        720 if video else 2880,
                        5.3 if video else None,
                        40_000_000 if video else 6_000_000,
                        f"IMG_{entry_id:05d}_{position}.{'MP4' if video else 'JPG'}",
                        now,
                    )
                )
            for r in shared:
                copy.write_row(
                    (
                        entry_id,
                        r.position,
                        r.kind,
                        r.label,
                        f"public/r/b{entry_id}/{r.name}",
                        r.mime,
                        r.width,
                        r.height,
                        r.duration_s,
                        r.bytes,
                        None,
                        now,
                    )
                )


def _copy_monthly(cur, contest_id: int, monthly: Counter) -> None:
    with cur.copy("COPY monthly_vote_counts (entry_id, month, contest_id, votes) FROM STDIN") as copy:
        for (entry, month), votes in monthly.items():
            copy.write_row((entry + 1, month, contest_id, votes))


def counts_consistent(conninfo: str, contest_id: int) -> bool:
    """Whether the entries' and the monthly counters equal the valid votes."""
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            """
            SELECT (SELECT coalesce(sum(vote_count), 0) FROM entries WHERE contest_id = %(c)s),
                   (SELECT coalesce(sum(votes), 0) FROM monthly_vote_counts WHERE contest_id = %(c)s),
                   (SELECT count(*) FROM votes WHERE contest_id = %(c)s AND voided_at IS NULL),
                   (SELECT count(*) FROM entries e WHERE contest_id = %(c)s AND vote_count <>
                        (SELECT count(*) FROM votes v WHERE v.entry_id = e.id AND v.voided_at IS NULL))
            """,
            {"c": contest_id},
        ).fetchone()
    return row[0] == row[1] == row[2] and row[3] == 0


def remove_media(media_root: Path) -> None:
    shutil.rmtree(media_root, ignore_errors=True)
