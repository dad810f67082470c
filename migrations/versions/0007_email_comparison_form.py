"""E-mail addresses in their comparison form (NFKC, case-folded), so the unique constraints hold under Unicode.

Addresses were stored lower-cased only, so `josé@` composed and decomposed, or a fullwidth copy of
an address, were different values. This rewrites users.email and invitations.email in the form
db.repositories.users.normalise_email gives. Two existing rows that become the same address are
not merged (that is an admin's decision): the older keeps its address in the new form, the newer
keeps its old value, and the upgrade names them.

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-23
"""

import unicodedata
import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _comparison_form(email: str) -> str:
    # A copy of normalise_email as it is today: a revision never imports app code.
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def _normalise(table_name: str, order_column: str) -> None:
    table = sa.table(table_name, sa.column("id", sa.Uuid()), sa.column("email", sa.String()), sa.column(order_column))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.email).order_by(table.c[order_column], table.c.id)).all()
    taken = {email for _, email in rows}
    for row_id, email in rows:
        wanted = _comparison_form(email)
        if wanted == email:
            continue
        if wanted in taken:
            warnings.warn(
                f"{table_name}: the address of row {row_id} equals another row's once normalised; "
                "left as it was for an admin to resolve",
                stacklevel=1,
            )
            continue
        connection.execute(sa.update(table).where(table.c.id == row_id).values(email=wanted))
        taken.discard(email)
        taken.add(wanted)


def upgrade() -> None:
    _normalise("users", "created_at")
    _normalise("invitations", "created_at")


def downgrade() -> None:
    # The original spelling is not kept; the normalised addresses are valid in the old schema too.
    pass
