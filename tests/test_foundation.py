"""The skeleton: configuration, migrations agreeing with the models, storage backends."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Enum, inspect

from contest import create_app
from contest.config import ConfigError, load_settings
from contest.db import make_engine
from contest.models import Base
from contest.storage import ObjectMissing, StorageError, new_key
from tests.support import downgrade, migrate, new_database


def _not_a_search_index(obj, name, type_, reflected, compare_to) -> bool:
    """PostgreSQL's trigram indexes (migration 0004) and the figures' expression index
    (migration 0027) are not in the models' metadata."""
    return not (
        type_ == "index" and name and (name.endswith("_trgm") or name == "ix_entries_received_vn_day")
    )


def _sqlite_unique_index_pairs(diff: list) -> list:
    """SQLite has no deferrable unique constraint: a model's deferrable one (migration 0012) is a
    unique index of the same name and columns there, the same rule. Leave such pairs out."""
    indexes = {d[1].name: d for d in diff if d[0] == "remove_index" and d[1].unique}
    constraints = {d[1].name: d for d in diff if d[0] == "add_constraint" and d[1].deferrable}
    same = {
        name
        for name in indexes.keys() & constraints.keys()
        if [c.name for c in indexes[name][1].columns] == [c.name for c in constraints[name][1].columns]
    }
    return [d for d in diff if not (d[0] in ("remove_index", "add_constraint") and d[1].name in same)]


def test_models_and_migrations_agree(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _not_a_search_index}
        )
        diff = compare_metadata(context, Base.metadata)
        if engine.dialect.name == "sqlite":
            diff = _sqlite_unique_index_pairs(diff)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_downgrade_to_base_and_up_again(kind, tmp_path):
    databases = new_database(kind, tmp_path)
    url = next(databases)
    try:
        migrate(url, "head")
        downgrade(url, "base")
        engine = make_engine(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
        migrate(url, "head")
        engine = make_engine(url)
        assert "entries" in inspect(engine).get_table_names()
        engine.dispose()
    finally:
        next(databases, None)


def test_production_refuses_default_secret(tmp_path):
    env = {
        "CONTEST_ENV": "production",
        "DATABASE_URL": "postgresql+psycopg://db/contest",
        "CONTEST_INSTANCE": str(tmp_path),
    }
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(load_settings(env))


def test_production_refuses_sqlite(tmp_path):
    env = {"CONTEST_ENV": "production", "SECRET_KEY": "s" * 40, "CONTEST_INSTANCE": str(tmp_path)}
    with pytest.raises(ConfigError, match="PostgreSQL"):
        create_app(load_settings(env))


def test_embedded_defaults(tmp_path):
    settings = load_settings({"CONTEST_INSTANCE": str(tmp_path)})
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'contest.sqlite'}"
    assert settings["BROKER_URL"].startswith("sqla+sqlite:///")
    assert settings["STORAGE_BACKEND"] == "local"


def test_storage_roundtrip(any_storage, app):
    key = new_key("originals/test", ".bin")
    payload = b"\x00\x01photo-bytes" * 100_000
    assert any_storage.save(key, io.BytesIO(payload), content_type="application/octet-stream") == len(payload)
    assert any_storage.exists(key)
    out = io.BytesIO()
    any_storage.download(key, out)
    assert out.getvalue() == payload
    assert key in list(any_storage.keys("originals/"))
    any_storage.delete(key)
    assert not any_storage.exists(key)
    assert list(any_storage.keys()) == []
    with pytest.raises(ObjectMissing):
        any_storage.download(key, io.BytesIO())


def test_local_storage_urls_serve_public_and_signed_private_objects(storage, app):
    public, private = new_key("public/r", ".jpg"), new_key("originals/test", ".jpg")
    for key in (public, private):
        storage.save(key, io.BytesIO(b"jpeg-bytes"), content_type="image/jpeg")
    client = app.test_client()
    with app.test_request_context():
        public_url, private_url = storage.url(public), storage.url(private, expires_s=60)
        expired_url = storage.url(private, expires_s=-10)

    assert public_url == f"/media/{public}"  # never expires, no signature
    assert private_url.startswith(f"/media/{private}?e=") and "&s=" in private_url
    assert client.get(public_url).data == b"jpeg-bytes"
    assert client.get(private_url).data == b"jpeg-bytes"
    assert client.get(private_url[:-4] + "0000").status_code == 403  # a forged signature
    assert client.get(expired_url).status_code == 403
    assert client.get(f"/media/{private}").status_code == 403  # no signature at all


def test_storage_rejects_path_tricks(any_storage):
    for key in ("../etc/passwd", "/abs/key", "originals/../../x", "originals"):
        with pytest.raises(StorageError):
            any_storage.save(key, io.BytesIO(b"x"), content_type="text/plain")


def test_every_enum_value_is_accepted_by_the_migrated_database(db, contest):
    """The enums are VARCHAR + CHECK: a value added in Python needs its migration too."""
    from contest.entries.models import EntryFlag, FlagKind
    from contest.processing.models import JobKind, ProcessingJob
    from tests.support import create_entry_with_original, create_user

    author = create_user(db, "enum@example.com")
    entry = create_entry_with_original(db, contest, author, storage_key="originals/t/enum.jpg", size=1)
    job = ProcessingJob(entry=entry, kind=JobKind.photo)
    flag = EntryFlag(entry=entry, kind=FlagKind.exact_duplicate)
    db.add_all([job, flag])
    db.flush()
    jury_round, assignment = _jury_rows(db, contest, author, entry)
    export_job = _export_job(db, contest)
    slot, award, publication = _prize_rows(db, contest, author, entry)
    round_tally, results_choice = _tally_rows(db, contest, jury_round)
    rows = {
        "rounds": jury_round,
        "assignments": assignment,
        "users": author,
        "categories": contest.categories[0],
        "entries": entry,
        "media_assets": entry.assets[0],
        "processing_jobs": job,
        "entry_flags": flag,
        "contests": contest,
        "export_jobs": export_job,
        "prize_slots": slot,
        "awards": award,
        "results_publications": publication,
        "round_tally_settings": round_tally,
        "results_settings": results_choice,
        "page_visits": _page_visit(db, entry),
        "uploads": _upload(db, contest, author),
    }
    contest.votes_per_day = 3  # the daily quota policy needs its number
    checked = 0
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, Enum):
                continue
            row = rows[table.name]
            for value in column.type.enum_class:
                setattr(row, column.key, value)
                _ENUM_COMPANIONS.get((table.name, column.key), lambda _row, _value: None)(row, value)
                db.flush()  # the database's CHECK constraint sees every value
                checked += 1
    assert checked >= 35


def _upload(db, contest, author):
    """An upload sent straight to storage (contest.uploads.models)."""
    from contest.uploads.models import Upload

    category = contest.categories[0]
    upload = Upload(
        user_id=author.id,
        contest_id=contest.id,
        category_id=category.id,
        field="photo",
        filename="a.jpg",
        content_type="image/jpeg",
        size=1,
        part_size=1,
        part_count=1,
        storage_key="originals/t/upload.jpg",
    )
    db.add(upload)
    db.flush()
    return upload


def _page_visit(db, entry):
    """A visit counter of an entry's page (contest.figures.models)."""
    from contest.figures.models import PageVisit, VisitKind, VisitSource

    visit = PageVisit(
        entry_id=entry.id, day=date(2025, 6, 1), kind=VisitKind.visit, source=VisitSource.direct
    )
    db.add(visit)
    db.flush()
    return visit


def _prize_rows(db, contest, author, entry):
    """A prize slot, an award of it and the contest's publication (contest.results.prizes)."""
    from contest.results.prizes import Award, PrizeKind, PrizeSlot, Publication

    category_id = entry.category_id
    slot = PrizeSlot(
        contest_id=contest.id, category_id=category_id, kind=PrizeKind.jury, name_vi="G", name_en="P"
    )
    db.add(slot)
    db.flush()
    award = Award(
        slot_id=slot.id,
        kind=slot.kind,
        category_id=category_id,
        place=1,
        entry_id=entry.id,
        proposed_entry_id=entry.id,
        assigned_by_id=author.id,
    )
    publication = Publication(contest_id=contest.id)
    db.add_all([award, publication])
    db.flush()
    return slot, award, publication


def _tally_rows(db, contest, jury_round):
    """A round's tally settings and the contest's choice for public votes (contest.results.models)."""
    from contest.results.models import ResultsSettings, RoundTallySettings

    round_tally = RoundTallySettings(round_id=jury_round.id)
    results_choice = ResultsSettings(contest_id=contest.id, audience_share=0.2)
    db.add_all([round_tally, results_choice])
    db.flush()
    return round_tally, results_choice


def _publication_dates(row, value) -> None:
    from contest.db import now_utc

    row.frozen_at = None if value == "draft" else now_utc()
    row.publish_at = now_utc()
    row.published_at = now_utc() if value == "published" else None


# Columns that a CHECK ties to an enum's value, set along with it.
_ENUM_COMPANIONS = {
    # An award's kind is its slot's (a composite foreign key, ON UPDATE CASCADE).
    ("awards", "kind"): lambda row, value: setattr(row.slot, "kind", value),
    ("results_publications", "state"): _publication_dates,
    ("assignments", "state"): lambda row, value: setattr(
        row, "recusal_reason", "enum" if value == "recused" else None
    ),
    ("rounds", "source_rule"): lambda row, value: (
        setattr(row, "source_round_id", None if value == "approved_entries" else row.id),
        setattr(row, "source_threshold", None if value == "approved_entries" else 1.0),
    ),
}


def _jury_rows(db, contest, judge, entry):
    """A round with one entry dealt to one judge (the jury's enum columns)."""
    from contest.db import now_utc
    from contest.jury.models import Assignment, Round, RoundEntry, RoundKind

    now = now_utc()
    jury_round = Round(
        contest_id=contest.id,
        name_vi="Vòng",
        name_en="Round",
        kind=RoundKind.yes_no,
        opens_at=now,
        closes_at=now + timedelta(days=1),
    )
    db.add(jury_round)
    db.flush()
    db.add(RoundEntry(round_id=jury_round.id, entry_id=entry.id))
    db.flush()
    assignment = Assignment(round_id=jury_round.id, entry_id=entry.id, judge_id=judge.id)
    db.add(assignment)
    db.flush()
    return jury_round, assignment


def _export_job(db, contest):
    """An export job with a result and an end time, which every status accepts."""
    from contest.db import now_utc
    from contest.results.export_jobs import ExportJob, ExportKind

    job = ExportJob(
        contest_id=contest.id,
        kind=ExportKind.winners_zip,
        storage_key="exports/t/enum.zip",
        finished_at=now_utc(),
        result_bytes=0,
    )
    db.add(job)
    db.flush()
    return job
