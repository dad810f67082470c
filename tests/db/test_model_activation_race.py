"""Two requests changing which version of a ticker is active at the same moment, on PostgreSQL."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from core.forecasting.registry import activate, delete, save_version
from core.forecasting.training import TrainingResult
from db.engine import session_scope
from db.models import ModelVersion
from db.repositories.actor import Actor
from db.repositories.models import activate_model_version, add_model_version
from tests.accounts import make_account
from tests.servers import fresh_postgres_sessions

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def sessions() -> Iterator[sessionmaker[Session]]:
    with fresh_postgres_sessions() as made:
        yield made


@pytest.fixture
def three_versions(sessions) -> tuple[Actor, list]:
    """An analyst's v1, v2 and v3 of one ticker, v1 active."""
    actor = make_account(sessions.kw["bind"].url)
    with session_scope(sessions) as session:
        versions = [stored_version(session, actor) for _ in range(3)]
        activate_model_version(session=session, version=versions[0])
    return actor, [v.id for v in versions]


@pytest.fixture
def one_version(sessions) -> tuple[Actor, uuid.UUID]:
    """An analyst's only version of a ticker, active."""
    actor = make_account(sessions.kw["bind"].url)
    with session_scope(sessions) as session:
        version = stored_version(session, actor)
        activate_model_version(session=session, version=version)
    return actor, version.id


BUNDLE = b"bundle"


def stored_version(session: Session, actor: Actor) -> ModelVersion:
    """A version row: which one is active is all these tests look at, never the model in it."""
    bundle = BUNDLE
    return add_model_version(
        session=session,
        actor=actor,
        ticker="SPX",
        model_type="drift",
        parameters={},
        metrics={},
        data_start=None,
        data_end=None,
        data_hash=None,
        artifact=bundle,
        artifact_sha256=hashlib.sha256(bundle).hexdigest(),
    )


def finished_training(session: Session, actor: Actor) -> ModelVersion:
    """What a training job does when it ends: save its run as the next version of the ticker."""
    result = TrainingResult(
        bundle=BUNDLE,
        bundle_sha256=hashlib.sha256(BUNDLE).hexdigest(),
        metrics={},
        parameters={},
        history={},
        epochs_run=1,
        train_seconds=0.0,
        data_start=None,
        data_end=None,
        data_hash=None,
        verdict="",
        model_type="drift",
        test_forecast=pd.DataFrame(),
    )
    return save_version(session=session, actor=actor, ticker="SPX", result=result)


def while_the_first_holds(sessions, first: Callable[[Session], object], second: Callable[[Session], object]) -> str:
    """Run `first` up to its flush, then `second` in another thread until it waits on a row lock the first
    holds (or ends without waiting for any), then commit the first. Returns the second's outcome: "ok"
    or its error."""
    outcome: list[str] = []

    def run_second() -> None:
        try:
            with session_scope(sessions) as session:
                second(session)
            outcome.append("ok")
        except Exception as error:  # noqa: BLE001 - reported to the assertions
            outcome.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")

    with session_scope(sessions) as session:
        first(session)
        thread = threading.Thread(target=run_second)
        thread.start()
        _until_it_waits_for_a_lock_or_ends(sessions, thread)
    thread.join(timeout=30)
    assert not thread.is_alive(), "the second request never finished"
    return outcome[0]


def _until_it_waits_for_a_lock_or_ends(sessions, thread: threading.Thread) -> None:
    """Without this, the second request might read only after the first committed, and never race it.

    A second request that takes no lock the first holds runs to its end inside the first's transaction:
    that is a race too, and the assertions on what was left judge it.
    """
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with sessions() as probe:
            if probe.scalar(waiting) or not thread.is_alive():
                return
        time.sleep(0.02)
    raise AssertionError("the second request never waited for the first")


def active_versions(sessions, actor: Actor) -> list[int]:
    with session_scope(sessions) as session:
        query = select(ModelVersion.version).where(ModelVersion.user_id == actor.user_id, ModelVersion.is_active)
        return list(session.scalars(query))


def test_two_activations_at_once_leave_the_later_one_active(sessions, three_versions):
    actor, (_, v2, v3) = three_versions
    outcome = while_the_first_holds(
        sessions,
        lambda session: activate(session=session, actor=actor, version_id=v2),
        lambda session: activate(session=session, actor=actor, version_id=v3),
    )
    assert outcome == "ok"
    assert active_versions(sessions, actor) == [3]


def test_an_activation_while_the_active_version_is_deleted_wins(sessions, three_versions):
    actor, (v1, v2, _) = three_versions
    outcome = while_the_first_holds(
        sessions,
        lambda session: delete(session=session, actor=actor, version_id=v1),  # makes v3, the newest, active
        lambda session: activate(session=session, actor=actor, version_id=v2),
    )
    assert outcome == "ok"
    assert active_versions(sessions, actor) == [2]


def test_activating_a_version_deleted_meanwhile_says_so(sessions, three_versions):
    actor, (_, v2, _) = three_versions
    outcome = while_the_first_holds(
        sessions,
        lambda session: delete(session=session, actor=actor, version_id=v2),
        lambda session: activate(session=session, actor=actor, version_id=v2),
    )
    assert outcome == "NotFound: SPX v2 was deleted meanwhile"
    assert active_versions(sessions, actor) == [1]


def test_deleting_a_version_just_made_active_leaves_another_active(sessions, three_versions):
    # The deletion read v2 as inactive before v2's activation committed: it must judge by what it finds
    # under the lock, or the ticker is left with versions and none active.
    actor, (_, v2, _) = three_versions
    outcome = while_the_first_holds(
        sessions,
        lambda session: activate(session=session, actor=actor, version_id=v2),
        lambda session: delete(session=session, actor=actor, version_id=v2),
    )
    assert outcome == "ok"
    assert active_versions(sessions, actor) == [3]


def test_deleting_the_only_version_while_a_job_saves_another_leaves_that_one_active(sessions, one_version):
    # The save found v1 active, so it left its own version inactive; the deletion then found no other
    # version to activate unless it waits for the save to commit.
    actor, v1 = one_version
    outcome = while_the_first_holds(
        sessions,
        lambda session: finished_training(session, actor),
        lambda session: delete(session=session, actor=actor, version_id=v1),
    )
    assert outcome == "ok"
    assert active_versions(sessions, actor) == [2]


def test_a_job_saving_while_the_only_version_is_deleted_makes_its_version_active(sessions, one_version):
    actor, v1 = one_version
    outcome = while_the_first_holds(
        sessions,
        lambda session: delete(session=session, actor=actor, version_id=v1),
        lambda session: finished_training(session, actor),
    )
    assert outcome == "ok"
    assert active_versions(sessions, actor) == [2]
