"""kind and domain of checked messages, for the commune's statistics (owner: scam check)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scam_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("commune_id", sa.String(length=60), nullable=True),
        sa.Column("village_id", sa.String(length=60), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("reporter", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("scam_reports", schema=None) as batch_op:
        batch_op.create_index("ix_scam_reports_commune_day", ["commune_id", "day"], unique=False)
        batch_op.create_index("ix_scam_reports_day", ["day"], unique=False)
        batch_op.create_index("ix_scam_reports_reporter", ["reporter"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scam_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_scam_reports_reporter")
        batch_op.drop_index("ix_scam_reports_day")
        batch_op.drop_index("ix_scam_reports_commune_day")
    op.drop_table("scam_reports")
