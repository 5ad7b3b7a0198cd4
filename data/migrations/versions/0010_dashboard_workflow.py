"""answer templates, scheduled announcements, revocable invite codes (owner: dashboard workflow)

- `answer_templates`: a commune's reusable answers for the question inbox;
- `unanswered_questions.mentor_notified_at`: the learner's mentor was told in the chat (once per question);
  an index (status, answered_at) for the inbox's history tabs;
- `admin_users.questions_seen_at`: when the account last opened the inbox (questions after it are "new");
- `broadcasts.send_at / released_at / cancelled_at / reply / resend_of`: an announcement scheduled for a
  moment, queued into the outbox when due (its message kept in `reply` until then), cancellable before;
  a resend to the failed recipients of another announcement;
- `mentor_invites.revoked_at / revoked_by`: a code taken back before anyone used it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("answer_templates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_templates_commune_id"), ["commune_id"], unique=False)

    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentor_notified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_unanswered_questions_status_answered_at", ["status", "answered_at"], unique=False
        )

    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questions_seen_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("released_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reply", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("resend_of", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_broadcasts_send_at"), ["send_at"], unique=False)
        batch_op.create_foreign_key(
            "fk_broadcasts_resend_of", "broadcasts", ["resend_of"], ["id"], ondelete="SET NULL"
        )

    with op.batch_alter_table("mentor_invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mentor_invites", schema=None) as batch_op:
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("revoked_at")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_broadcasts_resend_of", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_broadcasts_send_at"))
        batch_op.drop_column("resend_of")
        batch_op.drop_column("reply")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("released_at")
        batch_op.drop_column("send_at")
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.drop_column("questions_seen_at")
    with op.batch_alter_table("unanswered_questions", schema=None) as batch_op:
        batch_op.drop_index("ix_unanswered_questions_status_answered_at")
        batch_op.drop_column("mentor_notified_at")
    with op.batch_alter_table("answer_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_templates_commune_id"))
    op.drop_table("answer_templates")
