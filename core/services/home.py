"""The start page's data for one user: watchlist, recent jobs, predictions that met their day."""

from __future__ import annotations

from datetime import date, datetime

from core.home import StartPage, start_page
from db.engine import session_scope
from db.repositories.actor import Actor


def home_page(actor: Actor, *, today: date, seen_since: datetime | None = None) -> StartPage:
    """What Home shows; the first call of a visit also records the visit, for the next one's "since"."""
    with session_scope(action="start page") as session:
        return start_page(session=session, actor=actor, today=today, seen_since=seen_since)
