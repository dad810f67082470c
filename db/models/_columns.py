"""Column helpers shared by the model modules."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from db.types import utc_now


def uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4)


def created_at() -> Mapped[datetime]:
    return mapped_column(default=utc_now)


def owner_fk(*, nullable: bool = False, index: bool = True) -> Mapped[uuid.UUID]:
    """A reference to the owning user; deleting the user deletes the row."""
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=nullable, index=index)


def one_of(column: str, values: Iterable[str]) -> CheckConstraint:
    """A CHECK that the column holds one of the given words, named after the column."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)
