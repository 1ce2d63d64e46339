"""Public gallery and voting: votes, monthly counts, audit log, vote settings, canonical e-mail

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from contest.auth.emails import canonical_email

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
VOTE_POLICIES = ("once_per_entry", "once_per_entry_per_day", "daily_quota")
COUNT_DISPLAYS = ("live", "after_close")
GALLERY_ORDERS = ("approved_at", "vote_count", "shuffle_key")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    _create_audit_events()
    _create_votes()
    _create_monthly_vote_counts()
    _contest_vote_settings()
    _entry_vote_columns()
    _user_canonical_email()


def _create_audit_events() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("contest_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contests.id"], name=op.f("fk_audit_events_contest_id_contests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_actor_id"), "audit_events", ["actor_id"])
    op.create_index(op.f("ix_audit_events_contest_id"), "audit_events", ["contest_id"])
    op.create_index(op.f("ix_audit_events_created_at"), "audit_events", ["created_at"])
    op.create_index("ix_audit_events_subject_type_subject_id", "audit_events", ["subject_type", "subject_id"])


def _create_votes() -> None:
    op.create_table(
        "votes",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("voter_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=True),
        sa.Column("ip_hash", sa.String(length=16), nullable=False),
        sa.Column("net_hash", sa.String(length=16), nullable=False),
        sa.Column("ua_hash", sa.String(length=16), nullable=False),
        sa.Column("account_age_s", sa.Integer(), nullable=False),
        sa.Column("since_view_ms", sa.Integer(), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_by_id", sa.Integer(), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(voided_at IS NULL AND void_reason IS NULL) OR (voided_at IS NOT NULL AND void_reason IS NOT NULL)",
            name=op.f("ck_votes_void_has_reason"),
        ),
        sa.CheckConstraint("slot IS NULL OR slot >= 1", name=op.f("ck_votes_slot_positive")),
        sa.ForeignKeyConstraint(["contest_id"], ["contests.id"], name=op.f("fk_votes_contest_id_contests")),
        sa.ForeignKeyConstraint(["entry_id"], ["entries.id"], name=op.f("fk_votes_entry_id_entries")),
        sa.ForeignKeyConstraint(["voided_by_id"], ["users.id"], name=op.f("fk_votes_voided_by_id_users")),
        sa.ForeignKeyConstraint(["voter_id"], ["users.id"], name=op.f("fk_votes_voter_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_votes")),
        sa.UniqueConstraint(
            "contest_id", "voter_id", "day", "slot", name=op.f("uq_votes_contest_id_voter_id_day_slot")
        ),
        sa.UniqueConstraint("entry_id", "voter_id", "period", name=op.f("uq_votes_entry_id_voter_id_period")),
    )
    op.create_index("ix_votes_contest_id_created_at", "votes", ["contest_id", "created_at"])
    op.create_index("ix_votes_entry_id_created_at", "votes", ["entry_id", "created_at"])
    op.create_index("ix_votes_net_hash_created_at", "votes", ["net_hash", "created_at"])
    op.create_index(op.f("ix_votes_voter_id"), "votes", ["voter_id"])


def _create_monthly_vote_counts() -> None:
    op.create_table(
        "monthly_vote_counts",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_monthly_vote_counts_votes_not_negative")),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contests.id"], name=op.f("fk_monthly_vote_counts_contest_id_contests")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_monthly_vote_counts_entry_id_entries")
        ),
        sa.PrimaryKeyConstraint("entry_id", "month", name=op.f("pk_monthly_vote_counts")),
    )
    op.create_index(
        "ix_monthly_vote_counts_contest_id_month_votes",
        "monthly_vote_counts",
        ["contest_id", "month", "votes"],
    )


def _contest_vote_settings() -> None:
    with op.batch_alter_table("contests") as batch_op:
        batch_op.add_column(
            sa.Column(
                "vote_policy", sa.String(length=30), nullable=False, server_default="once_per_entry_per_day"
            )
        )
        batch_op.add_column(sa.Column("votes_per_day", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("vote_counts", sa.String(length=20), nullable=False, server_default="live")
        )
        batch_op.add_column(
            sa.Column("audience_prize_places", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("monthly_prize_winners", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("contests") as batch_op:
        for column in ("vote_policy", "vote_counts", "audience_prize_places", "monthly_prize_winners"):
            batch_op.alter_column(column, server_default=None)
        batch_op.create_check_constraint("vote_policy", _in("vote_policy", VOTE_POLICIES))
        batch_op.create_check_constraint("vote_count_display", _in("vote_counts", COUNT_DISPLAYS))
        batch_op.create_check_constraint(
            "votes_per_day_positive", "votes_per_day IS NULL OR votes_per_day >= 1"
        )
        batch_op.create_check_constraint(
            "daily_quota_needs_votes_per_day", "vote_policy != 'daily_quota' OR votes_per_day IS NOT NULL"
        )
        batch_op.create_check_constraint("audience_prize_places_range", "audience_prize_places >= 0")
        batch_op.create_check_constraint("monthly_prize_winners_range", "monthly_prize_winners >= 0")


def _entry_vote_columns() -> None:
    with op.batch_alter_table("entries") as batch_op:
        batch_op.add_column(sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("vote_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("shuffle_key", sa.Integer(), nullable=True))
    random_key = (
        "abs(random()) % 2147483648"
        if op.get_bind().dialect.name == "sqlite"
        else "floor(random() * 2147483648)::integer"
    )
    op.execute(f"UPDATE entries SET shuffle_key = {random_key}")
    op.execute("UPDATE entries SET approved_at = updated_at WHERE status = 'approved'")
    with op.batch_alter_table("entries") as batch_op:
        batch_op.alter_column("shuffle_key", existing_type=sa.Integer(), nullable=False)
        for scope in ("contest_id", "category_id"):
            for order in GALLERY_ORDERS:
                batch_op.create_index(f"ix_entries_{scope}_status_{order}", [scope, "status", order])


def _user_canonical_email() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("email_canonical", sa.String(length=254), nullable=True))
    bind = op.get_bind()
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String))
    taken: set[str] = set()
    for user_id, email in bind.execute(sa.select(users.c.id, users.c.email).order_by(users.c.id)):
        canonical = canonical_email(email)
        # Two existing accounts of one mailbox (a.b@ and ab@gmail.com): the older keeps the
        # canonical form, the newer its own address, which no canonical form can equal
        # (canonical Gmail addresses have no dots, canonical sub-addresses no "+").
        value = email if canonical in taken else canonical
        taken.add(value)
        bind.execute(
            sa.text("UPDATE users SET email_canonical = :value WHERE id = :id"),
            {"value": value, "id": user_id},
        )
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("email_canonical", existing_type=sa.String(length=254), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_users_email_canonical"), ["email_canonical"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(op.f("uq_users_email_canonical"), type_="unique")
        batch_op.drop_column("email_canonical")
    with op.batch_alter_table("entries") as batch_op:
        for scope in ("contest_id", "category_id"):
            for order in GALLERY_ORDERS:
                batch_op.drop_index(f"ix_entries_{scope}_status_{order}")
        batch_op.drop_column("shuffle_key")
        batch_op.drop_column("vote_count")
        batch_op.drop_column("approved_at")
    with op.batch_alter_table("contests") as batch_op:
        for name in (
            "vote_policy",
            "vote_count_display",
            "votes_per_day_positive",
            "daily_quota_needs_votes_per_day",
            "audience_prize_places_range",
            "monthly_prize_winners_range",
        ):
            batch_op.drop_constraint(op.f(f"ck_contests_{name}"), type_="check")
        for column in (
            "monthly_prize_winners",
            "audience_prize_places",
            "vote_counts",
            "votes_per_day",
            "vote_policy",
        ):
            batch_op.drop_column(column)
    op.drop_table("votes")
    op.drop_table("monthly_vote_counts")
    op.drop_table("audit_events")
