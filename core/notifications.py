"""In-app notifications: finished training jobs and matured predictions since the user last looked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.words import plural
from core.forecasting.zoo import job_name
from core.preferences import load_preferences
from db.models import Prediction, TrainingJob
from db.repositories.actor import Actor, own_rows


def notifications_since(*, session: Session, actor: Actor, since: datetime) -> list[str]:
    """Messages for what happened after `since`, as the user's notification settings ask."""
    wanted = load_preferences(session=session, actor=actor).notifications
    messages = []
    if wanted.get("training_finished"):
        jobs = session.scalars(
            select(TrainingJob)
            .where(own_rows(TrainingJob.user_id, actor), TrainingJob.finished_at > since)
            .order_by(TrainingJob.finished_at)
        ).all()
        messages += [
            f"{job.ticker}: {job_name(job.kind, job.config)} {job.status}. {job.message or ''}".strip() for job in jobs
        ]
    if wanted.get("prediction_matured"):
        matured = session.scalar(
            select(func.count())
            .select_from(Prediction)
            .where(own_rows(Prediction.user_id, actor), Prediction.matured_at > since)
        )
        if matured:
            messages.append(f"{plural(matured, 'prediction')} met the actual price: see the ledger.")
    return messages
