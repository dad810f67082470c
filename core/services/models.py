"""Model actions: training and leaderboard jobs, the job list, and the versions they produce.

What the Train page and the API's model and job routes call; each function owns its transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from common.config import get_settings
from core import jobs
from core.auth.roles import Permission, can
from core.data.quality import problems_of, reported_splits_of
from core.forecasting import registry
from core.forecasting.config import TrainingConfig, parse_config
from core.predictions import ledger_model_name
from core.preferences import load_preferences
from core.results import DEFAULT_LIMIT
from core.throttle import get_throttle
from db.engine import session_scope
from db.models import Evaluation, ModelVersion, TrainingJob
from db.repositories.actor import Actor
from db.repositories.evaluations import list_evaluations
from db.repositories.models import list_model_versions
from db.repositories.prices import list_cached_tickers, read_actions_of, read_prices_of, series_versions_of


@dataclass(frozen=True)
class TrainView:
    """What the Train page reads before any form is used."""

    tickers: list[str]
    preferred: list[str]
    can_train: bool
    leaderboard: Evaluation | None
    chart_template: str


def train_view(actor: Actor) -> TrainView:
    with session_scope(action="train page") as session:
        tickers = sorted({cached.ticker for cached in list_cached_tickers(session=session, actor=actor)})
        preferences = load_preferences(session=session, actor=actor)
        preferred = [t for t in preferences.default_tickers if t in tickers]
        boards = list_evaluations(session=session, actor=actor, kind="leaderboard", limit=1)
    return TrainView(
        tickers, preferred, can(actor, Permission.TRAIN), boards[0] if boards else None, preferences.plotly_template
    )


@dataclass(frozen=True)
class DataProblems:
    """The chosen tickers' data problems, and what they were judged on (see data_problems)."""

    judged_on: tuple
    problems: dict[str, list[str]]  # each ticker with problems, and what they are


def data_problems(actor: Actor, tickers: Sequence[str], known: DataProblems | None = None) -> DataProblems:
    """Each chosen ticker whose prices have problems a model would learn from, and what they are; `known`
    itself, unread, while what it was judged on is unchanged.

    The Train page asks on every run, every click on a widget: judging a heavy user's 20 to 50 tickers again
    read their whole histories, up to a third of a second, though no price had changed. The problems follow
    only the prices the actor sees and the splits reported or decided for them (staleness, which follows the
    day, is not among them). Every write of a series gives it a new version, and visible prices are the
    shared series and the actor's own, so equal versions and splits mean equal problems: a small query of
    each decides whether the prices are read again. Splits are compared apart because rejecting one writes
    a 1:1 split and no price, leaving the version as it was.
    """
    tickers = list(tickers)
    if not tickers:
        return DataProblems((), {})
    with session_scope(action="check data before training", read_only=True) as session:
        # Versions before prices: a write landing between the two reads leaves its problems under the older
        # versions, judged again on the next run, never the older problems under the newer versions.
        versions = series_versions_of(session=session, actor=actor, tickers=tickers)
        actions = read_actions_of(session=session, actor=actor, tickers=tickers)
        splits = reported_splits_of(actions)
        judged_on = (
            tuple(tickers),
            frozenset((ticker, owner, version) for ticker, seen in versions.items() for owner, version in seen.items()),
            frozenset((ticker, tuple(reported)) for ticker, reported in splits.items()),
        )
        if known is not None and known.judged_on == judged_on:
            return known
        prices = read_prices_of(session=session, actor=actor, tickers=tickers)
        return DataProblems(judged_on, problems_of(prices, actions, tickers=tickers, today=date.today()))


def _config(config: TrainingConfig | Mapping[str, Any]) -> TrainingConfig:
    return config if isinstance(config, TrainingConfig) else parse_config(**dict(config))


def submit_training(
    actor: Actor, tickers: Sequence[str], config: TrainingConfig | Mapping[str, Any]
) -> list[TrainingJob]:
    """One training job per ticker (role and quota checked), queued and handed to a worker."""
    return jobs.as_dispatched(
        jobs.queue_training(
            actor=actor, tickers=tickers, config=_config(config), settings=get_settings(), throttle=get_throttle()
        )
    )


def submit_leaderboard(actor: Actor, ticker: str, config: TrainingConfig | Mapping[str, Any] = ()) -> TrainingJob:
    """One job that trains every model type on the ticker and ranks them by validation MASE."""
    return jobs.submit_job(
        actor=actor, ticker=ticker, config=_config(config), settings=get_settings(), throttle=get_throttle(),
        kind="leaderboard",
    )  # fmt: skip


def submit_job(
    actor: Actor, ticker: str, config: TrainingConfig | Mapping[str, Any], *, idempotency_key: str | None = None
) -> TrainingJob:
    """One training job for the API, as it stands once handed over; a key sent before returns that key's job."""
    return jobs.submit_job(
        actor=actor, ticker=ticker, config=_config(config), settings=get_settings(), throttle=get_throttle(),
        idempotency_key=idempotency_key,
    )  # fmt: skip


def list_jobs(actor: Actor, limit: int | None = None) -> Sequence[TrainingJob]:
    """The actor's jobs, newest first, after those whose runner went silent have been marked failed: at most
    `limit`, or without one, every queued and running job and the DEFAULT_LIMIT newest finished ones."""
    with session_scope(action="list jobs") as session:
        if limit is None:
            return jobs.list_jobs(session=session, actor=actor, limit=DEFAULT_LIMIT, every_open=True)
        return jobs.list_jobs(session=session, actor=actor, limit=limit)


def list_open_jobs(actor: Actor) -> Sequence[TrainingJob]:
    """Every queued and running job of the actor, newest first, after those whose runner went silent have been
    marked failed."""
    with session_scope(action="list jobs") as session:
        return jobs.list_jobs(session=session, actor=actor, limit=0, every_open=True)  # no finished ones


def get_job(actor: Actor, job_id: uuid.UUID) -> TrainingJob:
    """One of the actor's jobs; failed first if its runner went silent, as in the list."""
    with session_scope(action="read job") as session:
        return jobs.get_job(session=session, actor=actor, job_id=job_id)


def cancel_job(actor: Actor, job_id: uuid.UUID) -> TrainingJob:
    """A queued job is cancelled at once; a running one stops at its next boundary; a finished one stays as it is."""
    with session_scope(action="cancel job") as session:
        return jobs.cancel_job(session=session, actor=actor, job_id=job_id)


def runner_status() -> jobs.RunnerStatus:
    return jobs.runner_status()


def list_versions(actor: Actor, ticker: str | None = None) -> Sequence[ModelVersion]:
    """The actor's model versions, newest first, without their artifacts."""
    with session_scope(action="list models", read_only=True) as session:
        return list_model_versions(session=session, actor=actor, ticker=ticker)


def get_version(actor: Actor, version_id: uuid.UUID) -> ModelVersion:
    with session_scope(action="read model", read_only=True) as session:
        return registry.owned_version(session=session, actor=actor, version_id=version_id)


def activate(actor: Actor, version_id: uuid.UUID) -> ModelVersion:
    with session_scope(action="activate model") as session:
        return registry.activate(session=session, actor=actor, version_id=version_id)


@dataclass(frozen=True)
class DeletedVersion:
    """What a deletion leaves in the ledger: how many predictions, under which model name."""

    kept: int
    ledger_name: str


def delete(actor: Actor, version_id: uuid.UUID) -> DeletedVersion:
    """Delete the version; its predictions stay in the ledger, named as the ledger now names them."""
    with session_scope(action="delete model") as session:
        version = registry.owned_version(session=session, actor=actor, version_id=version_id)
        name = ledger_model_name(version.ticker, version.version, version.model_type, deleted=True)
        return DeletedVersion(registry.delete(session=session, actor=actor, version_id=version_id), name)


@dataclass(frozen=True)
class ExportedBundle:
    filename: str
    data: bytes


def export_bundle(actor: Actor, version_id: uuid.UUID) -> ExportedBundle:
    """The version's bundle signed with the current key: the file this deployment, or one of the same key, imports."""
    with session_scope(action="export model") as session:
        version = registry.owned_version(session=session, actor=actor, version_id=version_id)
        return ExportedBundle(*registry.export_file(version))


def export_filename(version: ModelVersion) -> str:
    """The name export_bundle gives the version's file, from its row alone: its artifact is not read."""
    return registry.export_filename(version)


def import_bundle(actor: Actor, data: bytes, ticker: str | None = None) -> ModelVersion:
    """Register a bundle this deployment exported (signature, schema and checksums verified)."""
    with session_scope(action="import model") as session:
        return registry.import_version(session=session, actor=actor, data=data, ticker=ticker or None)
