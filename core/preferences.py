"""User preferences with their allowed values: default tickers, chart theme and range, notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from common.errors import BadInput
from core.data.tickers import parse_ticker_text
from db.repositories.actor import Actor
from db.repositories.preferences import get_preferences, update_preferences

CHART_THEMES = {"light": "plotly_white", "dark": "plotly_dark"}
DATE_RANGES = ("1M", "6M", "YTD", "1Y", "5Y", "All")
# They fill every page's ticker choices: a list to pick from, not a store of everything followed.
MAX_DEFAULT_TICKERS = 50
PROBLEMS_SHOWN = 5
NOTIFICATIONS = {
    "training_finished": "Tell me when a training job finishes",
    "prediction_matured": "Tell me when a prediction meets its actual price",
}


class PreferencesError(BadInput):
    """A preference value is not allowed; the message names the field, `reason` (for the audit) only the field."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")
        self.reason = f"{field_name}: refused"


@dataclass(frozen=True)
class Preferences:
    default_tickers: list[str] = field(default_factory=list)
    chart_theme: str = "light"
    default_range: str = "1Y"
    notifications: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(NOTIFICATIONS, True))

    @property
    def plotly_template(self) -> str:
        return CHART_THEMES[self.chart_theme]


def load_preferences(*, session: Session, actor: Actor) -> Preferences:
    stored = get_preferences(session=session, actor=actor)
    ui: dict[str, Any] = stored.ui_preferences or {}
    defaults = Preferences()
    return Preferences(
        default_tickers=list(stored.default_tickers or []),
        chart_theme=ui.get("chart_theme") if ui.get("chart_theme") in CHART_THEMES else defaults.chart_theme,
        default_range=ui.get("default_range") if ui.get("default_range") in DATE_RANGES else defaults.default_range,
        notifications={key: bool((stored.notification_settings or {}).get(key, True)) for key in NOTIFICATIONS},
    )


def save_preferences(
    *,
    session: Session,
    actor: Actor,
    tickers_text: str,
    chart_theme: str,
    default_range: str,
    notifications: dict[str, bool],
) -> Preferences:
    """Validate everything first, then write: a bad value leaves the stored preferences as they were."""
    tickers, problems = parse_ticker_text(tickers_text)
    if problems:
        more = f"; and {len(problems) - PROBLEMS_SHOWN:,} more" if len(problems) > PROBLEMS_SHOWN else ""
        raise PreferencesError("default tickers", "; ".join(problems[:PROBLEMS_SHOWN]) + more)
    if len(tickers) > MAX_DEFAULT_TICKERS:
        raise PreferencesError(
            "default tickers",
            f"at most {MAX_DEFAULT_TICKERS} ({len(tickers):,} given); keep the ones you look at most",
        )
    if chart_theme not in CHART_THEMES:
        raise PreferencesError("chart theme", f"{chart_theme!r} is not one of {', '.join(CHART_THEMES)}")
    if default_range not in DATE_RANGES:
        raise PreferencesError("default range", f"{default_range!r} is not one of {', '.join(DATE_RANGES)}")
    unknown = set(notifications) - set(NOTIFICATIONS)
    if unknown:
        raise PreferencesError("notifications", f"unknown setting {sorted(unknown)[0]!r}")
    update_preferences(
        session=session,
        actor=actor,
        default_tickers=tickers,
        ui_preferences={"chart_theme": chart_theme, "default_range": default_range},
        notification_settings={key: bool(value) for key, value in notifications.items()},
    )
    return load_preferences(session=session, actor=actor)
