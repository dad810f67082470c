"""Per-user action counts in rate_limits, for the Account page's usage view (counted per UTC day)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from db.models import RateLimit
from db.repositories.actor import Actor, own_rows
from db.repositories.upsert import upsert_insert
from db.types import utc_now


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def count_action(*, session: Session, actor: Actor, endpoint: str, now: datetime | None = None) -> None:
    """Add one to the actor's count for the endpoint; a new UTC day starts again from one."""
    now = now or utc_now()
    day_start = _day_start(now)
    statement = upsert_insert(session, RateLimit).values(
        id=uuid.uuid4(), user_id=actor.user_id, endpoint=endpoint, request_count=1, last_reset=now
    )
    # One statement, so concurrent actions of the same user never lose a count.
    new_day = RateLimit.last_reset < day_start
    statement = statement.on_conflict_do_update(
        index_elements=[RateLimit.user_id, RateLimit.endpoint],
        set_={
            "request_count": case((new_day, 1), else_=RateLimit.request_count + 1),
            "last_reset": case((new_day, now), else_=RateLimit.last_reset),
        },
    )
    session.execute(statement)


def list_usage(*, session: Session, actor: Actor) -> Sequence[RateLimit]:
    query = select(RateLimit).where(own_rows(RateLimit.user_id, actor)).order_by(RateLimit.endpoint)
    return session.scalars(query).all()


def counts_today(*, session: Session, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """The actor's count of each endpoint this UTC day.

    A row's count is reset only by the next action on a new day, so a row last reset before today's
    midnight holds an earlier day's count: today that is none.
    """
    day_start = _day_start(now or utc_now())
    return {
        row.endpoint: row.request_count if row.last_reset >= day_start else 0
        for row in list_usage(session=session, actor=actor)
    }
