"""Forecast actions: predict from a stored version into the ledger, read the ledger with outcomes, score it.

What the Predictions page and the API's prediction and ledger routes call; each function owns its transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from common.config import get_settings
from core import predictions
from core.auth.roles import Permission, can
from core.preferences import load_preferences
from core.throttle import get_throttle
from db.engine import session_scope
from db.models import ModelVersion
from db.repositories.actor import Actor
from db.repositories.models import list_model_versions
from db.repositories.predictions import LedgerFreshness, LedgerPosition


@dataclass(frozen=True)
class PredictionsView:
    """What the Predictions page reads before any form is used."""

    versions: Sequence[ModelVersion]
    default_tickers: list[str]
    chart_template: str
    can_predict: bool


def predictions_view(actor: Actor) -> PredictionsView:
    with session_scope(action="predictions page") as session:
        preferences = load_preferences(session=session, actor=actor)
        versions = list(list_model_versions(session=session, actor=actor))
    return PredictionsView(
        versions, list(preferences.default_tickers), preferences.plotly_template, can(actor, Permission.PREDICT)
    )


def predict(
    actor: Actor,
    ticker: str,
    days: int,
    version_id: uuid.UUID | None = None,
    client_ip: str | None = None,
) -> predictions.PredictionsMade:
    """Forecast the next `days` trading days with the active (or the given) version, kept in the ledger."""
    with session_scope(action="predict") as session:
        return predictions.predict(
            session=session,
            actor=actor,
            ticker=ticker,
            days=days,
            settings=get_settings(),
            throttle=get_throttle(),
            version_id=version_id,
            client_ip=client_ip,
        )


def ledger(
    actor: Actor,
    *,
    ticker: str | None = None,
    model_version_id: uuid.UUID | None = None,
    since: date | None = None,
) -> pd.DataFrame:
    """The actor's predictions with actual values, errors and interval hits once matured."""
    with session_scope(action="read ledger", read_only=True) as session:
        return predictions.ledger_with_outcomes(
            session=session, actor=actor, ticker=ticker, model_version_id=model_version_id, since=since
        )


def ledger_page(
    actor: Actor,
    *,
    limit: int,
    after: LedgerPosition | None = None,
    ticker: str | None = None,
    model_version_id: uuid.UUID | None = None,
    since: date | None = None,
) -> predictions.LedgerPage:
    """A page of the actor's ledger past `after`, and the cursor of the next page (None: this is the last)."""
    with session_scope(action="read ledger", read_only=True) as session:
        return predictions.ledger_page(
            session=session,
            actor=actor,
            limit=limit,
            after=after,
            ticker=ticker,
            model_version_id=model_version_id,
            since=since,
        )


def ledger_freshness(actor: Actor) -> LedgerFreshness:
    """A few numbers that change whenever the actor's ledger does: a page keeping a copy of the ledger
    compares them, one small query, instead of reading every row again on each rerun."""
    with session_scope(action="check ledger", read_only=True) as session:
        return predictions.ledger_freshness(session=session, actor=actor)


def scoreboard(entries: pd.DataFrame) -> pd.DataFrame:
    """Out-of-sample scores per model over the matured rows of a ledger, with the Diebold-Mariano verdict."""
    return predictions.scoreboard(entries)
