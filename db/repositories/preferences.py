"""User preferences: default tickers, notification settings, UI preferences."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import UserPreferences
from db.repositories.actor import Actor, own_rows
from db.repositories.upsert import upsert_insert


def get_preferences(*, session: Session, actor: Actor) -> UserPreferences:
    """The actor's preferences; one who never saved any gets an unsaved row of defaults."""
    found = session.scalar(select(UserPreferences).where(own_rows(UserPreferences.user_id, actor)))
    if found is not None:
        return found
    return UserPreferences(user_id=actor.user_id, default_tickers=[], notification_settings={}, ui_preferences={})


def update_preferences(
    *,
    session: Session,
    actor: Actor,
    default_tickers: Iterable[str] | None = None,
    notification_settings: Mapping[str, Any] | None = None,
    ui_preferences: Mapping[str, Any] | None = None,
) -> UserPreferences:
    """Save the given parts of the actor's preferences; parts left as None keep their value."""
    preferences = _locked_row(session, actor)
    if default_tickers is not None:
        preferences.default_tickers = list(dict.fromkeys(default_tickers))
    if notification_settings is not None:
        preferences.notification_settings = {**preferences.notification_settings, **notification_settings}
    if ui_preferences is not None:
        preferences.ui_preferences = {**preferences.ui_preferences, **ui_preferences}
    session.add(preferences)
    session.flush()
    return preferences


def _locked_row(session: Session, actor: Actor) -> UserPreferences:
    """The actor's row, made if missing and locked until the commit.

    Two first visits at once (two tabs on Home) would otherwise both insert and one would fail on
    the unique user_id; two saves at once would each merge into a stale copy and lose a part.
    """
    session.execute(
        upsert_insert(session, UserPreferences)
        .values(id=uuid.uuid4(), user_id=actor.user_id, default_tickers=[], notification_settings={}, ui_preferences={})
        .on_conflict_do_nothing(index_elements=[UserPreferences.user_id])
    )
    return session.scalars(
        select(UserPreferences).where(own_rows(UserPreferences.user_id, actor)).with_for_update()
    ).one()
