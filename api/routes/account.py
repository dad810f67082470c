"""The caller's own API usage: requests per key and endpoint."""

from __future__ import annotations

from api.deps import CallerDep
from api.errors import documented
from api.routes import versioned_router
from api.schemas import IsoDate, KeyUsageOut, UsageList
from core.services import accounts

router = versioned_router("account")


@router.get("/usage", response_model=UsageList, responses=documented(401, 422, 429))
def get_usage(caller: CallerDep, since: IsoDate | None = None) -> UsageList:
    """Requests each of your keys made to each endpoint (UTC days, from `since` on), this one included."""
    rows = accounts.usage_per_key(caller.actor, since=since)
    return UsageList(count=len(rows), usage=[KeyUsageOut.model_validate(row) for row in rows])
