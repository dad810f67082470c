"""Walk-forward runs, backtests of their forecasts and portfolio risk: run (backtest, risk) and read back.

Every route is one call of core.services.analysis, which owns the transaction.
"""

import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel

from api.deps import AnalyserDep, CallerDep
from api.errors import documented, not_found
from api.routes import DEFAULT_LIMIT, LimitQuery, versioned_router
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
from core.analysis import AnalysisError
from core.services import analysis, market
from db.repositories.actor import Actor

router = versioned_router("results")
READ_ONE = documented(401, 404, 422, 429)
WRITE_ERRORS = documented(400, 401, 403, 422, 429)
Rows = Callable[..., Sequence[Any]]


def serve_reads(
    path: str,
    *,
    listing: tuple[type[BaseModel], str, type[BaseModel], Rows, str],
    one: tuple[str, type[BaseModel], Callable[[Actor, uuid.UUID], Any], str],
    by_ticker: bool,
) -> None:
    """GET path (the caller's results of one kind, newest first) and GET path/{id} (one of them, or 404).

    listing: (list model, its field, item model, service, description);
    one: (id name, model, service, description).
    """
    list_model, field, item_model, read_many, list_doc = listing
    id_name, detail_model, read_one, one_doc = one

    def answer(rows: Sequence[Any]) -> BaseModel:
        return list_model(count=len(rows), **{field: [item_model.model_validate(row) for row in rows]})

    if by_ticker:

        def read_list(caller: CallerDep, ticker: TickerQuery = None, limit: LimitQuery = DEFAULT_LIMIT) -> BaseModel:
            return answer(read_many(caller.actor, ticker=ticker, limit=limit))
    else:

        def read_list(caller: CallerDep, limit: LimitQuery = DEFAULT_LIMIT) -> BaseModel:
            return answer(read_many(caller.actor, limit=limit))

    def read_item(caller: CallerDep, row_id: Annotated[uuid.UUID, Path(alias=id_name)]) -> BaseModel:
        return detail_model.model_validate(read_one(caller.actor, row_id))

    list_errors = documented(401, 422, 429)
    for route_path, endpoint, name, model, errors, description in (
        (path, read_list, f"get_{path.strip('/')}", list_model, list_errors, list_doc),
        (f"{path}/{{{id_name}}}", read_item, f"get_one_{id_name.removesuffix('_id')}", detail_model, READ_ONE, one_doc),
    ):
        router.add_api_route(
            route_path,
            endpoint,
            methods=["GET"],
            name=name,
            response_model=model,
            responses=errors,
            description=description,
        )


serve_reads(
    "/evaluations",
    listing=(
        EvaluationList,
        "evaluations",
        EvaluationOut,
        analysis.evaluations,
        "Your walk-forward runs, newest first, with their overall scores beside the baselines.",
    ),
    one=(
        "evaluation_id",
        EvaluationDetail,
        analysis.evaluation,
        "One walk-forward run with its windows and their out-of-sample forecasts.",
    ),
    by_ticker=True,
)
serve_reads(
    "/backtests",
    listing=(
        BacktestList,
        "backtests",
        BacktestOut,
        analysis.backtests,
        "Your backtests, newest first (their metrics; the trades and equity curve are in each one's detail).",
    ),
    one=("backtest_id", BacktestDetail, analysis.stored_backtest, "One backtest with its trades and equity curve."),
    by_ticker=True,
)
serve_reads(
    "/risk",
    listing=(RiskList, "results", RiskOut, analysis.risk_results, "Your stored risk measurements, newest first."),
    one=("risk_id", RiskOut, analysis.risk_result, "One stored risk measurement."),
    by_ticker=False,
)


@router.post("/backtests", response_model=BacktestDetail, status_code=201, responses=WRITE_ERRORS | documented(404))
def post_backtest(body: BacktestRequest, caller: AnalyserDep) -> BacktestDetail:
    """Trade a walk-forward run's out-of-sample forecasts against buy-and-hold, and store the result."""
    _, stored = analysis.backtest(caller.actor, **body.model_dump())
    return BacktestDetail.model_validate(stored)


@router.post("/risk", response_model=RiskOut, status_code=201, responses=WRITE_ERRORS | documented(404))
def post_risk(body: RiskRequest, caller: AnalyserDep) -> RiskOut:
    """Risk of a weighted portfolio of cached tickers (VaR, CVaR, Sharpe, drawdown, beta), stored."""
    try:
        _, stored = analysis.risk(caller.actor, weights=body.weights, benchmark=body.benchmark)
    except AnalysisError:
        _refuse_missing_prices(caller.actor, [*body.weights, body.benchmark])
        raise
    return RiskOut.model_validate(stored)


def _refuse_missing_prices(actor: Actor, tickers: list[str | None]) -> None:
    """The 404 of the first ticker without prices (the one core's refusal named), as every route reading a
    ticker's prices answers; core's risk, shared with the Risk page, calls it bad input."""
    readable = {cached.ticker for cached in market.list_tickers(actor)}
    missing = next((ticker for ticker in tickers if ticker and ticker not in readable), None)
    if missing:
        raise not_found(f"no cached prices of {missing}")
