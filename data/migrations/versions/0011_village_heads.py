"""read-only accounts for village heads (owner: learner list)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder in the chain; the owner adds its tables here


def downgrade() -> None:
    pass
