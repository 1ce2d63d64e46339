"""Shot in Nghe An: the GPS check's verdict on each entry, and the flag for a position outside

entries.gps_check (inside / outside / absent, NULL until processed) and a new flag kind,
"gps_outside_province": the flag_kind CHECK of entry_flags is replaced (the enums are
VARCHAR with a named CHECK, on SQLite and PostgreSQL alike).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OLD_FLAG_KINDS = ("exact_duplicate", "near_duplicate", "taken_outside_window", "edited_with_software")
NEW_FLAG_KINDS = (*OLD_FLAG_KINDS, "gps_outside_province")
GPS_CHECKS = ("inside", "outside", "absent")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_flag_check(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("entry_flags") as batch_op:
        batch_op.drop_constraint(op.f("ck_entry_flags_flag_kind"), type_="check")
        batch_op.create_check_constraint("flag_kind", _in("kind", values))


def upgrade() -> None:
    _replace_flag_check(NEW_FLAG_KINDS)
    with op.batch_alter_table("entries") as batch_op:
        batch_op.add_column(
            sa.Column(
                "gps_check",
                sa.Enum(*GPS_CHECKS, name="gps_check", native_enum=False, create_constraint=True, length=20),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch_op:
        batch_op.drop_constraint(op.f("ck_entries_gps_check"), type_="check")
        batch_op.drop_column("gps_check")
    op.execute(sa.text("DELETE FROM entry_flags WHERE kind = 'gps_outside_province'"))
    _replace_flag_check(OLD_FLAG_KINDS)
