"""invitations.code_hash: an invitation is its address and a one-time code (stored as SHA-256 only) that the
admin passes on, so knowing an invited address is not enough to register with it.

Invitations stored before this revision get no code: nobody knows one to type. Each admits nobody until an
admin gives it a new code on the Account page (Administration, Invitations), which is shown once. Downgrading
drops the column, and with it every code.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "invitations"


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("code_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_column("code_hash")
