"""0019 gives every stored version the digest of its model and, when imported under another ticker, the ticker
it was trained on, read from its artifact's metadata: versions stored before it are recognised on re-import."""

import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from core.forecasting.artifacts import content_digest, sha256
from core.forecasting.registry import DuplicateVersionError, import_version
from core.forecasting.training import train_model
from db.migrate import alembic_config, schema_drift, upgrade_to_head
from db.repositories.actor import Actor
from db.repositories.users import get_user
from tests.core.forecasting.tiny import fixture_prices, resigned, tiny_config, unpack_any


def test_0019_reads_each_stored_model_s_digest_and_source_ticker(blank_database: URL) -> None:
    url = blank_database
    command.upgrade(alembic_config(url), "0018")
    engine = create_engine(url, poolclass=NullPool)

    def key(value: uuid.UUID) -> object:
        return value.hex if url.get_backend_name() == "sqlite" else value

    bundle = resigned(train_model(fixture_prices(), tiny_config(model_type="median"), ticker="SPX").bundle)
    now = datetime.now(UTC)
    user = uuid.uuid4()
    moved, own, altered = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, email, password_hash, role, subscription_tier, is_active,"
                " created_at, updated_at) VALUES (:id, 'mig', 'mig@example.com', 'x', 'analyst', 'free', TRUE,"
                " :now, :now)"
            ),
            {"id": key(user), "now": now},
        )
        for version_id, ticker, artifact, digest in (
            (moved, "SMALL", bundle, sha256(bundle)),
            (own, "SPX", bundle, sha256(bundle)),
            (altered, "ALT", bundle, "0" * 64),
        ):
            connection.execute(
                text(
                    "INSERT INTO model_versions (id, user_id, ticker, version, model_type, parameters, metrics,"
                    " artifact, artifact_sha256, is_active, created_at) VALUES (:id, :user, :ticker, 1, 'median',"
                    " '{}', '{}', :blob, :sha, TRUE, :now)"
                ),
                {
                    "id": key(version_id),
                    "user": key(user),
                    "ticker": ticker,
                    "blob": artifact,
                    "sha": digest,
                    "now": now,
                },
            )
    upgrade_to_head(url)
    assert schema_drift(url) is None
    with engine.connect() as connection:
        stored = {
            row.ticker: (row.content_sha256, row.trained_on)
            for row in connection.execute(text("SELECT ticker, content_sha256, trained_on FROM model_versions"))
        }
    expected = content_digest(unpack_any(bundle).metadata)
    assert stored == {"SMALL": (expected, "SPX"), "SPX": (expected, None), "ALT": (None, None)}

    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with sessions() as session:
        actor = Actor.of(get_user(session=session, user_id=user))
        with pytest.raises(DuplicateVersionError, match="already stored as SMALL v1"):
            import_version(session=session, actor=actor, data=resigned(bundle), ticker="SMALL")
        session.rollback()

    command.downgrade(alembic_config(url), "0018")
    assert not {"content_sha256", "trained_on"} & {c["name"] for c in inspect(engine).get_columns("model_versions")}
    engine.dispose()
