"""Detected splits put to a person: confirmed ones adjust the prices, rejected ones are not asked again.

A confirmed split is stored as a corporate action (source "confirmed") and the adjusted closes
before it are divided by its factor; a rejected candidate is stored as a 1:1 split (source
"rejected"), which adjusts nothing and keeps detection from asking about that day again. The
raw prices never change. Decisions on one ticker are taken together or not at all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy.orm import Session

from common.errors import BadInput
from core.audit import record_event
from core.auth.roles import Permission, PermissionDeniedError, require
from core.data.splits import SplitCandidate, split_candidates
from core.indicator_store import refresh_indicators
from db.repositories.actor import Actor
from db.repositories.indicators import read_scope_prices
from db.repositories.prices import divide_adjusted_before, read_scope_actions, replace_actions

CONFIRMED, REJECTED = "confirmed", "rejected"


class SplitReviewError(BadInput, ValueError):
    """A decision names a day that is not an open split candidate; the message names it."""


@dataclass(frozen=True)
class SplitDecisions:
    confirmed: tuple[SplitCandidate, ...]
    rejected: tuple[SplitCandidate, ...]
    adjusted_rows: int


def open_candidates(*, session: Session, ticker: str, owner_id: uuid.UUID | None) -> list[SplitCandidate]:
    """The split candidates of one scope's prices that no source or rejection settled, nor a confirmation in effect."""
    prices = read_scope_prices(session=session, tickers=[ticker], owner_id=owner_id)
    settled = read_scope_actions(session=session, ticker=ticker, owner_id=owner_id, kind="split")
    # A confirmed split lives in the adjusted closes it divided, and no candidate shows on its day while
    # they run through it. One that shows again was undone (prices with an adjusted close of their own,
    # kept as given): it is open to confirm again.
    decided = settled[settled["source"] != CONFIRMED]
    settled_days = {pd.Timestamp(day).date() for day in decided["date"]}
    return [candidate for candidate in split_candidates(prices) if candidate.date not in settled_days]


def decide_splits(
    *,
    session: Session,
    actor: Actor,
    ticker: str,
    shared: bool,
    confirm: list[date],
    reject: list[date],
) -> SplitDecisions:
    """Confirm and reject split candidates of one ticker in the actor's own prices (or, for admins, the shared ones)."""
    require(actor, Permission.UPLOAD)
    if shared and not actor.is_admin:
        raise PermissionDeniedError("only an admin can confirm splits in shared market data")
    owner_id = None if shared else actor.user_id
    both = set(confirm) & set(reject)
    if both:
        raise SplitReviewError(f"{_days(both)}: confirmed and rejected at once")
    candidates = {c.date: c for c in open_candidates(session=session, ticker=ticker, owner_id=owner_id)}
    unknown = (set(confirm) | set(reject)) - candidates.keys()
    if unknown:
        raise SplitReviewError(f"{ticker} has no open split candidate on {_days(unknown)}")
    confirmed = [candidates[day] for day in sorted(confirm)]
    rejected = [candidates[day] for day in sorted(reject)]
    adjusted = 0
    for candidate in confirmed:
        adjusted += divide_adjusted_before(
            session=session, ticker=ticker, owner_id=owner_id, day=candidate.date, factor=float(candidate.factor)
        )
    for decided, source, value in ((confirmed, CONFIRMED, None), (rejected, REJECTED, 1.0)):
        actions = pd.DataFrame(
            {
                "date": [c.date for c in decided],
                "kind": "split",
                "value": [value if value is not None else float(c.factor) for c in decided],
            }
        )
        replace_actions(session=session, ticker=ticker, owner_id=owner_id, actions=actions, source=source)
    if adjusted:
        refresh_indicators(session=session, ticker=ticker, owner_id=owner_id)  # the screener reads adjusted prices
    detail = ", ".join(
        [f"{c.date} {c.label} confirmed" for c in confirmed] + [f"{c.date} {c.label} rejected" for c in rejected]
    )
    record_event(session=session, action="review splits", status="ok", actor=actor, detail=f"{ticker}: {detail}"[:500])
    return SplitDecisions(tuple(confirmed), tuple(rejected), adjusted)


def _days(days: set[date]) -> str:
    return ", ".join(day.isoformat() for day in sorted(days))
