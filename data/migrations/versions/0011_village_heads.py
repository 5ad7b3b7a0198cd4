"""read-only accounts for village heads (owner: learner list)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00.000000

A dashboard account with `village_id` set is a village head ("trưởng thôn"): read-only, limited to that
village of its commune (`admin.learners`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("village_id", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("admin_users", schema=None) as batch_op:
        batch_op.drop_column("village_id")
