"""one_row_per_forecast: a forecast (user, version, day made, target day) is kept once, and each row keeps
its version's number and type, so a deleted version's forecasts still name it and are not merged with
another deleted version's.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_predictions_forecast"
KEY = ("user_id", "model_version_id", "prediction_date", "target_date")


def upgrade() -> None:
    # Copies left by Predict pressed twice: the first one made is the forecast the ledger promised
    # (ties on created_at broken by id, so exactly one survives). Rows of deleted versions (no link)
    # are left alone: nothing tells two deleted versions apart, and the index does not cover them.
    same_forecast = " AND ".join(f"older.{column} = predictions.{column}" for column in KEY)
    op.execute(
        "DELETE FROM predictions WHERE model_version_id IS NOT NULL AND EXISTS ("
        f"SELECT 1 FROM predictions older WHERE {same_forecast} AND (older.created_at < predictions.created_at"
        " OR (older.created_at = predictions.created_at AND older.id < predictions.id)))"
    )
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_version_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("model_type", sa.String(length=32), nullable=True))
        batch_op.create_index(INDEX, list(KEY), unique=True)
    for column, source in (("model_version_number", "version"), ("model_type", "model_type")):
        op.execute(
            f"UPDATE predictions SET {column} = (SELECT model_versions.{source} FROM model_versions"
            " WHERE model_versions.id = predictions.model_version_id) WHERE model_version_id IS NOT NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_column("model_type")
        batch_op.drop_column("model_version_number")
