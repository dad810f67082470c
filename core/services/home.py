"""The start page's data for one user: watchlist, recent jobs, predictions that met their day."""

from __future__ import annotations

from datetime import datetime

from core.home import StartPage, start_page
from core.notifications import notifications_since
from db.engine import session_scope
from db.repositories.actor import Actor


def home_page(actor: Actor, *, now: datetime, seen_since: datetime | None = None) -> StartPage:
    """What Home shows, its watchlist's staleness judged at `now`; the first call of a visit also records the
    visit, for the next one's "since"."""
    with session_scope(action="start page") as session:
        return start_page(session=session, actor=actor, today=now, seen_since=seen_since)


def news_since(actor: Actor, *, since: datetime) -> list[str]:
    """The actor's notifications (jobs ended, predictions matured) since a moment, oldest first."""
    with session_scope(action="notifications", read_only=True) as session:
        return notifications_since(session=session, actor=actor, since=since)
