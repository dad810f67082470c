"""Training and walk-forward jobs: submit (queued, then run by a worker), status, cancel."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, Query
from starlette.convertors import StringConvertor, register_url_convertor

from api.deps import CallerDep, TrainerDep
from api.errors import documented
from api.routes import DEFAULT_LIMIT, LimitQuery, versioned_router
from api.schemas import JobList, JobOut, TrainingRequest, WalkForwardRequest
from core.services import analysis, models

router = versioned_router("jobs")
SUBMIT_ERRORS = documented(400, 401, 403, 404, 409, 422, 429)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[\x21-\x7e]+$",
        description="any 1-128 visible ASCII characters, new for each job (a UUID does): the request sent again "
        "with the same key, after a lost answer, returns the job the first one queued instead of queueing "
        "another; with another body it is a 422, and while the first is still being handled a 409",
    ),
]


class JobIdSegment(StringConvertor):
    """A {job_id}: any path segment but the names of the routes beside it, /jobs/training and /jobs/walkforward.

    Not Starlette's uuid convertor: with it a malformed id matched no route, a 404 before the key was
    checked, where every other route's id is the 422 of its validation. Not a plain segment either:
    GET /v1/jobs/training would then be a malformed job id rather than the 405 of a POST route.
    """

    regex = r"(?!(?:training|walkforward)$)[^/]+"


register_url_convertor("job_id", JobIdSegment())


@router.post("/jobs/training", response_model=JobOut, status_code=202, responses=SUBMIT_ERRORS)
def post_training(body: TrainingRequest, caller: TrainerDep, idempotency_key: IdempotencyKey = None) -> JobOut:
    """Queue a training run of a forecaster for a ticker; follow it at /v1/jobs/{job_id}."""
    return JobOut.model_validate(
        models.submit_job(caller.actor, body.ticker, body.config, idempotency_key=idempotency_key)
    )


@router.post("/jobs/walkforward", response_model=JobOut, status_code=202, responses=SUBMIT_ERRORS)
def post_walkforward(body: WalkForwardRequest, caller: TrainerDep, idempotency_key: IdempotencyKey = None) -> JobOut:
    """Queue a walk-forward evaluation (retrain at each origin, score against the baselines)."""
    return JobOut.model_validate(
        analysis.submit_walk_forward(
            caller.actor, **body.model_dump(exclude={"config"}), config=body.config, idempotency_key=idempotency_key
        )
    )


OpenQuery = Annotated[
    bool, Query(alias="open", description="only your queued and running jobs, every one of them (limit not applied)")
]


@router.get("/jobs", response_model=JobList, responses=documented(401, 422, 429))
def get_jobs(caller: CallerDep, limit: LimitQuery = DEFAULT_LIMIT, open_only: OpenQuery = False) -> JobList:
    """Your recent jobs, newest first; jobs whose worker went silent are marked failed."""
    jobs = models.list_open_jobs(caller.actor) if open_only else models.list_jobs(caller.actor, limit)
    return JobList(count=len(jobs), jobs=[JobOut.model_validate(job) for job in jobs])


@router.get("/jobs/{job_id:job_id}", response_model=JobOut, responses=documented(401, 404, 422, 429))
def get_job(caller: CallerDep, job_id: uuid.UUID) -> JobOut:
    """One of your jobs: status, progress, message, and the model version it produced."""
    return JobOut.model_validate(models.get_job(caller.actor, job_id))


@router.post("/jobs/{job_id:job_id}/cancel", response_model=JobOut, responses=documented(401, 403, 404, 422, 429))
def post_cancel(caller: TrainerDep, job_id: uuid.UUID) -> JobOut:
    """Cancel a job: a queued one at once, a running one at its next epoch; a finished one stays as it is."""
    return JobOut.model_validate(models.cancel_job(caller.actor, job_id))
