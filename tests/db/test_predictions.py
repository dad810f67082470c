"""The ledger as the repository reads it: every row names the version that made it, a page at a time."""

import datetime

import pytest

from db.models import Prediction
from db.repositories.actor import Actor
from db.repositories.models import add_model_version
from db.repositories.predictions import LedgerPosition, read_ledger
from db.repositories.users import create_user


@pytest.fixture
def actor(session):
    return Actor.of(create_user(session=session, username="lea", email="lea@example.com", password_hash="x"))


def version_of(session, actor):
    return add_model_version(
        session=session, actor=actor, ticker="LDG", model_type="ridge", parameters={}, metrics={},
        data_start=None, data_end=None, data_hash=None, artifact=b"x", artifact_sha256="0" * 64,
    )  # fmt: skip


def predicted(session, actor, version, target_day: int) -> None:
    session.add(
        Prediction(
            user_id=actor.user_id, ticker="LDG", model_version_id=version.id, model_version_number=version.version,
            model_type="ridge", prediction_date=datetime.date(2018, 12, 3),
            target_date=datetime.date(2018, 12, 3 + target_day), base_close=100.0, predicted_value=101.0,
        )
    )  # fmt: skip


def test_each_ledger_row_names_its_version_by_id_on_every_page_and_none_once_deleted(session, actor):
    kept, gone = version_of(session, actor), version_of(session, actor)
    for day in (1, 2):
        predicted(session, actor, kept, day)
    predicted(session, actor, gone, 3)
    session.flush()
    session.delete(gone)
    session.flush()

    first = read_ledger(session=session, actor=actor, limit=2)
    last = first.iloc[-1]
    rest = read_ledger(
        session=session, actor=actor, after=LedgerPosition(last["target_date"], last["created_at"], last["id"])
    )
    assert list(first["model_version_id"]) == [None, kept.id]
    assert list(rest["model_version_id"]) == [kept.id]
    filtered = read_ledger(session=session, actor=actor, model_version_id=kept.id)
    assert list(filtered["model_version_id"]) == [kept.id] * 2
