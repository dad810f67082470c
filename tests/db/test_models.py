"""The schema's promises: aware timestamps, JSON, cascades, and the uniqueness rules of the data model."""

import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db.models import (
    ApiKey,
    AuditLog,
    DataUpload,
    HistoricalPrice,
    ModelVersion,
    Prediction,
    TechnicalIndicator,
    User,
    UserPreferences,
)
from db.models.market import LatestIndicators


def make_user(session, name="alice", **fields) -> User:
    user = User(username=name, email=f"{name}@example.com", password_hash="hash", **fields)
    session.add(user)
    session.flush()
    return user


def price(ticker="MSFT", day=date(2024, 1, 2), owner_id=None, source="sample") -> HistoricalPrice:
    return HistoricalPrice(
        owner_id=owner_id,
        ticker=ticker,
        date=day,
        open=10.0,
        high=11.0,
        low=9.5,
        close=10.5,
        adjusted_close=10.4,
        volume=1_000,
        source=source,
    )


def model_version(user, version=1, ticker="MSFT", active=False) -> ModelVersion:
    return ModelVersion(
        user_id=user.id,
        ticker=ticker,
        version=version,
        model_type="lstm",
        artifact=b"bytes",
        artifact_sha256="0" * 64,
        is_active=active,
    )


def test_ids_are_uuids_and_timestamps_come_back_aware_in_utc(session):
    user = make_user(session)
    user.last_login = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    session.flush()
    session.expire_all()
    loaded = session.get(User, user.id)
    assert isinstance(loaded.id, uuid.UUID)
    assert loaded.created_at.tzinfo is not None
    assert loaded.last_login == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert loaded.last_login.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(session):
    user = make_user(session)
    user.last_login = datetime(2024, 5, 1, 12, 0)
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_json_columns_round_trip(session):
    user = make_user(session)
    session.add(
        UserPreferences(
            user_id=user.id,
            default_tickers=["MSFT", "^GSPC"],
            notification_settings={"email": False},
            ui_preferences={"theme": "dark", "range": "1Y", "nested": {"a": [1, 2.5]}},
        )
    )
    session.flush()
    session.expire_all()
    loaded = session.scalar(select(UserPreferences).where(UserPreferences.user_id == user.id))
    assert loaded.default_tickers == ["MSFT", "^GSPC"]
    assert loaded.ui_preferences["nested"] == {"a": [1, 2.5]}


def test_role_outside_admin_analyst_viewer_is_refused(session):
    with pytest.raises(IntegrityError):
        make_user(session, role="superuser")


def test_deleting_a_user_cascades_to_what_they_own_and_keeps_the_audit_trail(session):
    user = make_user(session)
    other = make_user(session, "bob")
    session.add_all(
        [
            ApiKey(user_id=user.id, name="ci", prefix="cc_ab12", key_hash="a" * 64),
            UserPreferences(user_id=user.id),
            DataUpload(user_id=user.id, filename="msft.csv", kind="prices", status="accepted"),
            price(owner_id=user.id, source="upload"),
            price(ticker="AAPL"),
            TechnicalIndicator(owner_id=user.id, ticker="MSFT", date=date(2024, 1, 2), rsi_14=50.0),
            LatestIndicators(owner_id=user.id, ticker="MSFT", date=date(2024, 1, 2), close=10.0),
            TechnicalIndicator(ticker="AAPL", date=date(2024, 1, 2), rsi_14=50.0),
            AuditLog(user_id=user.id, username=user.username, action="login", status="ok"),
        ]
    )
    version = model_version(user)
    session.add(version)
    session.flush()
    session.add(
        Prediction(
            user_id=user.id,
            model_version_id=version.id,
            ticker="MSFT",
            prediction_date=date(2024, 1, 2),
            target_date=date(2024, 1, 3),
            predicted_value=10.0,
        )
    )
    session.add(ApiKey(user_id=other.id, name="bob", prefix="cc_cd34", key_hash="b" * 64))
    session.flush()

    user_id, other_id = user.id, other.id
    # Delete in SQL so that the database's ON DELETE rules, not the ORM, do the work.
    session.execute(User.__table__.delete().where(User.id == user_id))
    session.expire_all()

    def count(model, *where):
        return session.scalar(select(func.count()).select_from(model).where(*where))

    assert count(ApiKey, ApiKey.user_id == user_id) == 0
    # Counted per user: other tests may have committed rows of their own users to this database.
    assert count(UserPreferences, UserPreferences.user_id == user_id) == 0
    assert count(DataUpload, DataUpload.user_id == user_id) == 0
    assert count(ModelVersion, ModelVersion.user_id == user_id) == 0
    assert count(Prediction, Prediction.user_id == user_id) == 0
    assert count(HistoricalPrice, HistoricalPrice.owner_id == user_id) == 0
    assert count(HistoricalPrice, HistoricalPrice.ticker == "AAPL") == 1, "shared market data stays"
    assert count(TechnicalIndicator, TechnicalIndicator.owner_id == user_id) == 0
    assert count(LatestIndicators, LatestIndicators.owner_id == user_id) == 0
    assert count(TechnicalIndicator, TechnicalIndicator.ticker == "AAPL", TechnicalIndicator.owner_id.is_(None)) == 1
    assert count(ApiKey, ApiKey.user_id == other_id) == 1
    audit = session.scalar(select(AuditLog).where(AuditLog.action == "login", AuditLog.username == "alice"))
    assert audit.user_id is None
    assert audit.username == "alice"


def test_shared_prices_are_unique_per_ticker_and_date_despite_null_owner(session):
    session.add(price())
    session.flush()
    session.add(price())
    with pytest.raises(IntegrityError):
        session.flush()


def test_uploaded_prices_are_unique_per_owner_and_separate_from_shared_ones(session):
    alice, bob = make_user(session), make_user(session, "bob")
    session.add_all([price(), price(owner_id=alice.id, source="upload"), price(owner_id=bob.id, source="upload")])
    session.flush()
    session.add(price(owner_id=alice.id, source="upload"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_one_active_model_per_user_and_ticker(session):
    user = make_user(session)
    session.add_all([model_version(user, 1, active=True), model_version(user, 2), model_version(user, 3)])
    session.add(model_version(user, 1, ticker="AAPL", active=True))
    session.flush()
    session.add(model_version(user, 4, active=True))
    with pytest.raises(IntegrityError):
        session.flush()


def test_versions_are_unique_per_user_and_ticker(session):
    user = make_user(session)
    session.add(model_version(user, 1))
    session.flush()
    session.add(model_version(user, 1))
    with pytest.raises(IntegrityError):
        session.flush()
