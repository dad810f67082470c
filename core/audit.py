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
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from common.errors import Refusal
from common.logging import get_logger
from db.engine import KEEP_AFTER_ROLLBACK, keep_after_rollback
from db.models import AuditLog
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
    """Append one event to the audit log (in the caller's transaction) and, once that commits, to app.log.

    `ip` defaults to the current request's address. A refusal passes survive_rollback=True: its row
    is written again after the rollback that the refusal causes (by db.engine.session_scope), and
    logged when that write commits.
    """
    name = actor.username if actor else username
    address = ip if ip is not None else current_client_address()
    row = add_audit_event(
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
        keep_after_rollback(session, row)
    _log_after_commit(
        session,
        row,
        (action, status, name, address, f"{latency_ms:.1f}" if latency_ms is not None else "-", detail or ""),
    )


# app.log says only what the audit table holds: a line logged as its row was added stayed there when the
# transaction was rolled back ("audit action=train status=ok ... v3" for a version never saved). So each line
# waits in its session until the transaction commits, and goes with a rollback.
_PENDING_LINES = "candlecast_audit_lines"


@dataclass(frozen=True)
class _PendingLine:
    row: AuditLog
    values: tuple
    recorded_in: SessionTransaction  # the innermost transaction then: a savepoint, maybe


def _log_after_commit(session: Session, row: AuditLog, values: tuple) -> None:
    if _PENDING_LINES not in session.info:
        session.info[_PENDING_LINES] = []
        event.listen(session, "after_commit", _write_pending_lines)
        event.listen(session, "after_soft_rollback", _drop_lines_of_a_savepoint)
        event.listen(session, "after_transaction_end", _drop_uncommitted_lines)
    recorded_in = session.get_nested_transaction() or session.get_transaction()
    session.info[_PENDING_LINES].append(_PendingLine(row, values, recorded_in))


def _write_pending_lines(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its rows are committed with the transaction around it, or not at all
    lines, session.info[_PENDING_LINES] = session.info.get(_PENDING_LINES, []), []
    for line in lines:
        log.info("audit action=%s status=%s user=%s ip=%s latency_ms=%s detail=%s", *line.values)


def _drop_lines_of_a_savepoint(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING_LINES)
    if pending and previous_transaction.nested:
        session.info[_PENDING_LINES] = [line for line in pending if not _inside(line, previous_transaction)]


def _inside(line: _PendingLine, transaction: SessionTransaction) -> bool:
    within: SessionTransaction | None = line.recorded_in
    while within is not None:
        if within is transaction:
            return True
        within = within.parent
    return False


def _drop_uncommitted_lines(session: Session, transaction: SessionTransaction) -> None:
    """The transaction ended without a commit (a commit has written its lines): only the rows session_scope
    writes again after the rollback, a refusal's, keep their lines, for the commit of that write."""
    pending = session.info.get(_PENDING_LINES)
    if pending and transaction.parent is None:
        kept = {id(row) for row in session.info.get(KEEP_AFTER_ROLLBACK, ())}
        session.info[_PENDING_LINES] = [line for line in pending if id(line.row) in kept]


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
