"""An entry made from a stored upload waits in "checking" while a "check" job reads its file

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

OLD_ENTRY_STATUSES = (
    "draft",
    "submitted",
    "processing",
    "pending_review",
    "approved",
    "rejected",
    "withdrawn",
    "failed",
)
NEW_ENTRY_STATUSES = (*OLD_ENTRY_STATUSES, "checking")
OLD_JOB_KINDS = ("photo", "photo_series", "video")
NEW_JOB_KINDS = (*OLD_JOB_KINDS, "check")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_check(table: str, name: str, column: str, values: tuple[str, ...]) -> None:
    # The enums are VARCHAR with a CHECK: a new value means a new CHECK.
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch_op.create_check_constraint(name, _in(column, values))


def upgrade() -> None:
    _replace_check("entries", "entry_status", "status", NEW_ENTRY_STATUSES)
    _replace_check("processing_jobs", "job_kind", "kind", NEW_JOB_KINDS)


def downgrade() -> None:
    # An entry still being checked never counted as submitted: it is failed on the way down.
    op.execute(sa.text("UPDATE entries SET status = 'failed' WHERE status = 'checking'"))
    op.execute(sa.text("DELETE FROM processing_jobs WHERE kind = 'check'"))
    _replace_check("processing_jobs", "job_kind", "kind", OLD_JOB_KINDS)
    _replace_check("entries", "entry_status", "status", OLD_ENTRY_STATUSES)
