"""Walk-forward runs, backtests of their forecasts and portfolio risk: run (backtest, risk) and read back.

Every route is one call of core.services.analysis, which owns the transaction.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import CallerDep, TrainerDep
from api.errors import documented
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
from core.services import analysis

router = APIRouter(prefix=VERSION_PREFIX, tags=["results"])
READ_ONE = documented(401, 404, 422, 429)
READ_MANY = documented(401, 422, 429)
WRITE_ERRORS = documented(400, 401, 403, 422, 429)


@router.get("/evaluations", response_model=EvaluationList, responses=READ_MANY)
def get_evaluations(caller: CallerDep, ticker: TickerQuery = None) -> EvaluationList:
    """Your walk-forward runs, newest first, with their overall scores beside the baselines."""
    rows = analysis.evaluations(caller.actor, ticker=ticker)
    return EvaluationList(count=len(rows), evaluations=[EvaluationOut.model_validate(row) for row in rows])


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationDetail, responses=READ_ONE)
def get_evaluation(caller: CallerDep, evaluation_id: uuid.UUID) -> EvaluationDetail:
    """One walk-forward run with its windows and their out-of-sample forecasts."""
    return EvaluationDetail.model_validate(analysis.evaluation(caller.actor, evaluation_id))


@router.post("/backtests", response_model=BacktestDetail, status_code=201, responses=WRITE_ERRORS)
def post_backtest(body: BacktestRequest, caller: TrainerDep) -> BacktestDetail:
    """Trade a walk-forward run's out-of-sample forecasts against buy-and-hold, and store the result."""
    _, stored = analysis.backtest(caller.actor, **body.model_dump())
    return BacktestDetail.model_validate(stored)


@router.get("/backtests", response_model=BacktestList, responses=READ_MANY)
def get_backtests(caller: CallerDep, ticker: TickerQuery = None) -> BacktestList:
    """Your backtests, newest first (their metrics; the trades and equity curve are in each one's detail)."""
    rows = analysis.backtests(caller.actor, ticker=ticker)
    return BacktestList(count=len(rows), backtests=[BacktestOut.model_validate(row) for row in rows])


@router.get("/backtests/{backtest_id}", response_model=BacktestDetail, responses=READ_ONE)
def get_backtest(caller: CallerDep, backtest_id: uuid.UUID) -> BacktestDetail:
    """One backtest with its trades and equity curve."""
    return BacktestDetail.model_validate(analysis.stored_backtest(caller.actor, backtest_id))


@router.post("/risk", response_model=RiskOut, status_code=201, responses=WRITE_ERRORS)
def post_risk(body: RiskRequest, caller: TrainerDep) -> RiskOut:
    """Risk of a weighted portfolio of cached tickers (VaR, CVaR, Sharpe, drawdown, beta), stored."""
    _, stored = analysis.risk(caller.actor, weights=body.weights, benchmark=body.benchmark)
    return RiskOut.model_validate(stored)


@router.get("/risk", response_model=RiskList, responses=documented(401, 429))
def get_risk_results(caller: CallerDep) -> RiskList:
    """Your stored risk measurements, newest first."""
    rows = analysis.risk_results(caller.actor)
    return RiskList(count=len(rows), results=[RiskOut.model_validate(row) for row in rows])


@router.get("/risk/{risk_id}", response_model=RiskOut, responses=READ_ONE)
def get_risk_result(caller: CallerDep, risk_id: uuid.UUID) -> RiskOut:
    """One stored risk measurement."""
    return RiskOut.model_validate(analysis.risk_result(caller.actor, risk_id))
