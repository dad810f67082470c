"""API keys: shown once at creation, stored only as SHA-256, checked and revoked at once."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy.orm import Session

from common.errors import BadInput
from common.logging import without_controls
from core.audit import record_event
from db.models import ApiKey, User
from db.repositories.actor import Actor
from db.repositories.api_keys import (
    add_api_key,
    get_api_key_by_hash,
    list_api_keys,
    list_user_api_keys,
    revoke_api_key,
)
from db.repositories.users import get_user, lock_user
from db.types import utc_now

KEY_PREFIX = "cc_"
KEY_RANDOM_BYTES = 32  # 256 bits, comfortably past the 128 bits a guess would need to beat
DISPLAY_PREFIX_CHARS = 8
MAX_NAME_CHARS = 100
LAST_USED_PRECISION = timedelta(minutes=1)
# Each key has its own API limits, so the cap on keys is what bounds one account's requests.
MAX_ACTIVE_KEYS_PER_USER = 10


class ApiKeyError(BadInput):
    """The key request is malformed (the message names the field) or would pass the cap on keys."""


@dataclass(frozen=True)
class NewApiKey:
    """A freshly made key: `secret` is shown to its owner once and never stored."""

    secret: str
    record: ApiKey


class KeyStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class KeyState(Protocol):
    """What decides a key's status: an ApiKey, or a row read with these two of its columns."""

    is_active: bool
    expires_at: datetime | None


def key_status(record: KeyState, *, now: datetime | None = None) -> KeyStatus:
    """Whether a key authenticates (active) or why not: the one rule verify_api_key and the pages use."""
    if not record.is_active:
        return KeyStatus.REVOKED
    if record.expires_at is not None and record.expires_at <= (now or utc_now()):
        return KeyStatus.EXPIRED
    return KeyStatus.ACTIVE


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_key(
    *, session: Session, actor: Actor, name: str, expires_in_days: int | None, client_ip: str | None = None
) -> NewApiKey:
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise ApiKeyError(f"name: 1-{MAX_NAME_CHARS} characters")
    if without_controls(name) != name:
        # A line break or terminal escape in a name would be written into the logs and the audit trail.
        raise ApiKeyError("name: no control characters (line breaks, tabs and the like); use plain text")
    if expires_in_days is not None and expires_in_days < 1:
        raise ApiKeyError("expires in days: at least 1, or no expiry")
    # One creation per account at a time, or parallel requests could each see room under the cap.
    lock_user(session=session, user_id=actor.user_id)
    now = utc_now()
    active = sum(key_status(key, now=now) is KeyStatus.ACTIVE for key in list_api_keys(session=session, actor=actor))
    if active >= MAX_ACTIVE_KEYS_PER_USER:
        raise ApiKeyError(
            f"You already have {MAX_ACTIVE_KEYS_PER_USER} active API keys, the most an account may hold: "
            "revoke one you no longer use, then create the new one"
        )
    secret = KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)
    record = add_api_key(
        session=session,
        actor=actor,
        name=name,
        prefix=secret[: len(KEY_PREFIX) + DISPLAY_PREFIX_CHARS],
        key_hash=hash_api_key(secret),
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    record_event(session=session, action="api key create", status="ok", actor=actor, ip=client_ip, detail=name)
    return NewApiKey(secret=secret, record=record)


def list_keys(*, session: Session, actor: Actor) -> Sequence[ApiKey]:
    return list_api_keys(session=session, actor=actor)


def revoke_key(*, session: Session, actor: Actor, key_id: uuid.UUID, client_ip: str | None = None) -> bool:
    revoked = revoke_api_key(session=session, actor=actor, key_id=key_id)
    record_event(
        session=session,
        action="api key revoke",
        status="ok" if revoked else "failed",
        actor=actor,
        ip=client_ip,
        # Named as the create row names it, with its creation to tell apart keys named alike; the id is on no page.
        detail=f"{revoked.name} (created {revoked.created_at:%Y-%m-%d %H:%M} UTC)" if revoked else str(key_id),
        # A refused revocation is kept through the rollback its refusal causes.
        survive_rollback=not revoked,
    )
    return revoked is not None


def revoke_every_key_of(*, session: Session, user_id: uuid.UUID) -> int:
    """Revoke each of the user's keys that still authenticates; how many that was.

    Expired and already revoked keys are left as they are, so each keeps the status it had; the caller
    audits the count (never a key).
    """
    # The lock create_api_key takes: a key being made at this moment is committed first, then revoked here.
    lock_user(session=session, user_id=user_id)
    now = utc_now()
    working = [
        key
        for key in list_user_api_keys(session=session, user_id=user_id)
        if key_status(key, now=now) is KeyStatus.ACTIVE
    ]
    for key in working:
        key.is_active = False
    session.flush()
    return len(working)


def verify_api_key(session: Session, key: str) -> tuple[ApiKey, User] | None:
    """The record and owner of a presented key, or None if it is unknown, revoked, expired or its owner inactive.

    The key's last use is written at most once a minute: precise enough to show, and a busy key
    does not write (and lock) its row on every request.
    """
    if not key or not key.startswith(KEY_PREFIX):
        return None
    record = get_api_key_by_hash(session=session, key_hash=hash_api_key(key.strip()))
    now = utc_now()
    if record is None or key_status(record, now=now) is not KeyStatus.ACTIVE:
        return None
    user = get_user(session=session, user_id=record.user_id)
    if user is None or not user.is_active:
        return None
    if record.last_used is None or now - record.last_used >= LAST_USED_PRECISION:
        record.last_used = now
        session.flush()
    return record, user
