"""outbox claims with leases shared by processes (owner: cluster-mode outbox)

Each outbox row gets a priority (0 a reply to a learner, 1 a push or announcement, 2 a reminder or
digest), the process that claimed it and until when its claim holds; `outbox_senders` holds, per bot
(channel and a hash of its token), which process sends its bulk rows and until when, and until when a
429 of the platform pauses every process.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_claim", ["status", "channel", "priority", "id"], unique=False)
        batch_op.create_index("ix_outbox_lease", ["status", "lease_until"], unique=False)
    # rows already queued keep the order they had: answers first, reminders and digests last
    op.execute(
        "UPDATE outbox SET priority = 0 WHERE broadcast_id IN "
        "(SELECT id FROM broadcasts WHERE kind IN ('answer', 'reply'))"
    )
    op.execute(
        "UPDATE outbox SET priority = 2 WHERE broadcast_id IN "
        "(SELECT id FROM broadcasts WHERE kind IN ('reminder', 'digest'))"
    )
    op.create_table(
        "outbox_senders",
        sa.Column("sender", sa.String(length=80), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("sender"),
    )


def downgrade() -> None:
    op.drop_table("outbox_senders")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_lease")
        batch_op.drop_index("ix_outbox_claim")
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("priority")
