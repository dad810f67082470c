"""What the start page shows: the watchlist, recent jobs, and predictions that matured since the last visit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from core.auth.roles import Permission, can
from core.data.calendar import as_instant, is_stale
from core.forecasting import metrics
from core.forecasting.zoo import job_name
from core.jobs import list_jobs
from core.predictions import ledger_with_outcomes
from core.preferences import load_preferences
from db.repositories.actor import Actor
from db.repositories.models import any_model_versions
from db.repositories.predictions import any_predictions, count_matured
from db.repositories.preferences import get_preferences, update_preferences
from db.repositories.prices import list_cached_tickers, read_prices
from db.types import utc_now

SPARKLINE_DAYS = 30
WATCHLIST_FALLBACK = 6  # tickers shown to someone who has not chosen default tickers yet
RECENT_JOBS = 5
MATURED_SHOWN = 20
SEEN_KEY = "home_seen_at"
NEVER = datetime(1970, 1, 1, tzinfo=UTC)
# Each step of getting started, and the permissions of which any one lets a role take it.
STEP_PERMISSIONS = {
    "prices": (Permission.FETCH, Permission.UPLOAD),
    "model": (Permission.TRAIN,),
    "prediction": (Permission.PREDICT,),
}


@dataclass(frozen=True)
class WatchRow:
    ticker: str
    last_close: float
    day_change: float | None  # share of one: 0.012 is +1.2 %
    last_bar: date
    stale: bool
    recent: list[float]


@dataclass(frozen=True)
class JobRow:
    ticker: str
    job: str
    status: str
    progress: float
    created_at: datetime
    finished_at: datetime | None
    message: str


@dataclass(frozen=True)
class MaturedRow:
    ticker: str
    model: str
    target_date: date
    predicted: float
    actual: float
    direction_right: bool | None  # None: no move forecast (or none happened), no direction to be right about
    inside_interval: bool


@dataclass(frozen=True)
class FirstStep:
    name: str  # a key of STEP_PERMISSIONS
    done: bool


@dataclass(frozen=True)
class StartPage:
    watchlist: list[WatchRow] = field(default_factory=list)
    watchlist_is_default: bool = True  # False when we fell back to any cached tickers
    jobs: list[JobRow] = field(default_factory=list)
    matured: list[MaturedRow] = field(default_factory=list)  # the MATURED_SHOWN of latest target day
    matured_total: int = 0  # all that met their day since seen_since, shown or not
    seen_since: datetime = NEVER
    has_prices: bool = False
    has_models: bool = False
    has_predictions: bool = False
    first_steps: tuple[FirstStep, ...] = ()  # only those the actor's role may take

    @property
    def first_run(self) -> bool:
        return any(not step.done for step in self.first_steps)


def start_page(
    *, session: Session, actor: Actor, today: date | datetime, seen_since: datetime | None = None
) -> StartPage:
    """Everything Home shows, in one call.

    today: when the watchlist's staleness is judged, an aware datetime (a bare day counts from its first
    instant in UTC, before any of its sessions closed). Without seen_since, outcomes since the stored last
    visit are listed and this visit is stored; a page passes the returned seen_since back on its reruns, so
    a click does not empty the list.
    """
    preferences = load_preferences(session=session, actor=actor)
    cached = list_cached_tickers(session=session, actor=actor)
    last_dates: dict[str, date] = {}
    for row in cached:
        last_dates[row.ticker] = max(row.last_date, last_dates.get(row.ticker, row.last_date))
    chosen = [t for t in preferences.default_tickers if t in last_dates]
    watch = chosen or sorted(last_dates)[:WATCHLIST_FALLBACK]
    now = as_instant(today)
    watchlist = [_watch_row(session, actor, ticker, last_dates[ticker], now) for ticker in watch]

    if seen_since is None:
        stored = (get_preferences(session=session, actor=actor).ui_preferences or {}).get(SEEN_KEY)
        seen_since = datetime.fromisoformat(stored) if stored else NEVER
        update_preferences(session=session, actor=actor, ui_preferences={SEEN_KEY: utc_now().isoformat()})
    # Only the rows shown, not the whole ledger: a heavy user's 20,000 predictions took half a second.
    matured = _matured_rows(
        ledger_with_outcomes(session=session, actor=actor, matured_after=seen_since, limit=MATURED_SHOWN)
    )
    jobs = [
        JobRow(j.ticker, job_name(j.kind, j.config), j.status, j.progress, j.created_at, j.finished_at, j.message or "")
        for j in list_jobs(session=session, actor=actor, limit=RECENT_JOBS, every_open=True)
    ]
    done = {
        "prices": bool(cached),
        "model": any_model_versions(session=session, actor=actor),
        "prediction": any_predictions(session=session, actor=actor),
    }
    return StartPage(
        watchlist=watchlist,
        watchlist_is_default=bool(chosen),
        jobs=jobs,
        matured=matured,
        matured_total=count_matured(session=session, actor=actor, since=seen_since),
        seen_since=seen_since,
        has_prices=done["prices"],
        has_models=done["model"],
        has_predictions=done["prediction"],
        # A viewer was shown all three on every visit, each a step their role refuses.
        first_steps=tuple(
            FirstStep(name, done[name])
            for name, permissions in STEP_PERMISSIONS.items()
            if any(can(actor, permission) for permission in permissions)
        ),
    )


def _watch_row(session: Session, actor: Actor, ticker: str, last_bar: date, now: datetime) -> WatchRow:
    # A calendar window wide enough for SPARKLINE_DAYS trading days and the day before them.
    prices = read_prices(session=session, actor=actor, ticker=ticker, start=last_bar - timedelta(days=60))
    # The change and the sparkline from the adjusted close, as every return is: a split is no -50 % day.
    adjusted = prices["adjusted_close"].astype(float)
    change = float(adjusted.iloc[-1] / adjusted.iloc[-2] - 1) if len(adjusted) > 1 else None
    newest = pd.Timestamp(prices["date"].iloc[-1]).date()
    return WatchRow(
        ticker=ticker,
        last_close=float(prices["close"].iloc[-1]),
        day_change=change,
        last_bar=newest,
        stale=is_stale(newest, now, ticker),
        recent=adjusted.tail(SPARKLINE_DAYS).round(4).tolist(),
    )


def _matured_rows(matured: pd.DataFrame) -> list[MaturedRow]:
    """Ledger rows that met their actual price, as Home lists them (newest target day first)."""
    rows = []
    for row in matured.itertuples():
        real_move, predicted_move = row.actual_value - row.base_close, row.predicted_value - row.base_close
        rows.append(
            MaturedRow(
                ticker=row.ticker,
                model=row.model or "",
                target_date=row.target_date,
                predicted=float(row.predicted_value),
                actual=float(row.actual_value),
                direction_right=_direction_right(real_move, predicted_move),
                inside_interval=bool(row.lower <= row.actual_value <= row.upper),
            )
        )
    return rows


def _direction_right(real_move: float, predicted_move: float) -> bool | None:
    """As core.forecasting.metrics.directional_accuracy counts a day: a zero move has no direction."""
    _, hits, days = metrics.directional_accuracy([real_move], [predicted_move])
    return bool(hits) if days else None
