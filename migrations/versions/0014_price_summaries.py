"""price_summaries: first and last day, days and last write of each ticker's prices per scope and
source, kept by every price write, so the ticker list no longer aggregates every stored day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "price_summaries"


def upgrade() -> None:
    summaries = op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("source IN ('yahoo', 'sample', 'upload')", name=op.f(f"ck_{TABLE}_source")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f(f"fk_{TABLE}_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    for name, keys, where in (
        (f"uq_{TABLE}_shared_ticker_source", ["ticker", "source"], "owner_id IS NULL"),
        (f"uq_{TABLE}_owner_ticker_source", ["owner_id", "ticker", "source"], "owner_id IS NOT NULL"),
    ):
        op.create_index(name, TABLE, keys, unique=True, postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    # The series stored before this revision, summarised once from their rows.
    stored = sa.text(
        "SELECT owner_id, ticker, source, MIN(date) AS first_date, MAX(date) AS last_date, COUNT(*) AS days,"
        " MAX(last_updated) AS last_updated"
        " FROM historical_data GROUP BY owner_id, ticker, source"
    ).columns(
        owner_id=sa.Uuid(),
        ticker=sa.String(),
        source=sa.String(),
        first_date=sa.Date(),
        last_date=sa.Date(),
        days=sa.Integer(),
        last_updated=sa.DateTime(timezone=True),
    )
    rows = [{"id": uuid.uuid4(), **row._asdict()} for row in op.get_bind().execute(stored)]
    if rows:
        op.bulk_insert(summaries, rows)


def downgrade() -> None:
    op.drop_index(f"uq_{TABLE}_owner_ticker_source", table_name=TABLE)
    op.drop_index(f"uq_{TABLE}_shared_ticker_source", table_name=TABLE)
    op.drop_table(TABLE)
