"""API keys at work: who a presented key speaks for, and how many requests each key made per endpoint."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from core.auth.api_keys import KeyStatus, key_status, verify_api_key
from db.repositories.actor import Actor
from db.repositories.api_usage import count_key_request, sum_key_requests
from db.types import utc_now


@dataclass(frozen=True)
class KeyHolder:
    """The owner a valid key acts for, and which of their keys it was."""

    actor: Actor
    api_key_id: uuid.UUID


@dataclass(frozen=True)
class KeyUsage:
    api_key_id: uuid.UUID
    key_name: str
    key_prefix: str
    key_status: KeyStatus
    endpoint: str
    requests: int
    last_day: date

    @property
    def key_active(self) -> bool:
        return self.key_status is KeyStatus.ACTIVE


def authenticate_key(*, session: Session, secret: str) -> KeyHolder | None:
    """The owner and key of a presented secret, or None if it is unknown, revoked, expired or its owner inactive."""
    found = verify_api_key(session, secret)
    if found is None:
        return None
    record, user = found
    return KeyHolder(actor=Actor.of(user), api_key_id=record.id)


def record_key_request(*, session: Session, api_key_id: uuid.UUID, endpoint: str) -> date:
    """Count one request of the key to the endpoint (e.g. "GET /v1/prices/{ticker}") on today's UTC date, returned."""
    day = utc_now().date()
    count_key_request(session=session, api_key_id=api_key_id, endpoint=endpoint, day=day)
    return day


def usage_by_key(*, session: Session, actor: Actor, since: date | None = None) -> list[KeyUsage]:
    """Requests per endpoint of each of the actor's own keys, revoked ones included, since a day (UTC) or ever."""
    now = utc_now()
    return [
        KeyUsage(row.id, row.name, row.prefix, key_status(row, now=now), row.endpoint, row.requests, row.last_day)
        for row in sum_key_requests(session=session, actor=actor, since=since)
    ]
