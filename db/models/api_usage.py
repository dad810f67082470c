"""Requests made with each API key, counted per endpoint and UTC day."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models._columns import uuid_pk


class ApiKeyUsage(Base):
    """How many requests one key made to one endpoint on one day; revoking a key keeps its history."""

    __tablename__ = "api_key_usage"
    __table_args__ = (UniqueConstraint("api_key_id", "endpoint", "day"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    endpoint: Mapped[str] = mapped_column(String(128))
    day: Mapped[date]
    request_count: Mapped[int] = mapped_column(default=0)
