"""Shared fixtures: the same suite on SQLite and PostgreSQL, migrated by Alembic.

* ``app`` is session scoped and parametrized over the two databases.
* ``db`` is a Session for the test's own set-up and checks, inside an outer transaction
  that is rolled back at the end; requests made with ``client`` join that transaction
  through SAVEPOINTs, so they see the test's rows and the test sees theirs
  (``db.expire_all()`` before reading what a request changed).
* No application context is held open while the client runs (Flask would reuse it, and
  its ``g``, for every request): use ``app_ctx`` or ``with app.app_context():`` around
  code that needs ``db.session`` or ``url_for``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session

from contest import create_app
from contest.auth.models import Role, User
from contest.contests.demo import build_demo_contest
from contest.contests.models import Contest, VotePolicy
from contest.storage import LocalStorage, build_storage
from tests.browser import browser_page, chromium, pytest_runtest_makereport  # noqa: F401 (fixtures, hook)
from tests.journeys_site import journey, journey_site  # noqa: F401 (fixtures)
from tests.support import (
    create_user,
    make_test_config,
    migrate,
    new_database,
    s3_config,
    start_moto_server,
    vn,
    wallpaper,
)

# The suite runs as "testing" (the development defaults allowed): without a CONTEST_ENV the
# application is in production and refuses them. The worker processes tests start inherit it.
os.environ["CONTEST_ENV"] = "testing"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> Iterator[str]:
    databases = new_database(request.param, tmp_path_factory.mktemp(request.param))
    url = next(databases)
    migrate(url)
    yield url
    next(databases, None)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(make_test_config(tmp_path_factory.mktemp("instance"), database_url))
    yield app
    app.extensions["db"].dispose()


@pytest.fixture
def db(app) -> Iterator[Session]:
    state = app.extensions["db"]
    connection = state.engine.connect()
    outer = connection.begin()
    state.bind = connection
    session = Session(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        state.bind = state.engine
        if outer.is_active:
            outer.rollback()
        connection.close()


@pytest.fixture
def app_ctx(app):
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def client(app, db):
    return app.test_client()


# --- storage: the local folder and a real S3 endpoint over HTTP -----------------------
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server, endpoint = start_moto_server()
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(app, s3_endpoint):
    storage = build_storage({**app.config, **s3_config(s3_endpoint, f"test-{uuid.uuid4().hex[:10]}")})
    storage.ensure_bucket()
    return storage


@contextmanager
def _swapped_storage(app, storage):
    previous = app.extensions["storage"]
    app.extensions["storage"] = storage
    try:
        yield storage
    finally:
        app.extensions["storage"] = previous


@pytest.fixture
def storage(app, tmp_path):
    """A fresh, empty local-folder storage, installed as the app's for this test."""
    local = LocalStorage(tmp_path / "media", app.config["SECRET_KEY"])
    with _swapped_storage(app, local):
        yield local


@pytest.fixture(params=["local", "s3"])
def any_storage(request, app, tmp_path):
    """A fresh, empty storage installed as the app's: once a local folder, once S3 over HTTP."""
    if request.param == "local":
        chosen = LocalStorage(tmp_path / "media", app.config["SECRET_KEY"])
    else:
        chosen = request.getfixturevalue("s3_storage")
    with _swapped_storage(app, chosen):
        yield chosen


# --- factories ------------------------------------------------------------------------
@pytest.fixture
def contest(db) -> Contest:
    contest, _ = build_demo_contest(db)
    db.commit()
    return contest


@pytest.fixture
def voting(db, contest):
    """The demo contest with voting open through June and July 2025 (Vietnam time)."""
    contest.voting_opens_at = vn(2025, 6, 1)
    contest.voting_closes_at = vn(2025, 8, 1)
    contest.vote_policy = VotePolicy.once_per_entry_per_day
    db.flush()
    return contest


@pytest.fixture
def entrant(db) -> User:
    return create_user(db, "entrant@example.com")


@pytest.fixture
def organizer(db) -> User:
    return create_user(db, "organizer@example.com", role=Role.organizer, birth_year=None)


@pytest.fixture
def judge(db) -> User:
    return create_user(db, "judge@example.com", role=Role.judge, birth_year=None)


@pytest.fixture
def real_photo():
    """A real 5120x2880 (14.7 MP) JPEG photograph of 4.6 MB."""
    return wallpaper("Volna")
