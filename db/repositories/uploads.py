"""The record of every upload: who, which file, what kind, how many rows, accepted or not, and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import DataUpload
from db.repositories.actor import Actor, owned_by


def record_upload(
    *,
    session: Session,
    actor: Actor,
    filename: str,
    kind: str,
    status: str,
    row_count: int,
    ticker: str | None = None,
    details: dict[str, Any] | None = None,
) -> DataUpload:
    upload = DataUpload(
        user_id=actor.user_id,
        filename=filename[:255],
        kind=kind,
        ticker=ticker,
        row_count=row_count,
        status=status,
        details=details or {},
    )
    session.add(upload)
    session.flush()
    return upload


def list_uploads(*, session: Session, actor: Actor, limit: int = 50) -> Sequence[DataUpload]:
    query = (
        select(DataUpload)
        .where(owned_by(DataUpload.user_id, actor))
        .order_by(DataUpload.created_at.desc())
        .limit(limit)
    )
    return session.scalars(query).all()
