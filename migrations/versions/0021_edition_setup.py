"""Edition set-up: the home page text in Markdown, a logo and a banner, places that can be retired

- contests.home_text_vi / home_text_en: the home page's text, Markdown (rules_* are Markdown too).
- contests.logo_key / banner_key: storage keys of the public renditions (None: none uploaded).
- places.retired: a place no longer offered to new entries (entries keep theirs).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contests") as batch_op:
        batch_op.add_column(sa.Column("home_text_vi", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("home_text_en", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("logo_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("banner_key", sa.String(length=300), nullable=True))
    with op.batch_alter_table("places") as batch_op:
        batch_op.add_column(sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("places") as batch_op:
        batch_op.drop_column("retired")
    with op.batch_alter_table("contests") as batch_op:
        batch_op.drop_column("banner_key")
        batch_op.drop_column("logo_key")
        batch_op.drop_column("home_text_en")
        batch_op.drop_column("home_text_vi")
