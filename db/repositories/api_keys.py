"""API keys: stored as SHA-256 only; listed and revoked by their owner."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import ApiKey
from db.repositories.actor import Actor, own_rows


def add_api_key(
    *, session: Session, actor: Actor, name: str, prefix: str, key_hash: str, expires_at: datetime | None
) -> ApiKey:
    key = ApiKey(user_id=actor.user_id, name=name, prefix=prefix, key_hash=key_hash, expires_at=expires_at)
    session.add(key)
    session.flush()
    return key


def list_api_keys(*, session: Session, actor: Actor) -> Sequence[ApiKey]:
    """The actor's own keys, newest first."""
    query = select(ApiKey).where(own_rows(ApiKey.user_id, actor)).order_by(ApiKey.created_at.desc())
    return session.scalars(query).all()


def list_user_api_keys(*, session: Session, user_id: uuid.UUID) -> Sequence[ApiKey]:
    """Every key of one user, for an admin's action on that user's account (not for showing to the admin)."""
    return session.scalars(select(ApiKey).where(ApiKey.user_id == user_id)).all()


def get_api_key_by_hash(*, session: Session, key_hash: str) -> ApiKey | None:
    """The key with this hash, whoever owns it: used only to authenticate a presented key."""
    return session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


def revoke_api_key(*, session: Session, actor: Actor, key_id: uuid.UUID) -> ApiKey | None:
    """Deactivate one of the actor's own active keys (an admin's too: keys are personal) and return it; None
    when there is none, so a second revocation is refused rather than reported done again."""
    query = select(ApiKey).where(ApiKey.id == key_id, own_rows(ApiKey.user_id, actor), ApiKey.is_active)
    key = session.scalar(query)
    if key is None:
        return None
    key.is_active = False
    session.flush()
    return key
