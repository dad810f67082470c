"""Users and what belongs to them: API keys, preferences, rate-limit counters, the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base
from db.models._columns import created_at, one_of, owner_fk, uuid_pk
from db.types import utc_now


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


class Tier(StrEnum):
    FREE = "free"
    PRO = "pro"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        one_of("role", [r.value for r in Role]),
        one_of("subscription_tier", [t.value for t in Tier]),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.ANALYST.value)
    subscription_tier: Mapped[str] = mapped_column(String(16), default=Tier.FREE.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)
    last_login: Mapped[datetime | None]
    logged_out_at: Mapped[datetime | None]

    preferences: Mapped[UserPreferences | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    api_keys: Mapped[list[ApiKey]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"User(username={self.username!r}, role={self.role!r})"


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk()
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at()
    last_used: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)

    user: Mapped[User] = relationship(back_populates="api_keys")


class UserPreferences(Base):
    __tablename__ = "user_preferences"

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    default_tickers: Mapped[list[str]] = mapped_column(default=list)
    notification_settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ui_preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    user: Mapped[User] = relationship(back_populates="preferences")


class RateLimit(Base):
    """How often a user hit an endpoint since last_reset; the usage view reads it."""

    __tablename__ = "rate_limits"
    __table_args__ = (UniqueConstraint("user_id", "endpoint"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = owner_fk(index=False)
    endpoint: Mapped[str] = mapped_column(String(64))
    request_count: Mapped[int] = mapped_column(default=0)
    last_reset: Mapped[datetime] = mapped_column(default=utc_now)


class AuditLog(Base):
    """Who did what, when, from where; kept when the user is deleted (user_id becomes NULL)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("idx_audit_log_at", "at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    latency_ms: Mapped[float | None]
    at: Mapped[datetime] = mapped_column(default=utc_now)


class Invitation(Base):
    """An e-mail address an admin invited, and the one-time code the invitee registers with (stored as its
    SHA-256 only); with invite-only registration, only these may register.

    An invitation made before codes existed has none and admits nobody until an admin gives it one.
    """

    __tablename__ = "invitations"

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at()
    used_at: Mapped[datetime | None]
    code_hash: Mapped[str | None] = mapped_column(String(64))

    @property
    def has_code(self) -> bool:
        return self.code_hash is not None
