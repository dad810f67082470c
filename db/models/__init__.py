"""Every table of the data model; importing this package registers them all on Base.metadata."""

from db.models.accounts import ApiKey, AuditLog, Invitation, RateLimit, User, UserPreferences
from db.models.api_usage import ApiKeyUsage
from db.models.forecasting import (
    BacktestResult,
    Evaluation,
    ModelVersion,
    ModelVersionNumber,
    Prediction,
    RiskMetrics,
    TrainingJob,
)
from db.models.market import DataUpload, HistoricalPrice, PriceSeriesVersion, PriceSummary, TechnicalIndicator

__all__ = [
    "ApiKey",
    "ApiKeyUsage",
    "AuditLog",
    "BacktestResult",
    "DataUpload",
    "Evaluation",
    "HistoricalPrice",
    "Invitation",
    "ModelVersion",
    "ModelVersionNumber",
    "Prediction",
    "PriceSeriesVersion",
    "PriceSummary",
    "RateLimit",
    "RiskMetrics",
    "TechnicalIndicator",
    "TrainingJob",
    "User",
    "UserPreferences",
]
