"""The service layer: one function per user action, the only thing pages and the REST API call.

Each service function
- takes the acting user (`Actor`) and plain inputs (str, bytes, numbers, dates, dataclasses),
  never a Session;
- owns its one transaction (`db.engine.session_scope(action=...)`): callers never open one;
- checks the permission first (`core.auth.roles.require`), then the quota where there is one;
- writes the audit entry, refusals included: a refusal's row is kept with
  `keep_after_rollback`, so the rollback that follows cannot lose it;
- refuses with a subclass of `common.errors.Refusal`, whose message is for the user; anything
  else is a fault, raised and logged once by `session_scope`.

Modules by area: accounts, market, indicators, models, forecasts, analysis.
"""
