"""Database plumbing: declarative base, column types and the request-scoped session."""

from __future__ import annotations

import enum
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def now_utc() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], name: str, length: int = 20) -> Enum:
    """A Python enum stored as its string values, guarded by a named CHECK constraint.

    VARCHAR rather than a native PostgreSQL enum, so a new state is one migration on
    every backend.
    """
    return Enum(
        enum_cls, native_enum=False, length=length, name=name, create_constraint=True, validate_strings=True
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


# A pooled connection that sat unused for longer than this is checked (a round trip) before
# it is handed out; one used more recently is handed out as it is (HikariCP's "alive bypass
# window"). A database restarted while the site is quiet is never seen by a request; under
# load, when every request would pay a liveness round trip, none does.
PING_AFTER_IDLE_S = 1.0


def make_engine(
    url: str,
    ping_after_idle_s: float = PING_AFTER_IDLE_S,
    *,
    server_options: str = "",
    autocommit: bool = False,
) -> Engine:
    """The application's engine; ``autocommit`` (PostgreSQL): every statement commits on its
    own, and a connection goes back to the pool without a rollback (it holds no transaction)."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _tune_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        connect_args={"options": server_options} if server_options else {},
        **({"isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None} if autocommit else {}),
    )
    _ping_when_idle(engine, ping_after_idle_s)
    return engine


def _ping_when_idle(engine: Engine, after_s: float) -> None:
    """Pessimistic disconnect handling, paid only by connections that were idle a while.

    A connection that fails its check is discarded and the pool hands out another one
    (SQLAlchemy retries a checkout that raises DisconnectionError).
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since <= after_s:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"pooled connection lost while idle: {exc}") from exc


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        # SQLite's lower() folds ASCII only; Python's folds Vietnamese capitals (Đ, Ể ...) as
        # PostgreSQL's does, so a case-insensitive search behaves the same on both.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    # IMMEDIATE: the web and the worker processes share one file; taking the write lock
    # up front avoids the "database is locked" failure of a read upgraded to a write.
    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# The server setting of the vote's own connections under VOTE_ASYNC_COMMIT.
ASYNC_COMMIT = "-c synchronous_commit=off"


class Database:
    """Engine per application, one session per application context.

    ``db.session`` is the session of the current application context; it is closed when
    the context ends. Tests swap ``bind`` for a connection inside an outer transaction.

    ``db.vote_engine`` sends the vote button's one statement (contest.voting.statement.
    quick_vote). On PostgreSQL it is a pool of its own whose connections are in autocommit
    mode: the statement is its own transaction, with no mode to switch on and off around it
    and no rollback when its connection goes back to the pool. If the organizers set
    VOTE_ASYNC_COMMIT, those connections also commit without waiting for the write-ahead log
    to reach the disk (``synchronous_commit=off``, for those connections only). A vote then
    answers sooner and the site takes more votes a second; the price is
    that a crash of the database server can lose the votes acknowledged in its last moments
    (at most three times ``wal_writer_delay``, 0.6 s by default). Nothing is corrupted or
    half-written: a vote and its counters are one statement, lost or kept together, and the
    unique constraints still hold. Everything else waits for the disk as usual.
    """

    def init_app(self, app: Flask) -> None:
        url = app.config["DATABASE_URL"]
        engine = make_engine(url)
        votes = engine
        if engine.dialect.name == "postgresql":
            options = ASYNC_COMMIT if app.config.get("VOTE_ASYNC_COMMIT") else ""
            votes = make_engine(url, server_options=options, autocommit=True)
        app.extensions["db"] = _State(engine, votes)
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def state(app: Flask | None = None) -> _State:
        return (app or current_app).extensions["db"]

    @property
    def engine(self) -> Engine:
        return self.state().engine

    @property
    def vote_engine(self) -> Engine:
        return self.state().vote_engine

    @property
    def bind(self) -> Engine | Connection:
        """What the request's session binds to: the engine, or a test's open connection."""
        return self.state().bind

    @property
    def session(self) -> Session:
        session = g.get("_db_session")
        if session is None:
            state = self.state()
            session = Session(
                bind=state.bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            g._db_session = session
        return session

    @staticmethod
    def _close_session(_exc=None) -> None:
        session = g.pop("_db_session", None)
        if session is not None:
            session.close()


class _State:
    def __init__(self, engine: Engine, vote_engine: Engine) -> None:
        self.engine = engine
        self.vote_engine = vote_engine
        self.bind: Engine | Connection = engine

    def dispose(self) -> None:
        """Close the pooled connections of both engines (an application that is done)."""
        self.engine.dispose()
        if self.vote_engine is not self.engine:
            self.vote_engine.dispose()
