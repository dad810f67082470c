"""The audit log: append events; admins read them with filters."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from db.models import AuditLog
from db.repositories.actor import Actor

DEFAULT_AUDIT_ROWS = 200
MAX_AUDIT_ROWS = 1000
MAX_DETAIL_CHARS = 1000


def _fit(value: str | None, column: Any) -> str | None:
    """Cut text to its column's length: an audit row must never fail to be written."""
    length = getattr(column.type, "length", None) or MAX_DETAIL_CHARS
    return value[:length] if value is not None else None


def add_audit_event(
    *,
    session: Session,
    action: str,
    status: str,
    user_id: uuid.UUID | None = None,
    username: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
    latency_ms: float | None = None,
) -> AuditLog:
    event = AuditLog(
        user_id=user_id,
        username=_fit(username, AuditLog.username),
        action=_fit(action, AuditLog.action),
        status=_fit(status, AuditLog.status),
        detail=_fit(detail, AuditLog.detail),
        ip=_fit(ip, AuditLog.ip),
        latency_ms=latency_ms,
    )
    session.add(event)
    session.flush()
    return event


def _filtered(
    query: Select[Any],
    *,
    actor: Actor,
    action: str | None,
    status: str | None,
    username: str | None,
    since: datetime | None,
) -> Select[Any]:
    if not actor.is_admin:
        query = query.where(AuditLog.user_id == actor.user_id)
    if action:
        query = query.where(AuditLog.action == action)
    if status:
        query = query.where(AuditLog.status == status)
    if username:
        query = query.where(AuditLog.username == username.strip().lower())
    if since:
        query = query.where(AuditLog.at >= since)
    return query


def list_audit_events(
    *,
    session: Session,
    actor: Actor,
    action: str | None = None,
    status: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_AUDIT_ROWS,
) -> Sequence[AuditLog]:
    """Newest events first; an admin sees everyone's, anyone else only their own."""
    query = select(AuditLog).order_by(AuditLog.at.desc()).limit(min(limit, MAX_AUDIT_ROWS))
    query = _filtered(query, actor=actor, action=action, status=status, username=username, since=since)
    return session.scalars(query).all()


def count_audit_events(
    *,
    session: Session,
    actor: Actor,
    action: str | None = None,
    status: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
) -> int:
    """How many events the same filters match, however many list_audit_events returns."""
    query = _filtered(
        select(func.count()).select_from(AuditLog),
        actor=actor,
        action=action,
        status=status,
        username=username,
        since=since,
    )
    return session.scalar(query) or 0


def list_audit_actions(*, session: Session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def list_audit_statuses(*, session: Session) -> list[str]:
    """Every status the log holds: the app writes more than a login's ok, failed, locked and unavailable."""
    return list(session.scalars(select(AuditLog.status).distinct().order_by(AuditLog.status)))
