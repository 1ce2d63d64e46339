"""Jury copies: the originals without metadata that can name the author (issue 15)

A new asset kind, "jury_original": the asset_kind CHECK of media_assets is replaced (the
enums are VARCHAR with a named CHECK, on SQLite and PostgreSQL alike).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OLD_ASSET_KINDS = (
    "original",
    "thumb_jpeg",
    "thumb_webp",
    "display_jpeg",
    "display_webp",
    "video_mp4",
    "poster_jpeg",
    "poster_webp",
    "frame_jpeg",
)
NEW_ASSET_KINDS = (*OLD_ASSET_KINDS, "jury_original")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _replace_check(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("media_assets") as batch_op:
        batch_op.drop_constraint(op.f("ck_media_assets_asset_kind"), type_="check")
        batch_op.create_check_constraint("asset_kind", _in("kind", values))


def upgrade() -> None:
    _replace_check(NEW_ASSET_KINDS)


def downgrade() -> None:
    # The copies' objects stay in storage (under jury/): only their rows can go here.
    op.execute(sa.text("DELETE FROM media_assets WHERE kind = 'jury_original'"))
    _replace_check(OLD_ASSET_KINDS)
