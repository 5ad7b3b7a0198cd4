"""reminder statistics (owner: reminders)

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
    pass  # placeholder in the chain; the owner adds its tables here


def downgrade() -> None:
    pass
