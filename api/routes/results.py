"""Walk-forward runs, backtests of their forecasts and portfolio risk: run (backtest, risk) and read back."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import CallerDep, SessionDep, TrainerDep
from api.errors import documented, not_found
from api.routes import VERSION_PREFIX
from api.routes.forecasts import TickerQuery
from api.schemas import (
    BacktestDetail,
    BacktestList,
    BacktestOut,
    BacktestRequest,
    EvaluationDetail,
    EvaluationList,
    EvaluationOut,
    RiskList,
    RiskOut,
    RiskRequest,
)
from core.analysis import backtest_evaluation, portfolio_risk
from core.backtest import BacktestConfig
from core.results import get_owned, list_owned
from db.models import BacktestResult, Evaluation, RiskMetrics

router = APIRouter(prefix=VERSION_PREFIX, tags=["results"])
READ_ONE = documented(401, 404, 422, 429)
WRITE_ERRORS = documented(400, 401, 403, 422, 429)


@router.get("/evaluations", response_model=EvaluationList, responses=documented(401, 422, 429))
def get_evaluations(caller: CallerDep, session: SessionDep, ticker: TickerQuery = None) -> EvaluationList:
    """Your walk-forward runs, newest first, with their overall scores beside the baselines."""
    rows = list_owned(session=session, actor=caller.actor, kind=Evaluation, ticker=ticker)
    return EvaluationList(count=len(rows), evaluations=[EvaluationOut.model_validate(row) for row in rows])


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationDetail, responses=READ_ONE)
def get_evaluation(caller: CallerDep, session: SessionDep, evaluation_id: uuid.UUID) -> EvaluationDetail:
    """One walk-forward run with its windows and their out-of-sample forecasts."""
    row = get_owned(session=session, actor=caller.actor, kind=Evaluation, row_id=evaluation_id)
    if row is None:
        raise not_found("no such walk-forward run")
    return EvaluationDetail.model_validate(row)


@router.post("/backtests", response_model=BacktestDetail, status_code=201, responses=WRITE_ERRORS)
def post_backtest(body: BacktestRequest, caller: TrainerDep, session: SessionDep) -> BacktestDetail:
    """Trade a walk-forward run's out-of-sample forecasts against buy-and-hold, and store the result."""
    config = BacktestConfig(threshold_bps=body.threshold_bps, cost_bps=body.cost_bps, allow_short=body.allow_short)
    _, stored = backtest_evaluation(
        session=session, actor=caller.actor, evaluation_id=body.evaluation_id, config=config
    )
    return BacktestDetail.model_validate(stored)


@router.get("/backtests", response_model=BacktestList, responses=documented(401, 422, 429))
def get_backtests(caller: CallerDep, session: SessionDep, ticker: TickerQuery = None) -> BacktestList:
    """Your backtests, newest first (their metrics; the trades and equity curve are in each one's detail)."""
    rows = list_owned(session=session, actor=caller.actor, kind=BacktestResult, ticker=ticker)
    return BacktestList(count=len(rows), backtests=[BacktestOut.model_validate(row) for row in rows])


@router.get("/backtests/{backtest_id}", response_model=BacktestDetail, responses=READ_ONE)
def get_backtest(caller: CallerDep, session: SessionDep, backtest_id: uuid.UUID) -> BacktestDetail:
    """One backtest with its trades and equity curve."""
    row = get_owned(session=session, actor=caller.actor, kind=BacktestResult, row_id=backtest_id)
    if row is None:
        raise not_found("no such backtest")
    return BacktestDetail.model_validate(row)


@router.post("/risk", response_model=RiskOut, status_code=201, responses=WRITE_ERRORS)
def post_risk(body: RiskRequest, caller: TrainerDep, session: SessionDep) -> RiskOut:
    """Risk of a weighted portfolio of cached tickers (VaR, CVaR, Sharpe, drawdown, beta), stored."""
    _, stored = portfolio_risk(session=session, actor=caller.actor, weights=body.weights, benchmark=body.benchmark)
    return RiskOut.model_validate(stored)


@router.get("/risk", response_model=RiskList, responses=documented(401, 429))
def get_risk_results(caller: CallerDep, session: SessionDep) -> RiskList:
    """Your stored risk measurements, newest first."""
    rows = list_owned(session=session, actor=caller.actor, kind=RiskMetrics)
    return RiskList(count=len(rows), results=[RiskOut.model_validate(row) for row in rows])


@router.get("/risk/{risk_id}", response_model=RiskOut, responses=READ_ONE)
def get_risk_result(caller: CallerDep, session: SessionDep, risk_id: uuid.UUID) -> RiskOut:
    """One stored risk measurement."""
    row = get_owned(session=session, actor=caller.actor, kind=RiskMetrics, row_id=risk_id)
    if row is None:
        raise not_found("no such risk result")
    return RiskOut.model_validate(row)
