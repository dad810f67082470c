"""data_uploads keeps every ticker of a file as a list, not one 32-character string.

A file with seven tickers failed to record ("AAAA,BBBB,..." is longer than varchar(32)).
Downgrading writes each list back comma-separated, with as many whole tickers as fit, and names
the uploads that lose some.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OLD_TICKER_CHARS = 32


def upgrade() -> None:
    with op.batch_alter_table("data_uploads") as batch:
        batch.add_column(sa.Column("tickers", JSON_DOCUMENT, nullable=False, server_default=sa.text("'[]'")))
    uploads = sa.table("data_uploads", sa.column("id", sa.Uuid()), sa.column("ticker", sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(uploads.c.id, uploads.c.ticker).where(uploads.c.ticker.is_not(None))).all()
    target = sa.table("data_uploads", sa.column("id", sa.Uuid()), sa.column("tickers", JSON_DOCUMENT))
    for upload_id, ticker in rows:
        symbols = [symbol for symbol in ticker.split(",") if symbol]
        connection.execute(sa.update(target).where(target.c.id == upload_id).values(tickers=symbols))
    with op.batch_alter_table("data_uploads") as batch:
        batch.alter_column("tickers", server_default=None)
        batch.drop_column("ticker")


def _one_column(upload_id: object, filename: str, tickers: list[str]) -> str | None:
    """The list as the old column held it, with as many whole tickers as fit its 32 characters."""
    kept: list[str] = []
    for ticker in tickers:
        if len(",".join([*kept, ticker])) > OLD_TICKER_CHARS:
            warnings.warn(
                f"data_uploads: upload {upload_id} ({filename}) lists {len(tickers)} tickers; "
                f"the old column keeps the first {len(kept)} ({OLD_TICKER_CHARS} characters)",
                stacklevel=1,
            )
            break
        kept.append(ticker)
    return ",".join(kept) or None


def downgrade() -> None:
    with op.batch_alter_table("data_uploads") as batch:
        batch.add_column(sa.Column("ticker", sa.String(length=OLD_TICKER_CHARS), nullable=True))
    uploads = sa.table(
        "data_uploads",
        sa.column("id", sa.Uuid()),
        sa.column("filename", sa.String()),
        sa.column("tickers", JSON_DOCUMENT),
        sa.column("ticker", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(uploads.c.id, uploads.c.filename, uploads.c.tickers)).all()
    for upload_id, filename, tickers in rows:
        ticker = _one_column(upload_id, filename, tickers)
        if ticker is not None:
            connection.execute(sa.update(uploads).where(uploads.c.id == upload_id).values(ticker=ticker))
    with op.batch_alter_table("data_uploads") as batch:
        batch.drop_column("tickers")
