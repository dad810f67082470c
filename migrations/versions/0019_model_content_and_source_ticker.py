"""model_versions.content_sha256 and trained_on: one model is imported once per ticker however it was signed or
zipped, and a model imported under another ticker keeps the ticker whose prices it was fitted on.

content_sha256 is the SHA-256 of the bundle's model type, settings and files' checksums (as
core.forecasting.artifacts.content_digest computes it at this revision), read from each stored artifact's
metadata.json; trained_on is that metadata's ticker where it is not the version's own. An artifact that no
longer matches its stored SHA-256, or that cannot be read, is left with both empty: nothing vouches for it.
Downgrading drops both columns.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-09
"""

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "model_versions"
METADATA_BYTES = 1024 * 1024  # as the app reads metadata.json at this revision


def _metadata(artifact: bytes) -> dict | None:
    try:
        with zipfile.ZipFile(io.BytesIO(artifact)) as archive:
            names = archive.namelist()
            if names.count("metadata.json") != 1 or archive.getinfo("metadata.json").file_size > METADATA_BYTES:
                return None
            values = json.loads(archive.read("metadata.json"))
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError, NotImplementedError):
        return None
    return values if isinstance(values, dict) else None


def _content_digest(metadata: dict) -> str:
    content = {
        "model_type": metadata.get("model_type", "lstm"),
        "parameters": metadata.get("parameters") or {},
        "files": metadata.get("files") or {},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("trained_on", sa.String(length=32), nullable=True))
    connection = op.get_bind()
    versions = sa.table(
        TABLE,
        sa.column("id", sa.Uuid()),
        sa.column("ticker", sa.String()),
        sa.column("artifact", sa.LargeBinary()),
        sa.column("artifact_sha256", sa.String()),
        sa.column("content_sha256", sa.String()),
        sa.column("trained_on", sa.String()),
    )
    # One artifact at a time: an LSTM's may be tens of megabytes.
    for version_id in connection.scalars(sa.select(versions.c.id)).all():
        row = connection.execute(
            sa.select(versions.c.ticker, versions.c.artifact, versions.c.artifact_sha256).where(
                versions.c.id == version_id
            )
        ).one()
        if hashlib.sha256(row.artifact).hexdigest() != row.artifact_sha256:
            continue
        metadata = _metadata(row.artifact)
        if metadata is None:
            continue
        named = str(metadata.get("ticker") or "").strip().upper()
        connection.execute(
            sa.update(versions)
            .where(versions.c.id == version_id)
            .values(
                content_sha256=_content_digest(metadata),
                trained_on=named if named and named != row.ticker and len(named) <= 32 else None,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_column("trained_on")
        batch_op.drop_column("content_sha256")
