"""A job whose owner may no longer train (demoted to viewer, deactivated) ends failed and saves nothing; its owner
can still cancel it."""

import pytest

from core.forecasting.trainer import OWNER_CANNOT_TRAIN
from core.jobs import run_job
from core.services import models
from db.engine import session_scope
from db.models.accounts import Role
from db.models.forecasting import JobStatus
from db.repositories.actor import Actor
from db.repositories.users import deactivate_user, get_user, set_role
from tests.accounts import make_account
from tests.core.test_jobs import job, open_job, stored


def demote(actor) -> Actor:
    with session_scope() as session:
        set_role(session=session, user=get_user(session=session, user_id=actor.user_id), role=Role.VIEWER)
    with session_scope() as session:
        return Actor.of(get_user(session=session, user_id=actor.user_id))


def deactivate(actor) -> Actor:
    with session_scope() as session:
        deactivate_user(session=session, user=get_user(session=session, user_id=actor.user_id))
    return actor


@pytest.mark.parametrize("change", [demote, deactivate])
def test_a_job_whose_owner_can_no_longer_train_fails_without_saving(app_database, change):
    # Queued while they were an analyst, run after: a version was saved for a viewer, or a deactivated account.
    actor = make_account(app_database)
    job_id = open_job(actor, status=JobStatus.QUEUED, model_type="median")
    change(actor)
    assert run_job(str(job_id)) == "failed"
    ended = job(job_id)
    assert (ended.status, ended.error, ended.message) == ("failed", OWNER_CANNOT_TRAIN, OWNER_CANNOT_TRAIN)
    assert ended.model_version_id is None
    assert stored(actor) == {"ModelVersion": 0, "Evaluation": 0}


def test_an_owner_demoted_to_viewer_can_still_cancel_their_open_jobs(app_database):
    # Cancelling frees resources, it is not training: "the viewer role cannot train" left their jobs to run.
    actor = make_account(app_database)
    queued = open_job(actor, status=JobStatus.QUEUED, model_type="median")
    running = open_job(actor, model_type="lstm")
    viewer = demote(actor)
    assert models.cancel_job(viewer, queued).status == "cancelled"
    asked = models.cancel_job(viewer, running)
    assert (asked.status, asked.cancel_requested) == ("running", True)
