"""The API names a leaderboard job's model type as the page does: no one type (null), not the settings' default."""

import uuid

from api.app import create_app
from api.schemas import JobOut
from db.models import TrainingJob
from db.types import utc_now
from tests.core.forecasting.tiny import tiny_config


def job_out(kind: str, **config) -> JobOut:
    return JobOut.model_validate(
        TrainingJob(
            id=uuid.uuid4(),
            created_at=utc_now(),
            ticker="SPX",
            kind=kind,
            config=tiny_config(**config).model_dump(mode="json"),
            status="queued",
            progress=0.0,
            cancel_requested=False,
        )
    )


def test_a_leaderboard_job_has_no_model_type():
    # It said "auto", the settings' default, for a job that ranks every model type.
    assert job_out("leaderboard", model_type="auto").model_type is None
    assert job_out("train", model_type="auto").model_type == "auto"
    assert job_out("walkforward", model_type="ridge").model_type == "ridge"


def test_the_schema_says_when_a_job_has_no_model_type():
    field = create_app().openapi()["components"]["schemas"]["JobOut"]["properties"]["model_type"]
    assert {"type": "null"} in field["anyOf"]
    assert "null for a leaderboard" in field["description"]
