"""training_jobs.idempotency_key: a client retrying a job submission after a lost answer gets the job it already
queued, not a second one. Unique per user; jobs queued before it have none.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "training_jobs"
INDEX = "uq_training_jobs_idempotency_key"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=128), nullable=True))
        batch_op.create_index(INDEX, ["user_id", "idempotency_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_column("idempotency_key")
