"""corporate_actions: splits and dividends as their source reported them, beside the raw prices.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "corporate_actions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("kind IN ('split', 'dividend')", name=op.f("ck_corporate_actions_kind")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_corporate_actions_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corporate_actions")),
    )
    op.create_index(
        "uq_corporate_actions_shared_ticker_date_kind",
        "corporate_actions",
        ["ticker", "date", "kind"],
        unique=True,
        postgresql_where=sa.text("owner_id IS NULL"),
        sqlite_where=sa.text("owner_id IS NULL"),
    )
    op.create_index(
        "uq_corporate_actions_owner_ticker_date_kind",
        "corporate_actions",
        ["owner_id", "ticker", "date", "kind"],
        unique=True,
        postgresql_where=sa.text("owner_id IS NOT NULL"),
        sqlite_where=sa.text("owner_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_corporate_actions_owner_ticker_date_kind", table_name="corporate_actions")
    op.drop_index("uq_corporate_actions_shared_ticker_date_kind", table_name="corporate_actions")
    op.drop_table("corporate_actions")
