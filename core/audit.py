"""The audit trail: who did what, from where, how long it took. Never holds a secret.

The client's address is set once per request (the app's router does it on every run; a job
runner sets the address of the request that queued the job) and every audit row of that request
carries it, so no action has to pass it along.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.orm import Session

from common.errors import Refusal
from common.logging import get_logger
from db.engine import keep_after_rollback
from db.repositories.actor import Actor
from db.repositories.audit import add_audit_event

log = get_logger("api")

_client_address: ContextVar[str | None] = ContextVar("candlecast_client_address", default=None)


def set_client_address(address: str | None) -> None:
    """The address of the request being served in this thread (or task), for every audit row it writes."""
    _client_address.set(address)


def current_client_address() -> str | None:
    """The address of the request being served here; None outside a request."""
    return _client_address.get()


@contextmanager
def client_address(address: str | None) -> Iterator[None]:
    """Within the block, audit rows carry this address (a job runs with its requester's address)."""
    token = _client_address.set(address)
    try:
        yield
    finally:
        _client_address.reset(token)


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
    survive_rollback: bool = False,
) -> None:
    """Append one event to the audit log (in the caller's transaction) and to app.log.

    `ip` defaults to the current request's address. A refusal passes survive_rollback=True: its row
    is written again after the rollback that the refusal causes (by db.engine.session_scope).
    """
    name = actor.username if actor else username
    address = ip if ip is not None else current_client_address()
    event = add_audit_event(
        session=session,
        action=action,
        status=status,
        user_id=actor.user_id if actor else None,
        username=name,
        detail=detail,
        ip=address,
        latency_ms=round(latency_ms, 2) if latency_ms is not None else None,
    )
    if survive_rollback:
        keep_after_rollback(session, event)
    log.info(
        "audit action=%s status=%s user=%s ip=%s latency_ms=%s detail=%s",
        action,
        status,
        name,
        address,
        f"{latency_ms:.1f}" if latency_ms is not None else "-",
        detail or "",
    )


MAX_REFUSAL_DETAIL = 200


@contextmanager
def refusals_audited(
    *, session: Session, action: str, actor: Actor | None = None, ip: str | None = None
) -> Iterator[None]:
    """A refusal raised in the block is audited as failed, in a row kept after the rollback it causes.

    The row's detail is the refusal's `reason` where it has one: a message that would repeat
    what the user typed carries a reason that does not.
    """
    started = time.perf_counter()
    try:
        yield
    except Refusal as refusal:
        record_event(
            session=session,
            action=action,
            status="failed",
            actor=actor,
            ip=ip,
            detail=(getattr(refusal, "reason", None) or str(refusal))[:MAX_REFUSAL_DETAIL],
            latency_ms=(time.perf_counter() - started) * 1000,
            survive_rollback=True,
        )
        raise
