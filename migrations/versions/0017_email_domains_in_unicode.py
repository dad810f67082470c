"""E-mail addresses with a punycode domain in the Unicode form the app looks up.

0007 gave every address its comparison form but stopped short of the step the app takes next
(db.repositories.users.checked_email): email_validator turns an IDNA domain such as
xn--bcher-kva.example into bücher.example. A user stored with the punycode spelling was therefore
never found by their address, and could register a second account with it. This rewrites
users.email and invitations.email as checked_email does today. Addresses email_validator does not
accept are left as they are (the app cannot look them up either way); two rows that become the
same address are not merged, as in 0007: the older takes the new form, the newer keeps its value,
and the upgrade names it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

import unicodedata
import warnings
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from email_validator import EmailNotValidError, validate_email

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _folded(email: str) -> str:
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)


def _comparison_form(email: str) -> str:
    # A copy of checked_email as it is today (without its length check, which only refuses):
    # a revision never imports app code.
    try:
        validated = validate_email(_folded(email), check_deliverability=False)
    except EmailNotValidError:
        return email
    return _folded(validated.normalized)


def _convert(table_name: str) -> None:
    table = sa.table(table_name, sa.column("id", sa.Uuid()), sa.column("email", sa.String()), sa.column("created_at"))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.email).order_by(table.c.created_at, table.c.id)).all()
    taken = {email for _, email in rows}
    for row_id, email in rows:
        wanted = _comparison_form(email)
        if wanted == email:
            continue
        if wanted in taken:
            warnings.warn(
                f"{table_name}: the address of row {row_id} equals another row's once its domain is in Unicode; "
                "left as it was for an admin to resolve",
                stacklevel=1,
            )
            continue
        connection.execute(sa.update(table).where(table.c.id == row_id).values(email=wanted))
        taken.discard(email)
        taken.add(wanted)


def upgrade() -> None:
    _convert("users")
    _convert("invitations")


def downgrade() -> None:
    # The punycode spelling is not kept; the Unicode addresses are valid before this revision too.
    pass
