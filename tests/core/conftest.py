"""Fixtures shared by the job tests in tests/core and tests/core/forecasting."""

from tests.core.test_jobs import app_database  # noqa: F401 - DATABASE_URL at each backend, prices as JOBSPX
