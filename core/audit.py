"""The audit trail: who did what, from where, how long it took. Never holds a secret."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.logging import get_logger
from db.repositories.actor import Actor
from db.repositories.audit import add_audit_event

log = get_logger("api")


def record_event(
    *,
    session: Session,
    action: str,
    status: str,
    actor: Actor | None = None,
    username: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
    latency_ms: float | None = None,
) -> None:
    """Append one event to the audit log (in the caller's transaction) and to app.log."""
    name = actor.username if actor else username
    add_audit_event(
        session=session,
        action=action,
        status=status,
        user_id=actor.user_id if actor else None,
        username=name,
        detail=detail,
        ip=ip,
        latency_ms=round(latency_ms, 2) if latency_ms is not None else None,
    )
    log.info(
        "audit action=%s status=%s user=%s ip=%s latency_ms=%s detail=%s",
        action,
        status,
        name,
        ip,
        f"{latency_ms:.1f}" if latency_ms is not None else "-",
        detail or "",
    )
