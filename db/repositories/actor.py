"""The acting user that every repository function takes, and the ownership filter built from it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from db.models import User
from db.models.accounts import Role


@dataclass(frozen=True)
class Actor:
    """Who is acting: enough to decide what they may see, detached from any session."""

    user_id: uuid.UUID
    username: str
    role: str
    tier: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user_id=user.id, username=user.username, role=user.role, tier=user.subscription_tier)


def owned_by(owner_column: InstrumentedAttribute[uuid.UUID], actor: Actor) -> ColumnElement[bool]:
    """Rows the actor may see: their own, or every row for an admin."""
    return true() if actor.is_admin else owner_column == actor.user_id


def own_rows(owner_column: InstrumentedAttribute[uuid.UUID], actor: Actor) -> ColumnElement[bool]:
    """Rows that are the actor's own, admin or not (keys, preferences: personal things)."""
    return owner_column == actor.user_id


def shared_or_own(owner_column: InstrumentedAttribute[uuid.UUID | None], actor: Actor) -> ColumnElement[bool]:
    """Market data the actor sees: the shared rows (no owner) and their own uploads, admin or not."""
    return or_(owner_column.is_(None), owner_column == actor.user_id)
