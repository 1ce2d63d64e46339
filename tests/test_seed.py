"""``flask contest seed-demo``: the 2025 edition and three demo accounts, safe to run twice."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from contest.auth.models import Role, User
from contest.contests.demo import DEMO_SLUG
from contest.contests.models import Category, CategoryKind, Contest, Place
from contest.models import Base

ACCOUNTS = {
    "organizer@demo.happynghean.vn": Role.organizer,
    "judge@demo.happynghean.vn": Role.judge,
    "entrant@demo.happynghean.vn": Role.entrant,
}
SEEDED_TABLES = ("contests", "categories", "places", "users")


def seed(app, *args: str):
    return app.test_cli_runner().invoke(args=["contest", "seed-demo", *args])


def printed_passwords(output: str) -> dict[str, str]:
    passwords = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 3 and words[1] in ACCOUNTS:
            passwords[words[1]] = words[2]
    return passwords


def snapshot(db) -> dict[str, list[tuple]]:
    tables = Base.metadata.tables
    return {
        name: [tuple(row) for row in db.execute(select(tables[name]).order_by(tables[name].c.id))]
        for name in SEEDED_TABLES
    }


def test_seed_demo_creates_the_2025_edition_and_accounts(app, db):
    result = seed(app)
    assert result.exit_code == 0, result.output

    contest = db.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    assert contest is not None
    assert contest.submission_open() and contest.voting_open()
    categories = {c.kind: c for c in contest.categories}
    assert set(categories) == {CategoryKind.photo, CategoryKind.photo_series, CategoryKind.video}
    for kind in (CategoryKind.photo, CategoryKind.photo_series):
        photo = categories[kind]
        assert photo.allowed_formats == ["jpeg"]
        assert (photo.min_long_edge_px, photo.min_bytes) == (3000, 3_000_000)
    video = categories[CategoryKind.video]
    assert video.allowed_formats == ["mp4", "mov"]  # MP4, and MOV as phones write it
    assert (video.max_duration_s, video.max_bytes) == (300, 200_000_000)
    for category in contest.categories:
        assert (category.works_from, category.works_until) == (date(2023, 1, 1), date(2025, 10, 1))
    assert db.scalar(select(func.count(Place.id)).where(Place.contest_id == contest.id)) == 21

    passwords = printed_passwords(result.output)
    assert set(passwords) == set(ACCOUNTS)
    for email, role in ACCOUNTS.items():
        user = db.scalar(select(User).where(User.email == email))
        assert user.role is role
        assert user.is_verified and user.active
        assert user.check_password(passwords[email])
    entrant = db.scalar(select(User).where(User.email == "entrant@demo.happynghean.vn"))
    assert (entrant.country, entrant.birth_year) == ("VN", 1995)
    assert entrant.full_name.strip()
    assert "http://127.0.0.1:5000" in result.output


def test_second_run_changes_nothing(app, db):
    assert seed(app).exit_code == 0
    before = snapshot(db)
    assert {name: len(rows) for name, rows in before.items()} == {
        "contests": 1,
        "categories": 3,
        "places": 21,
        "users": 3,
    }

    again = seed(app)

    assert again.exit_code == 0, again.output
    assert "already there" in again.output
    assert "nothing changed" in again.output
    assert snapshot(db) == before
    assert set(printed_passwords(again.output)) == set(ACCOUNTS)


def test_existing_account_is_left_alone(app, db):
    """A demo e-mail already registered keeps its own role and password."""
    user = User(email="judge@demo.happynghean.vn", full_name="Real Judge", role=Role.entrant, birth_year=1980)
    user.set_password("my own password")
    db.add(user)
    db.commit()

    result = seed(app)

    assert result.exit_code == 0, result.output
    db.expire_all()
    assert user.role is Role.entrant and user.check_password("my own password")
    assert "keep the password they had" in result.output
    assert db.scalar(select(func.count(User.id))) == 3


def test_refused_in_production_without_force(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")

    refused = seed(app)

    assert refused.exit_code != 0
    assert "production" in refused.output
    assert db.scalar(select(func.count(Contest.id))) == 0
    assert db.scalar(select(func.count(User.id))) == 0
    assert db.scalar(select(func.count(Category.id))) == 0

    forced = seed(app, "--force-production")
    assert forced.exit_code == 0, forced.output
    assert db.scalar(select(func.count(User.id))) == 3
