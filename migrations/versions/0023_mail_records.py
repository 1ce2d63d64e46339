"""E-mail: a record of each message

outbound_emails.kind (what the message is about: entry.ready, round.opened ...), user_id and
locale (to whom, in which language) and event_key, unique: the event that caused the message,
so that each event is told once however often the code that notices it runs.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("event_key", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbound_emails_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_emails_user_id"), ["user_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_outbound_emails_event_key"), ["event_key"])
        batch_op.create_foreign_key(
            batch_op.f("fk_outbound_emails_user_id_users"), "users", ["user_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbound_emails_user_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_outbound_emails_event_key"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_outbound_emails_user_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_emails_kind"))
        batch_op.drop_column("locale")
        batch_op.drop_column("user_id")
        batch_op.drop_column("event_key")
        batch_op.drop_column("kind")
