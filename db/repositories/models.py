"""Model versions: numbered per user and ticker, one active at a time, owned by their user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from db.models import ModelVersion
from db.repositories.actor import Actor, own_rows

VERSION_ATTEMPTS = 5


class VersionConflictError(RuntimeError):
    """Another run kept taking the next version number."""


def add_model_version(
    *,
    session: Session,
    actor: Actor,
    ticker: str,
    model_type: str,
    parameters: dict[str, Any],
    metrics: dict[str, Any],
    data_start: date | None,
    data_end: date | None,
    data_hash: str | None,
    artifact: bytes,
    artifact_sha256: str,
) -> ModelVersion:
    """Store a version under the next number for this user and ticker.

    Two runs finishing together may both read the same highest number; the unique constraint makes
    one of them fail, and that one takes the following number instead.
    """
    for _ in range(VERSION_ATTEMPTS):
        highest = session.scalar(
            select(func.max(ModelVersion.version)).where(
                ModelVersion.user_id == actor.user_id, ModelVersion.ticker == ticker
            )
        )
        version = ModelVersion(
            user_id=actor.user_id,
            ticker=ticker,
            version=(highest or 0) + 1,
            model_type=model_type,
            parameters=parameters,
            metrics=metrics,
            data_start=data_start,
            data_end=data_end,
            data_hash=data_hash,
            artifact=artifact,
            artifact_sha256=artifact_sha256,
            is_active=False,
        )
        try:
            with session.begin_nested():
                session.add(version)
            return version
        except IntegrityError:
            continue
    raise VersionConflictError(f"could not number a new version of {ticker} after {VERSION_ATTEMPTS} attempts")


def list_model_versions(*, session: Session, actor: Actor, ticker: str | None = None) -> Sequence[ModelVersion]:
    """The actor's own versions (admins included: models are their owner's alone), newest first, without artifacts."""
    query = (
        select(ModelVersion)
        .options(defer(ModelVersion.artifact))
        .where(own_rows(ModelVersion.user_id, actor))
        .order_by(ModelVersion.ticker, ModelVersion.version.desc())
    )
    if ticker:
        query = query.where(ModelVersion.ticker == ticker)
    return session.scalars(query).all()


def get_model_version(*, session: Session, actor: Actor, version_id: uuid.UUID) -> ModelVersion | None:
    query = select(ModelVersion).where(ModelVersion.id == version_id, own_rows(ModelVersion.user_id, actor))
    return session.scalar(query)


def get_active_version(*, session: Session, actor: Actor, ticker: str) -> ModelVersion | None:
    query = select(ModelVersion).where(
        ModelVersion.user_id == actor.user_id, ModelVersion.ticker == ticker, ModelVersion.is_active
    )
    return session.scalar(query)


def activate_model_version(*, session: Session, version: ModelVersion) -> None:
    """Make this the one active version of its user and ticker."""
    session.execute(
        update(ModelVersion)
        .where(
            ModelVersion.user_id == version.user_id,
            ModelVersion.ticker == version.ticker,
            ModelVersion.is_active,
        )
        .values(is_active=False)
    )
    session.flush()
    version.is_active = True
    session.flush()


def delete_model_version(*, session: Session, version: ModelVersion) -> None:
    session.delete(version)
    session.flush()
