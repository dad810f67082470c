"""Per-key request counts: one atomic upsert per request, sums per key and endpoint for the owner."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Row, func, select, text
from sqlalchemy.orm import Session

from db.models import ApiKey, ApiKeyUsage
from db.repositories.actor import Actor, own_rows
from db.repositories.upsert import upsert_insert


def count_key_request(*, session: Session, api_key_id: uuid.UUID, endpoint: str, day: date) -> None:
    """Add one to the key's count for the endpoint and day; concurrent requests never lose a count.

    On PostgreSQL the transaction's commit then does not wait for the disk: a request must not pay
    a WAL flush (several ms on a busy disk) for its bookkeeping. A server crash may lose the last
    moments of counts (and of whatever else the transaction wrote: keep it to bookkeeping, as the
    API's key check does); it can neither tear nor corrupt them.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    statement = upsert_insert(session, ApiKeyUsage).values(
        id=uuid.uuid4(), api_key_id=api_key_id, endpoint=endpoint, day=day, request_count=1
    )
    statement = statement.on_conflict_do_update(
        index_elements=[ApiKeyUsage.api_key_id, ApiKeyUsage.endpoint, ApiKeyUsage.day],
        set_={"request_count": ApiKeyUsage.request_count + 1},
    )
    session.execute(statement)


def sum_key_requests(
    *, session: Session, actor: Actor, since: date | None = None
) -> list[Row[tuple[uuid.UUID, str, str, bool, datetime | None, str, int, date]]]:
    """(key id, name, prefix, is_active, expires_at, endpoint, requests, last day) of the actor's own keys."""
    query = (
        select(
            ApiKey.id,
            ApiKey.name,
            ApiKey.prefix,
            ApiKey.is_active,
            ApiKey.expires_at,
            ApiKeyUsage.endpoint,
            func.sum(ApiKeyUsage.request_count).label("requests"),
            func.max(ApiKeyUsage.day).label("last_day"),
        )
        .join(ApiKeyUsage, ApiKeyUsage.api_key_id == ApiKey.id)
        .where(own_rows(ApiKey.user_id, actor))
        .group_by(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.is_active, ApiKey.expires_at, ApiKeyUsage.endpoint)
        .order_by(ApiKey.name, ApiKey.id, ApiKeyUsage.endpoint)
    )
    if since is not None:
        query = query.where(ApiKeyUsage.day >= since)
    return list(session.execute(query).all())
