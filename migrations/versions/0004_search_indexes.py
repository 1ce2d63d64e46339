"""Trigram indexes for the gallery's search by title and author (PostgreSQL only)

A "contains" search (``lower(title) LIKE '%cua lo%'``) cannot use a B-tree index; on
PostgreSQL a GIN index of trigrams (pg_trgm, a trusted extension shipped with the server)
serves it. SQLite has no such index; its gallery is small. These indexes are outside the
models' metadata (tests/test_foundation.py leaves out names ending in "_trgm").

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_entries_title_trgm": "entries USING gin (lower(title) gin_trgm_ops)",
    "ix_users_full_name_trgm": "users USING gin (lower(full_name) gin_trgm_ops)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
