"""Resumable uploads: one row per upload sent straight to storage in parts

- uploads: id (uuid4 hex), who, for which contest, category and form field, the file's name,
  type and declared size, the part size and count the server chose, the storage key, S3's
  multipart UploadId, the state (started, stored, attached, aborted), the entry that took it,
  when it was created and completed. Indexed by (state, created_at) for the sweep.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("contest_id", sa.Integer(), sa.ForeignKey("contests.id"), nullable=False),
        sa.Column("category_id", sa.Integer(), sa.ForeignKey("categories.id"), nullable=False),
        sa.Column("field", sa.String(10), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("part_size", sa.BigInteger(), nullable=False),
        sa.Column("part_count", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False),
        sa.Column("multipart_id", sa.String(1024), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "started",
                "stored",
                "attached",
                "aborted",
                name="upload_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("entries.id", ondelete="SET NULL"), nullable=True),
        _at("created_at", nullable=False),
        _at("completed_at"),
        sa.CheckConstraint("size > 0", name="size_positive"),
        sa.CheckConstraint("part_count BETWEEN 1 AND 10000", name="part_count_range"),
        sa.UniqueConstraint("storage_key", name="uq_uploads_storage_key"),
    )
    for column in ("user_id", "contest_id", "category_id", "entry_id"):
        op.create_index(f"ix_uploads_{column}", "uploads", [column])
    op.create_index("ix_uploads_state_created_at", "uploads", ["state", "created_at"])


def downgrade() -> None:
    op.drop_table("uploads")
