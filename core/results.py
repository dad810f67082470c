"""A user's stored results one at a time or as lists: jobs, walk-forward runs, backtests, risk figures."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import BacktestResult, Evaluation, RiskMetrics, TrainingJob
from db.repositories.actor import Actor, own_rows
from db.repositories.detail import without_detail

Stored = TypeVar("Stored", TrainingJob, Evaluation, BacktestResult, RiskMetrics)
DEFAULT_LIMIT = 50
# A list is read whole into memory and sent in one answer: a caller wanting more pages by date instead.
MAX_LIMIT = 500


def get_owned(*, session: Session, actor: Actor, kind: type[Stored], row_id: uuid.UUID) -> Stored | None:
    """One stored result the actor may see (their own; an admin's view is everyone's), or None."""
    return session.scalar(select(kind).where(kind.id == row_id, own_rows(kind.user_id, actor)))


def list_owned(
    *, session: Session, actor: Actor, kind: type[Stored], ticker: str | None = None, limit: int = DEFAULT_LIMIT
) -> Sequence[Stored]:
    """The actor's stored results of one kind, newest first; ticker filters those that have one."""
    query = select(kind).where(own_rows(kind.user_id, actor)).order_by(kind.created_at.desc(), kind.id).limit(limit)
    query = query.options(*without_detail(kind))
    if ticker and hasattr(kind, "ticker"):
        query = query.where(kind.ticker == ticker)
    return session.scalars(query).all()
