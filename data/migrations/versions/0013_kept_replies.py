"""replies kept a few minutes with their processed event (cluster mode)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 14:00:00.000000

A worker killed after an update's commit but before its replies went out would leave the learner without
an answer: the update, handed to another worker, is recognised as handled and has no second effect. The
replies are therefore kept with the processed event id for a few minutes (`Assistant.keep_replies`) and
sent again when the same update is handled again after such a crash; then they are cleared. The partial
index finds the rows still holding replies without scanning every processed event.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replies", sa.JSON(), nullable=True))
    op.create_index(
        "ix_processed_events_kept_replies",
        "processed_events",
        ["processed_at"],
        postgresql_where=sa.text("replies IS NOT NULL"),
        sqlite_where=sa.text("replies IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_processed_events_kept_replies", table_name="processed_events")
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_column("replies")
