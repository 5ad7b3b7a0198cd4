"""answer templates, scheduled announcements, revocable invite codes (owner: dashboard workflow)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder in the chain; the owner adds its tables here


def downgrade() -> None:
    pass
