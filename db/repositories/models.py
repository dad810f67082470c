"""Model versions: numbered per user and ticker, one active at a time, owned by their user."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, defer

from common.errors import NotFound
from db.models import ModelVersion, ModelVersionNumber
from db.repositories.actor import Actor, own_rows


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
    content_sha256: str | None = None,
    trained_on: str | None = None,
) -> ModelVersion:
    """Store a version under the next number for this user and ticker, never one given before."""
    version = ModelVersion(
        user_id=actor.user_id,
        ticker=ticker,
        version=_next_version_number(session, actor.user_id, ticker),
        model_type=model_type,
        parameters=parameters,
        metrics=metrics,
        data_start=data_start,
        data_end=data_end,
        data_hash=data_hash,
        artifact=artifact,
        artifact_sha256=artifact_sha256,
        content_sha256=content_sha256,
        trained_on=trained_on,
        is_active=False,
    )
    session.add(version)
    session.flush()
    return version


def _next_version_number(session: Session, user_id: uuid.UUID, ticker: str) -> int:
    """One more than the last number given: one statement, whose row lock makes two runs finishing
    together wait for each other instead of reading the same number. A ticker's first count starts
    after any version already stored."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    counter = ModelVersionNumber.__table__
    stored = (
        select(func.coalesce(func.max(ModelVersion.version), 0) + 1)
        .where(ModelVersion.user_id == user_id, ModelVersion.ticker == ticker)
        .scalar_subquery()
    )
    statement = (
        insert(counter)
        .values(user_id=user_id, ticker=ticker, last_version=stored)
        .on_conflict_do_update(
            index_elements=[counter.c.user_id, counter.c.ticker], set_={"last_version": counter.c.last_version + 1}
        )
        .returning(counter.c.last_version)
    )
    return int(session.execute(statement).scalar_one())


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


def find_version_by_content(*, session: Session, actor: Actor, ticker: str, content_sha256: str) -> ModelVersion | None:
    """The actor's newest version of the ticker holding this model, without its artifact."""
    query = (
        select(ModelVersion)
        .options(defer(ModelVersion.artifact))
        .where(
            ModelVersion.user_id == actor.user_id,
            ModelVersion.ticker == ticker,
            ModelVersion.content_sha256 == content_sha256,
        )
        .order_by(ModelVersion.version.desc())
        .limit(1)
    )
    return session.scalar(query)


def any_model_versions(*, session: Session, actor: Actor) -> bool:
    query = select(select(ModelVersion.id).where(own_rows(ModelVersion.user_id, actor)).exists())
    return session.scalar(query) or False


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
    _lock_ticker_of(session, version)
    _make_active(session, version)


def activate_if_none_is(*, session: Session, version: ModelVersion) -> bool:
    """Make this version active unless another of its ticker is, as found under the lock; whether it did."""
    _lock_ticker_of(session, version)
    active = select(ModelVersion.id).where(
        ModelVersion.user_id == version.user_id, ModelVersion.ticker == version.ticker, ModelVersion.is_active
    )
    if session.scalar(active) is not None:
        return False
    _make_active(session, version)
    return True


def _make_active(session: Session, version: ModelVersion) -> None:
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


def delete_model_version(*, session: Session, version: ModelVersion) -> bool:
    """Delete the version; whether it was the active one, as found under the lock.

    Deleting the active version is followed by activating another: the same lock as an activation.
    Whether it was active is read again once it is held: read before, an activation of this very
    version committed meanwhile went unseen, and the ticker was left with versions and none active.
    """
    _lock_ticker_of(session, version)
    session.refresh(version, attribute_names=["is_active"])
    was_active = version.is_active
    session.delete(version)
    session.flush()
    return was_active


def lock_ticker(*, session: Session, actor: Actor, ticker: str) -> None:
    """Hold the user's ticker until the transaction ends, as saving, activating and deleting do: what is read
    of its versions afterwards stays true until the commit (an import checks for its own copy under it)."""
    _lock(session, actor.user_id, ticker)


def _lock_ticker_of(session: Session, version: ModelVersion) -> None:
    """Lock the user's ticker until the transaction ends: its row of version numbers, written unchanged.

    Saving, activating and deleting a version each take this lock before they read which version is
    active, so on PostgreSQL each reads what the one before it committed. Row locks on the versions
    themselves are not enough: a version being saved is invisible to another transaction until it
    commits, so a deletion of the active version saw none other to activate, while the save still
    read the deleted one as active and left its own inactive. A save holds this lock from the moment
    it takes its number. An upsert rather than SELECT ... FOR UPDATE, which would lock nothing where
    the row is missing: it is created then, with the highest number stored, as migration 0012 counted
    it. SQLite has no row locks: its writing transactions begin IMMEDIATE and so run one at a time.

    Raises NotFound when the version was deleted before the lock was granted.
    """
    _lock(session, version.user_id, version.ticker)
    if session.scalar(select(ModelVersion.id).where(ModelVersion.id == version.id)) is None:
        raise NotFound(f"{version.ticker} v{version.version} was deleted meanwhile")


def _lock(session: Session, user_id: uuid.UUID, ticker: str) -> None:
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    counter = ModelVersionNumber.__table__
    stored = (
        select(func.coalesce(func.max(ModelVersion.version), 0))
        .where(ModelVersion.user_id == user_id, ModelVersion.ticker == ticker)
        .scalar_subquery()
    )
    session.execute(
        insert(counter)
        .values(user_id=user_id, ticker=ticker, last_version=stored)
        .on_conflict_do_update(
            index_elements=[counter.c.user_id, counter.c.ticker], set_={"last_version": counter.c.last_version}
        )
    )
