"""The system status that Home's panel and `python -m core check` both show: database, Redis, job runners."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from core.jobs import RunnerStatus, runner_status
from core.redis_client import RedisState, RedisStatus, redis_status
from db.engine import Health, PoolStatus, get_engine, health_check, pool_status, url_for_people
from db.migrate import current_revision, head_revision, newer_revision_problem


@dataclass(frozen=True)
class DatabaseStatus:
    backend: str
    url: str
    health: Health
    pool: PoolStatus
    revision: str | None
    head: str | None

    @property
    def migrated(self) -> bool:
        return self.revision is not None and self.revision == self.head

    @property
    def ok(self) -> bool:
        return self.health.ok and self.migrated

    @property
    def problem(self) -> str | None:
        """What is wrong, in words a user can act on, or None."""
        if not self.health.ok:
            return f"database unreachable: {self.health.error}"
        if self.revision is None:
            return "database has no schema yet: run `python -m db setup`"
        if self.revision != self.head and (newer := newer_revision_problem(self.revision)):
            return newer
        if self.revision != self.head:
            return f"database is at revision {self.revision}, code expects {self.head}: run `python -m db setup`"
        return None


@dataclass(frozen=True)
class SystemStatus:
    database: DatabaseStatus
    redis: RedisStatus
    runner: RunnerStatus

    @property
    def runner_problem(self) -> str | None:
        """No worker on the queue; with Redis down, the Redis problem already says everything."""
        return None if self.redis.state == RedisState.UNREACHABLE else self.runner.problem

    @property
    def ok(self) -> bool:
        """Healthy when the database is; Redis and its workers count only when Redis is configured."""
        return self.database.ok and self.redis.state != RedisState.UNREACHABLE and self.runner_problem is None


def database_status(engine: Engine | None = None) -> DatabaseStatus:
    """Backend, connectivity, pool figures and migration revision of the database."""
    engine = engine if engine is not None else get_engine()
    health = health_check(engine)
    revision = None
    if health.ok:
        try:
            revision = current_revision(engine)
        except Exception as error:  # noqa: BLE001 - a failure here is shown, not raised
            health = Health(False, health.latency_ms, f"{type(error).__name__}: {error}")
    return DatabaseStatus(
        backend=engine.dialect.name,
        url=url_for_people(engine.url),
        health=health,
        pool=pool_status(engine),
        revision=revision,
        head=head_revision(),
    )


def system_status(engine: Engine | None = None) -> SystemStatus:
    """Everything the status panel and `python -m core check` report."""
    return SystemStatus(database=database_status(engine), redis=redis_status(), runner=runner_status())
