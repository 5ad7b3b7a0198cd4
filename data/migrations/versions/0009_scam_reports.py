"""kind and domain of checked messages, for the commune's statistics (owner: scam check)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder in the chain; the owner adds its tables here


def downgrade() -> None:
    pass
