"""Model types and versions as the pages name them in tables and choosers."""

from __future__ import annotations

from typing import Any

from core.forecasting.zoo import KINDS, label


def model_name(kind: object) -> str:
    """A model type in plain words ("auto ensemble"); a type this deployment does not know, as stored."""
    return label(kind) if kind in KINDS else str(kind)


def version_name(version: Any) -> str:
    """Its ticker, number and type: "SPX v2 · auto ensemble"."""
    return f"{version.ticker} v{version.version} · {model_name(version.model_type)}"
