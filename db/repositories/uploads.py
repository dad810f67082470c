"""The record of every upload: who, which file, what kind, how many rows, accepted or not, and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.models import DataUpload
from db.repositories.actor import Actor


def record_upload(
    *,
    session: Session,
    actor: Actor,
    filename: str,
    kind: str,
    status: str,
    row_count: int,
    tickers: list[str] | tuple[str, ...] = (),
    details: dict[str, Any] | None = None,
) -> DataUpload:
    """Add the record of one uploaded file to the session (flushed, not committed)."""
    upload = DataUpload(
        user_id=actor.user_id,
        filename=filename[:255],
        kind=kind,
        tickers=list(tickers),
        row_count=row_count,
        status=status,
        details=details or {},
    )
    session.add(upload)
    session.flush()
    return upload
