"""A model version as the pages name it in their choosers."""

from __future__ import annotations

from typing import Any

from core.forecasting.zoo import KINDS, label


def version_name(version: Any) -> str:
    """Its ticker, number and type: "SPX v2 · auto ensemble"."""
    kind = label(version.model_type) if version.model_type in KINDS else str(version.model_type)
    return f"{version.ticker} v{version.version} · {kind}"
