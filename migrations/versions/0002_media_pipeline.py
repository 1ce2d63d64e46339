"""Media pipeline: video renditions, photo series, organizer flags

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_ASSET_KINDS = ("original", "thumb_jpeg", "thumb_webp", "display_jpeg", "display_webp")
NEW_ASSET_KINDS = (*OLD_ASSET_KINDS, "video_mp4", "poster_jpeg", "poster_webp", "frame_jpeg")
OLD_JOB_KINDS = ("photo",)
NEW_JOB_KINDS = ("photo", "photo_series", "video")
FLAG_KINDS = ("exact_duplicate", "near_duplicate", "taken_outside_window", "edited_with_software")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_check(table: str, name: str, column: str, values: tuple[str, ...]) -> None:
    # The enums are VARCHAR with a CHECK: a new value means a new CHECK.
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch_op.create_check_constraint(name, _in(column, values))


def upgrade() -> None:
    op.create_table(
        "entry_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*FLAG_KINDS, name="flag_kind", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("other_entry_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_entry_flags_entry_id_entries"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["other_entry_id"],
            ["entries.id"],
            name=op.f("fk_entry_flags_other_entry_id_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_flags")),
        sa.UniqueConstraint(
            "entry_id",
            "position",
            "kind",
            "other_entry_id",
            name=op.f("uq_entry_flags_entry_id_position_kind_other_entry_id"),
        ),
    )
    op.create_index(op.f("ix_entry_flags_entry_id"), "entry_flags", ["entry_id"])
    op.create_index(op.f("ix_entry_flags_other_entry_id"), "entry_flags", ["other_entry_id"])

    with op.batch_alter_table("categories") as batch_op:
        batch_op.add_column(sa.Column("max_long_edge_px", sa.Integer(), nullable=True))

    with op.batch_alter_table("media_assets") as batch_op:
        batch_op.add_column(sa.Column("label", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(sa.Column("phash", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch_op.drop_constraint("uq_media_assets_entry_id_position_kind", type_="unique")
        batch_op.create_unique_constraint(
            "uq_media_assets_entry_id_position_kind_label", ["entry_id", "position", "kind", "label"]
        )
        batch_op.create_index("ix_media_assets_sha256", ["sha256"])
    _replace_check("media_assets", "asset_kind", "kind", NEW_ASSET_KINDS)
    _replace_check("processing_jobs", "job_kind", "kind", NEW_JOB_KINDS)


def downgrade() -> None:
    op.execute(sa.text(f"DELETE FROM processing_jobs WHERE NOT ({_in('kind', OLD_JOB_KINDS)})"))
    op.execute(sa.text(f"DELETE FROM media_assets WHERE NOT ({_in('kind', OLD_ASSET_KINDS)})"))
    _replace_check("processing_jobs", "job_kind", "kind", OLD_JOB_KINDS)
    _replace_check("media_assets", "asset_kind", "kind", OLD_ASSET_KINDS)
    with op.batch_alter_table("media_assets") as batch_op:
        batch_op.drop_index("ix_media_assets_sha256")
        batch_op.drop_constraint("uq_media_assets_entry_id_position_kind_label", type_="unique")
        batch_op.create_unique_constraint(
            "uq_media_assets_entry_id_position_kind", ["entry_id", "position", "kind"]
        )
        batch_op.drop_column("details")
        batch_op.drop_column("phash")
        batch_op.drop_column("label")

    with op.batch_alter_table("categories") as batch_op:
        batch_op.drop_column("max_long_edge_px")

    op.drop_index(op.f("ix_entry_flags_other_entry_id"), table_name="entry_flags")
    op.drop_index(op.f("ix_entry_flags_entry_id"), table_name="entry_flags")
    op.drop_table("entry_flags")
