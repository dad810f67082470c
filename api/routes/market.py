"""Tickers, prices (read as JSON or CSV; CSV upload, all or nothing), indicators."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import Depends, Form, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError

from api.deps import CallerDep, UploaderDep
from api.errors import ApiError, documented, error_response, invalid, not_found
from api.frames import records_response, table_response, wants_csv
from api.routes import versioned_router
from api.schemas import (
    MAX_TICKER_LENGTH,
    TICKER_DESCRIPTION,
    CachedTickerOut,
    IndicatorTable,
    IsoDate,
    PriceTable,
    PriceUpload,
    Symbol,
    TickerList,
    UploadResult,
)
from core.audit import client_address
from core.data.frames import PRICE_COLUMNS
from core.indicator_view import IndicatorParams
from core.services import indicators, market

router = versioned_router("market data")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
TickerPath = Annotated[
    Symbol, Path(min_length=1, max_length=MAX_TICKER_LENGTH, description=TICKER_DESCRIPTION, examples=["^GSPC"])
]
# An indicator's period in days; a bound on each of a list's items, so a bad one is named by its place.
Period = Annotated[int, Field(ge=2, le=500)]
CSV_OR_JSON = {
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "description": "JSON, or CSV on Accept: text/csv",
}


@router.get("/tickers", response_model=TickerList, responses=documented(401, 429))
def get_tickers(caller: CallerDep) -> TickerList:
    """Every ticker you can read: shared market data and your own uploads, with their date range."""
    cached = market.list_tickers(caller.actor)
    return TickerList(count=len(cached), tickers=[CachedTickerOut.model_validate(c) for c in cached])


@router.get(
    "/prices/{ticker}",
    response_model=PriceTable,
    responses={200: CSV_OR_JSON} | documented(401, 404, 422, 429),
)
def get_prices(
    request: Request,
    caller: CallerDep,
    ticker: TickerPath,
    start: IsoDate | None = None,
    end: IsoDate | None = None,
) -> Response:
    """Daily prices of a ticker (your upload wins over shared data on the same day), oldest first."""
    _check_range(start, end)
    missing = _no_prices(ticker, start, end)
    if not wants_csv(request):
        # The database writes the records: no frame, no per-value formatting in Python.
        count, records = market.read_prices_json(caller.actor, ticker, start=start, end=end)
        if not count:
            raise not_found(missing)
        return records_response(records, count=count, key="prices", meta={"ticker": ticker})
    prices = _as_floats(market.read_prices(caller.actor, ticker, start=start, end=end))
    if prices.empty:
        raise not_found(missing)
    # Days as ISO text in one numpy pass: formatting 5,000 timestamps one by one cost more than the query.
    days = np.datetime_as_string(prices["date"].to_numpy().astype("datetime64[D]"))
    prices["date"] = pd.array(days, dtype="str")
    return table_response(request, prices, key="prices", meta={"ticker": ticker}, filename=f"{_safe(ticker)}.csv")


async def fields_as_sent(request: Request, _caller: UploaderDep) -> None:
    """Refuse (422) a form field given more than once, as a query parameter is: the last would win unsaid;
    and one sent empty, judged as its value: FastAPI reads an empty field as absent, so an empty ticker
    would store the rows under the file name's.

    After the key, as the body's own validation is; async, as the form is already parsed.
    """
    form = await request.form()
    repeated = sorted({name for name in form if len(form.getlist(name)) > 1})
    if repeated:
        problems = [{"location": f"body.{name}", "message": "given more than once"} for name in repeated]
        raise ApiError(422, "invalid_request", f"body.{repeated[0]}: given more than once", details=problems)
    empty_problems = []
    for name in sorted(name for name, value in form.items() if value == "" and name in PriceUpload.model_fields):
        try:
            PriceUpload.__pydantic_validator__.validate_assignment(PriceUpload.model_construct(), name, "")
        except ValidationError as error:
            empty_problems += [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors()]
    if empty_problems:
        raise RequestValidationError(empty_problems)


@router.post(
    "/prices",
    response_model=UploadResult,
    status_code=201,
    responses={200: {"model": UploadResult, "description": "every row was stored already as given: nothing written"}}
    | documented(400, 401, 403, 413, 422, 429),
    dependencies=[Depends(fields_as_sent)],
)
def post_prices(
    caller: UploaderDep, form: Annotated[PriceUpload, Form(media_type="multipart/form-data")], response: Response
) -> UploadResult | JSONResponse:
    """Store a price CSV as your own rows: every row or none (201); a refusal carries the validation report.
    The same rows sent again (a retry) write nothing: `written` 0 and 200."""
    data = form.file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ApiError(413, "too_large", f"the file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    with client_address(caller.client_ip):
        result = market.upload_prices(
            caller.actor,
            data_bytes=data,
            filename=(form.file.filename or "upload.csv")[:200],
            ticker=form.ticker,
            date_format=form.date_format,
        )
    body = UploadResult(
        status=result.status,
        written=result.written,
        tickers=list(result.tickers),
        message=result.message(),
        report=result.report.to_dict() if result.report else None,
        notes=list(result.notes),
    )
    if not result.accepted:
        # The refused upload's record and audit entry are committed by the service; the answer says why.
        refusal = ApiError(422, "invalid_file", body.message, details=body.model_dump(mode="json"))
        return error_response(refusal)
    if not result.written:
        response.status_code = 200
    return body


@router.get(
    "/indicators/{ticker}",
    response_model=IndicatorTable,
    responses={200: CSV_OR_JSON} | documented(401, 404, 422, 429),
)
def get_indicators(
    request: Request,
    caller: CallerDep,
    ticker: TickerPath,
    start: IsoDate | None = None,
    end: IsoDate | None = None,
    rsi_period: Annotated[int, Query(ge=2, le=500)] = 14,
    ema_spans: Annotated[list[Period], Query(max_length=6)] = [20, 50, 200],  # noqa: B006 - FastAPI copies defaults
    bb_window: Annotated[int, Query(ge=2, le=500)] = 20,
    bb_k: Annotated[float, Query(gt=0, le=10, allow_inf_nan=False)] = 2.0,
    macd_fast: Annotated[int, Query(ge=2, le=500)] = 12,
    macd_slow: Annotated[int, Query(ge=2, le=500)] = 26,
    macd_signal: Annotated[int, Query(ge=2, le=500)] = 9,
    atr_period: Annotated[int, Query(ge=2, le=500)] = 14,
    hv_window: Annotated[int, Query(ge=2, le=500)] = 20,
    adjusted: Annotated[
        bool, Query(description="Prices on the adjusted close's scale, as the screener reads them")
    ] = False,
) -> Response:
    """Prices with RSI, EMAs, Bollinger bands, MACD, ATR, OBV and volatility, computed over the whole history."""
    _check_range(start, end)
    if macd_fast >= macd_slow:  # core refuses it too, but as bad data, naming no parameter of the request
        raise invalid("query.macd_fast", f"must be below macd_slow ({macd_slow}), got {macd_fast}")
    params = IndicatorParams(
        rsi_period=rsi_period,
        ema_spans=tuple(dict.fromkeys(ema_spans)),
        hv_window=hv_window,
        bb_window=bb_window,
        bb_k=bb_k,
        macd_fast=macd_fast,
        macd_slow=macd_slow,
        macd_signal=macd_signal,
        atr_period=atr_period,
    )
    chart = indicators.chart_data(caller.actor, ticker, start=start, end=end, params=params, adjusted=adjusted)
    view = _as_floats(chart.view)
    if view.empty:
        raise not_found(_no_prices(ticker, start, end))
    return table_response(
        request, view, key="rows", meta={"ticker": ticker}, dates=["date"], filename=f"{_safe(ticker)}-indicators.csv"
    )


def _as_floats(prices: pd.DataFrame) -> pd.DataFrame:
    """Prices as floats on either backend: PostgreSQL's are read from CSV, where a column of whole
    prices is read as integers, which JSON and CSV would then write without a decimal point."""
    return prices.astype({name: "float64" for name in PRICE_COLUMNS if name in prices})


def _check_range(start: IsoDate | None, end: IsoDate | None) -> None:
    # Here, not in core: core calls it bad data (unprocessable), and the indicators read it as an empty range (404).
    if start and end and start > end:
        raise invalid("query.start", f"after end ({end.isoformat()})")


def _no_prices(ticker: str, start: IsoDate | None, end: IsoDate | None) -> str:
    return f"no cached prices of {ticker}" + (" in that date range" if start or end else "")


def _safe(ticker: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in ticker)
