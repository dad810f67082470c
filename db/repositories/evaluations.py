"""Stored evaluation runs (walk-forward), owned by their user."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Evaluation
from db.repositories.actor import Actor, own_rows
from db.repositories.detail import without_detail


def add_evaluation(*, session: Session, evaluation: Evaluation) -> Evaluation:
    session.add(evaluation)
    session.flush()
    return evaluation


def list_evaluations(
    *, session: Session, actor: Actor, ticker: str | None = None, kind: str = "walkforward", limit: int | None = None
) -> Sequence[Evaluation]:
    """The actor's own runs of one kind (walkforward or leaderboard), newest first, without their windows:
    the Metrics page lists every run on each of its runs but draws one, which it reads on its own."""
    query = (
        select(Evaluation)
        .options(*without_detail(Evaluation))
        .where(own_rows(Evaluation.user_id, actor), Evaluation.kind == kind)
        .order_by(Evaluation.created_at.desc())
        .limit(limit)
    )
    if ticker:
        query = query.where(Evaluation.ticker == ticker)
    return session.scalars(query).all()
