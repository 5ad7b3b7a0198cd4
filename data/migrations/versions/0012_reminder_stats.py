"""reminder statistics: no schema change (the dashboard's figures come from reminders, review items and
outbox rows already stored); kept so that databases already at this revision stay on the chain

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # nothing to change


def downgrade() -> None:
    pass
