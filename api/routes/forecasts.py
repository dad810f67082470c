"""Model versions, predictions from a stored version, and the ledger (JSON or CSV)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response

from api.deps import CallerDep, PredictorDep
from api.errors import documented, invalid, not_found
from api.frames import table_response
from api.routes import DEFAULT_LIMIT, LimitQuery, versioned_router
from api.routes.market import CSV_OR_JSON
from api.schemas import (
    MAX_TICKER_LENGTH,
    TICKER_DESCRIPTION,
    IsoDate,
    Ledger,
    ModelVersionList,
    ModelVersionOut,
    PredictionList,
    PredictionOut,
    PredictRequest,
    Symbol,
)
from core.predictions import LedgerCursorError, LedgerPosition, PredictionError, ledger_position
from core.services import forecasts, models

router = versioned_router("forecasts")
TickerQuery = Annotated[Symbol | None, Query(max_length=MAX_TICKER_LENGTH, description=TICKER_DESCRIPTION)]
NEXT_CURSOR_HEADER = "Next-Cursor"
# A cursor this API gives is about 110 characters; anything far longer was never one.
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="the next_cursor (or Next-Cursor header) of the page before: the rows after its last one",
    ),
]
LEDGER_PAGE = CSV_OR_JSON | {
    "headers": {
        NEXT_CURSOR_HEADER: {
            "description": "the cursor of the next page, as next_cursor; absent on the last page",
            "schema": {"type": "string"},
        }
    }
}


@router.get("/models", response_model=ModelVersionList, responses=documented(401, 422, 429))
def get_models(caller: CallerDep, ticker: TickerQuery = None) -> ModelVersionList:
    """Your model versions, by ticker and newest version first, with their test metrics and verdict."""
    versions = models.list_versions(caller.actor, ticker)
    return ModelVersionList(count=len(versions), versions=[ModelVersionOut.model_validate(v) for v in versions])


@router.get("/models/{version_id}", response_model=ModelVersionOut, responses=documented(401, 404, 422, 429))
def get_model(caller: CallerDep, version_id: uuid.UUID) -> ModelVersionOut:
    """One of your model versions."""
    return ModelVersionOut.model_validate(models.get_version(caller.actor, version_id))


@router.post(
    "/predictions",
    response_model=PredictionList,
    status_code=201,
    responses={200: {"model": PredictionList, "description": "the ledger already held this forecast: nothing added"}}
    | documented(400, 401, 403, 404, 422, 429),
)
def post_prediction(body: PredictRequest, caller: PredictorDep, response: Response) -> PredictionList:
    """Forecast the next trading days from the latest prices with a stored version, and keep them in the ledger
    (201); `model` is that version, with its verdict against persistence on its test days. The same forecast
    asked for again (a retry) is not stored twice: the rows already in the ledger come back, with `added` 0 and
    200. `stale` says the prices end before the exchange's last completed session."""
    try:
        made = forecasts.predict(caller.actor, body.ticker, body.days, body.version_id, caller.client_ip)
    except PredictionError:
        if body.version_id is None and not any(v.is_active for v in models.list_versions(caller.actor, body.ticker)):
            # Core's sentence sends the user to the Train page; a client of the API has a route for it.
            raise not_found(
                f"no active model for {body.ticker}: train one first (POST /v1/jobs/training, or the Train page)"
            ) from None
        raise
    if not made.added:
        response.status_code = 200
    return PredictionList(
        count=len(made.rows),
        added=made.added,
        stale=made.stale,
        last_bar=made.last_bar,
        model=ModelVersionOut.model_validate(made.version),
        predictions=[PredictionOut.model_validate(row) for row in made.rows],
    )


@router.get("/ledger", response_model=Ledger, responses={200: LEDGER_PAGE} | documented(401, 422, 429))
def get_ledger(
    request: Request,
    caller: CallerDep,
    ticker: TickerQuery = None,
    model_version_id: uuid.UUID | None = None,
    since: Annotated[IsoDate | None, Query(description="target days from this one on")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Response:
    """Your predictions, newest target day first (then the latest stored), with actual values, errors and interval
    hits once matured; a page at a time: `next_cursor` (JSON) or the Next-Cursor header (CSV) asks for the next
    one. A prediction added while you walk the pages moves no row onto a second page."""
    page = forecasts.ledger_page(
        caller.actor,
        limit=limit,
        after=_position_of(cursor),
        ticker=ticker,
        model_version_id=model_version_id,
        since=since,
    )
    response = table_response(
        request,
        page.rows,
        key="ledger",
        meta={"next_cursor": page.next_cursor},
        dates=["prediction_date", "target_date"],
        datetimes=["matured_at"],
        filename="ledger.csv",
    )
    if page.next_cursor is not None:
        response.headers[NEXT_CURSOR_HEADER] = page.next_cursor
    return response


def _position_of(cursor: str | None) -> LedgerPosition | None:
    """The position a client's cursor holds, or a 422 naming the parameter as a malformed one's is."""
    if cursor is None:
        return None
    try:
        return ledger_position(cursor)
    except LedgerCursorError as error:
        raise invalid("query.cursor", str(error)) from None
