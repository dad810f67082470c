"""model_version_numbers: the last version number given per user and ticker, so a deleted version's
number is never given again ("SPX v3" in the audit log and in an exported file keeps naming one model).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "model_version_numbers"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f(f"fk_{TABLE}_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "ticker", name=op.f(f"pk_{TABLE}")),
    )
    # Numbers given before this revision: the highest still stored (a deleted higher one is not known).
    op.execute(
        f"INSERT INTO {TABLE} (user_id, ticker, last_version) "
        "SELECT user_id, ticker, MAX(version) FROM model_versions GROUP BY user_id, ticker"
    )


def downgrade() -> None:
    op.drop_table(TABLE)
