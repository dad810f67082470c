"""Training and walk-forward jobs: submit (queued, then run by a worker), status, cancel."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks

from api.deps import CallerDep, SessionDep, SettingsDep, ThrottleDep, TrainerDep
from api.errors import documented, not_found
from api.routes import VERSION_PREFIX
from api.schemas import JobList, JobOut, TrainingRequest, WalkForwardRequest
from core.jobs import cancel_job, create_job, dispatch, list_jobs
from core.results import get_owned
from db.models import TrainingJob

router = APIRouter(prefix=VERSION_PREFIX, tags=["jobs"])
SUBMIT_ERRORS = documented(400, 401, 403, 422, 429)


@router.post("/jobs/training", response_model=JobOut, status_code=202, responses=SUBMIT_ERRORS)
def post_training(
    body: TrainingRequest,
    caller: TrainerDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    background: BackgroundTasks,
) -> JobOut:
    """Queue a training run of a forecaster for a ticker; follow it at /v1/jobs/{job_id}."""
    job = create_job(
        session=session,
        actor=caller.actor,
        ticker=body.ticker,
        config=body.config,
        settings=settings,
        throttle=throttle,
    )
    # Background tasks run after the response, so after the commit: a worker always finds the row.
    background.add_task(dispatch, job.id, settings)
    return JobOut.model_validate(job)


@router.post("/jobs/walkforward", response_model=JobOut, status_code=202, responses=SUBMIT_ERRORS)
def post_walkforward(
    body: WalkForwardRequest,
    caller: TrainerDep,
    session: SessionDep,
    settings: SettingsDep,
    throttle: ThrottleDep,
    background: BackgroundTasks,
) -> JobOut:
    """Queue a walk-forward evaluation (retrain at each origin, score against the baselines)."""
    job = create_job(
        session=session,
        actor=caller.actor,
        ticker=body.ticker,
        config=body.config,
        settings=settings,
        throttle=throttle,
        walkforward={"windows": body.windows, "step": body.step, "retrain_every": body.retrain_every},
    )
    background.add_task(dispatch, job.id, settings)
    return JobOut.model_validate(job)


@router.get("/jobs", response_model=JobList, responses=documented(401, 429))
def get_jobs(caller: CallerDep, session: SessionDep) -> JobList:
    """Your recent jobs, newest first; jobs whose worker went silent are marked failed."""
    jobs = list_jobs(session=session, actor=caller.actor)
    return JobList(count=len(jobs), jobs=[JobOut.model_validate(job) for job in jobs])


@router.get("/jobs/{job_id:uuid}", response_model=JobOut, responses=documented(401, 404, 422, 429))
def get_job(caller: CallerDep, session: SessionDep, job_id: uuid.UUID) -> JobOut:
    """One of your jobs: status, progress, message, and the model version it produced."""
    job = get_owned(session=session, actor=caller.actor, kind=TrainingJob, row_id=job_id)
    if job is None:
        raise not_found("no such job")
    return JobOut.model_validate(job)


@router.post("/jobs/{job_id:uuid}/cancel", response_model=JobOut, responses=documented(401, 403, 404, 422, 429))
def post_cancel(caller: TrainerDep, session: SessionDep, job_id: uuid.UUID) -> JobOut:
    """Cancel a job: a queued one at once, a running one at its next epoch; a finished one stays as it is."""
    return JobOut.model_validate(cancel_job(session=session, actor=caller.actor, job_id=job_id))
