"""Analysis actions: model versions and evaluations to read, walk-forward jobs, backtests, portfolio risk.

The forecasting internals are called through their public functions only; this module is what
the Metrics page and the API's result routes call.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from common.config import get_settings
from common.errors import BadInput, NotFound
from core import analysis, jobs
from core.auth.roles import Permission, require
from core.backtest import BacktestConfig, BacktestResult
from core.forecasting.config import WALK_FORWARD_WINDOWS, TrainingConfig
from core.forecasting.dataset import DatasetError
from core.forecasting.walkforward import WalkForwardSettings, window_plan
from core.forecasting.zoo import configured_kind, fitted_settings
from core.preferences import load_preferences
from core.results import DEFAULT_LIMIT, Stored, get_owned, list_owned
from core.risk import RiskReport
from core.throttle import get_throttle
from db.engine import session_scope
from db.models import BacktestResult as StoredBacktest
from db.models import Evaluation, ModelVersion, RiskMetrics, TrainingJob
from db.repositories.actor import Actor
from db.repositories.evaluations import list_evaluations
from db.repositories.models import list_model_versions
from db.repositories.prices import list_cached_tickers, visible_days_of


def _stored_config(stored: object, model_type: object) -> TrainingConfig | None:
    """A TrainingConfig stored as JSON, a field missing from it taking its default as it did when it ran; None
    when this app cannot read it (a setting it does not know, from another deployment)."""
    if not isinstance(stored, dict):
        return None
    try:
        return TrainingConfig.model_validate(stored | {"model_type": model_type})
    except ValidationError:
        return None


def _differences(version: TrainingConfig, run: TrainingConfig | None) -> tuple[str, ...]:
    """The fitted settings of a walk-forward that differ from a version's, in words; none when it tested them."""
    if run is None:
        return ("settings this app cannot read",)
    theirs = fitted_settings(run)
    return tuple(name.replace("_", " ") for name, value in fitted_settings(version).items() if theirs[name] != value)


@dataclass(frozen=True)
class VersionWalkForward:
    """What the walk-forward runs say of one version: the newest run of its own settings, if any."""

    config: TrainingConfig | None  # the version's settings, to run a walk-forward with; None: unreadable here
    run: Evaluation | None
    other_settings: int = 0  # runs of the version's ticker and type that fitted other settings, when none is its own
    differs_in: tuple[str, ...] = ()  # the settings the newest of those differs in
    refusal: str | None = None  # why a walk-forward with its settings would be refused, when it would


@dataclass(frozen=True)
class MetricsView:
    """What the Metrics page reads before any form is used: versions, runs, the latest leaderboard, tickers."""

    chart_template: str
    versions: Sequence[ModelVersion]
    evaluations: Sequence[Evaluation]
    leaderboard: Evaluation | None
    tickers: list[str]
    history_days: Mapping[str, int] = field(default_factory=dict)  # the days of each version's ticker you see

    def walk_forward_of(self, version: ModelVersion) -> VersionWalkForward:
        """The newest walk-forward run of the version's ticker, type and fitted settings.

        A run of the same type with other settings (20-day windows for a version of 60) tested another model,
        not this one: it is counted, never paired.
        """
        config = _stored_config(version.parameters, version.model_type)
        others: list[tuple[str, ...]] = []
        for run in self.evaluations:  # newest first
            kind = configured_kind(run.config)
            if run.ticker != version.ticker or kind != version.model_type:
                continue
            if config is None:
                others.append(())
                continue
            training = run.config.get("training", {}) if isinstance(run.config, dict) else None
            differs = _differences(config, _stored_config(training, kind))
            if not differs:
                return VersionWalkForward(config, run)
            others.append(differs)
        refusal = self._walk_forward_refusal(version.ticker, config)
        return VersionWalkForward(config, None, len(others), others[0] if others else (), refusal)

    def _walk_forward_refusal(self, ticker: str, config: TrainingConfig | None) -> str | None:
        """Why submit_walk_forward would refuse a run of these settings (its rule, its default plan); None when
        it would queue one, or when the days are not known here."""
        if config is None or ticker not in self.history_days:
            return None
        return _plan_refusal(ticker, self.history_days[ticker], config, WalkForwardSettings())


def _plan_refusal(ticker: str, days: int, config: TrainingConfig, plan: WalkForwardSettings) -> str | None:
    """submit_walk_forward's window rule on the days stored: why it would refuse the run, or None."""
    if not days:
        return f"no prices of {ticker} to run it on"
    try:
        window_plan(days, config, plan, ticker=ticker)
    except DatasetError as error:
        return str(error)
    return None


def walk_forward_refusal(
    actor: Actor,
    *,
    ticker: str,
    model_type: str | None = None,
    windows: int = WALK_FORWARD_WINDOWS,
    step: int | None = None,
    retrain_every: int = 1,
) -> str | None:
    """Why submit_walk_forward would refuse these settings on the ticker's stored days, before anyone asks it
    to; None when it would queue them, or when the settings themselves are wrong (the submit names that)."""
    try:
        plan = WalkForwardSettings(windows=windows, step=step, retrain_every=retrain_every)
        config = TrainingConfig(**({"model_type": model_type} if model_type else {}))
    except ValueError:  # pydantic's ValidationError included
        return None
    with session_scope(action="walk-forward check", read_only=True) as session:
        days = visible_days_of(session=session, actor=actor, tickers=[ticker])[ticker]
    return _plan_refusal(ticker, days, config, plan)


def metrics_view(actor: Actor) -> MetricsView:
    with session_scope(action="metrics", read_only=True) as session:
        boards = list_evaluations(session=session, actor=actor, kind="leaderboard", limit=1)
        versions = list_model_versions(session=session, actor=actor)
        return MetricsView(
            chart_template=load_preferences(session=session, actor=actor).plotly_template,
            versions=versions,
            evaluations=list_evaluations(session=session, actor=actor),
            leaderboard=boards[0] if boards else None,
            tickers=sorted({cached.ticker for cached in list_cached_tickers(session=session, actor=actor)}),
            history_days=visible_days_of(
                session=session, actor=actor, tickers=sorted({version.ticker for version in versions})
            ),
        )


def submit_walk_forward(
    actor: Actor,
    *,
    ticker: str,
    config: TrainingConfig | None = None,
    model_type: str | None = None,
    windows: int = WALK_FORWARD_WINDOWS,
    step: int | None = None,
    retrain_every: int = 1,
    idempotency_key: str | None = None,
) -> TrainingJob:
    """Queue a walk-forward evaluation of one ticker (role and tier quota checked); a worker runs it. A key sent
    before returns that key's job as it stands."""
    try:
        plan = WalkForwardSettings(windows=windows, step=step, retrain_every=retrain_every)
        config = config or TrainingConfig(**({"model_type": model_type} if model_type else {}))
    except ValidationError as error:
        raise BadInput("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())) from None
    except ValueError as error:
        raise BadInput(str(error)) from None
    # create_job applies the worker's own window rule first: a run that could only fail uses no quota.
    return jobs.submit_job(
        actor=actor,
        ticker=ticker,
        config=config,
        settings=get_settings(),
        throttle=get_throttle(),
        walkforward={"windows": plan.windows, "step": plan.step, "retrain_every": plan.retrain_every},
        idempotency_key=idempotency_key,
    )


def backtest(
    actor: Actor,
    *,
    evaluation_id: uuid.UUID,
    threshold_bps: float = 0.0,
    cost_bps: float = 5.0,
    allow_short: bool = False,
) -> tuple[BacktestResult, StoredBacktest]:
    """Trade a walk-forward run's out-of-sample forecasts against buy-and-hold; the result is stored."""
    config = BacktestConfig(threshold_bps=threshold_bps, cost_bps=cost_bps, allow_short=allow_short)
    with session_scope(action="backtest") as session:
        return analysis.backtest_evaluation(session=session, actor=actor, evaluation_id=evaluation_id, config=config)


def risk(
    actor: Actor,
    *,
    tickers: Sequence[str] = (),
    weights_text: str = "",
    weights: dict[str, float] | None = None,
    benchmark: str | None = None,
) -> tuple[RiskReport, RiskMetrics]:
    """Risk of a portfolio, from weights or from tickers with typed weights (empty: equal); stored."""
    require(actor, Permission.ANALYSE)  # before the weights: a viewer hears of the role, not of a typo
    if weights is None:
        weights = analysis.parse_weights(weights_text, list(tickers))
    with session_scope(action="risk") as session:
        return analysis.portfolio_risk(session=session, actor=actor, weights=weights, benchmark=benchmark)


def _stored_list(actor: Actor, kind: type[Stored], ticker: str | None, limit: int) -> Sequence[Stored]:
    with session_scope(action=f"list {kind.__tablename__}", read_only=True) as session:
        return list_owned(session=session, actor=actor, kind=kind, ticker=ticker, limit=limit)


def _stored_one(actor: Actor, kind: type[Stored], row_id: uuid.UUID, missing: str) -> Stored:
    with session_scope(action=f"read {kind.__tablename__}", read_only=True) as session:
        row = get_owned(session=session, actor=actor, kind=kind, row_id=row_id)
    if row is None:
        raise NotFound(missing)
    return row


def evaluations(actor: Actor, *, ticker: str | None = None, limit: int = DEFAULT_LIMIT) -> Sequence[Evaluation]:
    """The actor's walk-forward runs and leaderboards, newest first."""
    return _stored_list(actor, Evaluation, ticker, limit)


def evaluation(actor: Actor, evaluation_id: uuid.UUID) -> Evaluation:
    return _stored_one(actor, Evaluation, evaluation_id, "no such walk-forward run")


def backtests(actor: Actor, *, ticker: str | None = None, limit: int = DEFAULT_LIMIT) -> Sequence[StoredBacktest]:
    return _stored_list(actor, StoredBacktest, ticker, limit)


def stored_backtest(actor: Actor, backtest_id: uuid.UUID) -> StoredBacktest:
    return _stored_one(actor, StoredBacktest, backtest_id, "no such backtest")


def risk_results(actor: Actor, *, limit: int = DEFAULT_LIMIT) -> Sequence[RiskMetrics]:
    return _stored_list(actor, RiskMetrics, None, limit)


def risk_result(actor: Actor, risk_id: uuid.UUID) -> RiskMetrics:
    return _stored_one(actor, RiskMetrics, risk_id, "no such risk result")
