"""Export jobs: the ZIP of the winners' originals, built by the worker

- export_jobs: contest, kind (winners_zip), status (queued, running, done, failed, superseded: a
  newer ZIP of the contest replaced it and its file is deleted), who asked,
  the result's private storage key, progress (files and bytes done of total), the result's size,
  attempts, the error of a failed job, and when it was created, started, last heard of, finished.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _count(name: str, kind=sa.Integer) -> sa.Column:
    return sa.Column(name, kind(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contest_id", sa.Integer(), sa.ForeignKey("contests.id"), nullable=False),
        sa.Column("kind", _enum("export_kind", "winners_zip"), nullable=False),
        sa.Column(
            "status",
            _enum("export_status", "queued", "running", "done", "failed", "superseded"),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("storage_key", sa.String(255), nullable=False),
        _count("files_total"),
        _count("files_done"),
        _count("bytes_total", sa.BigInteger),
        _count("bytes_done", sa.BigInteger),
        sa.Column("result_bytes", sa.BigInteger(), nullable=True),
        _count("attempts"),
        sa.Column("error", sa.Text(), nullable=True),
        _at("created_at", nullable=False),
        _at("started_at"),
        _at("heartbeat_at"),
        _at("finished_at"),
        sa.CheckConstraint("files_done >= 0 AND files_done <= files_total", name="files_progress"),
        sa.CheckConstraint("bytes_done >= 0 AND bytes_total >= 0", name="bytes_progress"),
        sa.CheckConstraint(
            "status IN ('queued', 'running') OR finished_at IS NOT NULL", name="finished_time"
        ),
        sa.CheckConstraint(
            "status NOT IN ('done', 'superseded') OR result_bytes IS NOT NULL", name="done_has_result"
        ),
        sa.UniqueConstraint("storage_key", name="uq_export_jobs_storage_key"),
    )
    for column in ("contest_id", "requested_by_id", "status"):
        op.create_index(f"ix_export_jobs_{column}", "export_jobs", [column])


def downgrade() -> None:
    op.drop_table("export_jobs")
