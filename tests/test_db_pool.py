"""The connection pool's liveness check: paid only by a connection that sat idle.

contest.db.make_engine checks a pooled PostgreSQL connection before handing it out only when
it was idle for longer than ``ping_after_idle_s``; a connection that fails the check is
replaced. Observed at the driver (psycopg's cursors), below SQLAlchemy, where the check runs.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from contest.db import make_engine
from tests.support import driver_statements, new_database


@pytest.fixture
def pg_url(tmp_path):
    databases = new_database("postgresql", tmp_path)
    yield next(databases)
    next(databases, None)


def backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()


@pytest.mark.parametrize(("idle_s", "pinged"), [(60.0, False), (0.0, True)])
def test_only_a_connection_idle_longer_than_the_window_is_checked(pg_url, idle_s, pinged):
    engine = make_engine(pg_url, ping_after_idle_s=idle_s)
    try:
        sent = driver_statements(engine)
        backend_pid(engine)  # the pool's one connection, made now
        time.sleep(0.01)
        del sent[:]

        backend_pid(engine)

        *checks, query = sent
        assert query == "SELECT pg_backend_pid()"
        assert len(checks) == (1 if pinged else 0)  # the dialect's ping (";" on PostgreSQL)
    finally:
        engine.dispose()


def test_a_connection_lost_while_idle_is_replaced_before_it_is_handed_out(pg_url):
    engine = make_engine(pg_url, ping_after_idle_s=0.0)
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        lost = backend_pid(engine)
        with admin.connect() as connection:  # the server ends it (a restart, a failover)
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({lost})")
        time.sleep(0.05)

        assert backend_pid(engine) not in (lost, None)  # no error reaches the caller
    finally:
        engine.dispose()
        admin.dispose()


def test_within_the_window_a_lost_connection_is_not_checked(pg_url):
    """The other side of the trade: a connection lost a moment after its last use fails once,
    and the pool then replaces every connection it had (SQLAlchemy's disconnect handling)."""
    engine = make_engine(pg_url, ping_after_idle_s=60.0)
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    try:
        lost = backend_pid(engine)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({lost})")
        time.sleep(0.05)

        with pytest.raises(OperationalError):
            backend_pid(engine)
        assert backend_pid(engine) != lost
    finally:
        engine.dispose()
        admin.dispose()
