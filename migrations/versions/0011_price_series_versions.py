"""price_series_versions: a random version per ticker and scope, new on every write of its prices,
so a rendered copy of a series (the API's JSON) can be checked without reading the rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "price_series_versions"


def upgrade() -> None:
    versions = op.create_table(
        TABLE,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("ticker", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Uuid(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f(f"fk_{TABLE}_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    for name, keys, where in (
        (f"uq_{TABLE}_shared_ticker", ["ticker"], "owner_id IS NULL"),
        (f"uq_{TABLE}_owner_ticker", ["owner_id", "ticker"], "owner_id IS NOT NULL"),
    ):
        op.create_index(name, TABLE, keys, unique=True, postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    # Every series stored before this revision gets its first version.
    series = sa.text("SELECT DISTINCT owner_id, ticker FROM historical_data").columns(owner_id=sa.Uuid())
    now = datetime.now(UTC)
    rows = [
        {"id": uuid.uuid4(), "owner_id": owner_id, "ticker": ticker, "version": uuid.uuid4(), "changed_at": now}
        for owner_id, ticker in op.get_bind().execute(series)
    ]
    if rows:
        op.bulk_insert(versions, rows)


def downgrade() -> None:
    op.drop_index(f"uq_{TABLE}_owner_ticker", table_name=TABLE)
    op.drop_index(f"uq_{TABLE}_shared_ticker", table_name=TABLE)
    op.drop_table(TABLE)
