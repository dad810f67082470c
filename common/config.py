"""Application settings: one pydantic-settings object read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
import itertools
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

PROJECT_ROOT = Path(__file__).resolve().parents[1]

SUPPORTED_DATABASE_SCHEMES = ("sqlite", "postgresql")
SUPPORTED_REDIS_SCHEMES = ("redis", "rediss", "unix")
# RFC 3986's scheme syntax, short: what a mistyped scheme looks like, unlike "user:password@host".
_PLAIN_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]{0,15}")
MIN_COOKIE_KEY_BYTES = 32
COOKIE_KEY_RECIPE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
# Values people paste from examples and tutorials; none of them is a secret. A word of six letters
# or more turns up in a random key less than once in ten million; "todo" would far more often, so
# it counts only between separators.
_PLACEHOLDER_PATTERN = re.compile(
    r"change|placeholder|replace|your[-_ ]|example|secret[-_]?key|insecure|generate|password"
    r"|(?<![a-z0-9])todo(?![a-z0-9])|^x+$|^0+$",
    re.IGNORECASE,
)
# The generator command (or a piece of it) pasted instead of what it prints.
_RECIPE_PATTERN = re.compile(r"python|secrets\.token|import secrets", re.IGNORECASE)
# Fewer distinct characters than this in 32 or more is a typed pattern: 32 random hex digits show 14.
_MIN_DISTINCT_CHARACTERS = 8
# A phrase or a name written with separators ("fill_in_a_random_value_here", "Cookie.Key.Prod.2024"): pieces
# between separators that are words, letters only in one case or capitalised, hold most of the key. In a
# secrets.token_urlsafe key a piece is a word far less often (cases mixed, digits), and in ten million keys of
# 24 bytes, the shortest allowed, none had 4 such pieces holding even 65% of it.
_WORD_SEPARATORS = re.compile(r"[-_. ]+")
_MIN_WORDS = 4
_MIN_WORDS_SHARE = 0.75
# Per subscription tier, how often a user may start each action (limits' notation).
DEFAULT_ACTION_LIMITS: dict[str, dict[str, str]] = {
    "free": {"fetch": "60/hour", "upload": "30/hour", "train": "10/hour", "predict": "120/hour"},
    "pro": {"fetch": "600/hour", "upload": "300/hour", "train": "100/hour", "predict": "1200/hour"},
}
_SEED_DB_VARIABLES = frozenset({"db_user", "db_password", "db_host", "db_port", "db_name"})
# Their values may hold credentials, so error messages never repeat them.
_SECRET_BEARING = frozenset({"COOKIE_KEY", "MODEL_SIGNING_KEY", "DB_PASSWORD", "DATABASE_URL", "REDIS_URL"})


class ConfigError(Exception):
    """A setting is missing or wrong; the message names the variable."""


class Settings(BaseSettings):
    """Every setting of the app; each field is the environment variable of the same name."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    app_env: Literal["development", "production"] = "development"

    database_url: str | None = None
    db_user: str = "postgres"
    db_password: SecretStr = SecretStr("")
    db_host: str = "localhost"
    db_port: int = Field(5432, ge=1, le=65535)
    db_name: str = "candlecast"
    sqlite_path: Path = Path("var/candlecast.db")

    db_pool_size: int = Field(5, ge=1)
    db_max_overflow: int = Field(10, ge=0)
    db_pool_timeout: float = Field(30.0, gt=0)
    db_pool_recycle: int = Field(3600, ge=-1)
    db_connect_timeout: int = Field(4, ge=2, le=60)
    db_answer_timeout: float = Field(5.0, ge=1, le=300)
    db_echo: bool = False

    redis_url: str | None = None
    training_queue: str = Field("candlecast-training", pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")

    log_dir: Path = Path("logs")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    cookie_key: SecretStr | None = None
    model_signing_key: SecretStr | None = None
    cookie_name: str = Field("candlecast_session", pattern=r"^[A-Za-z0-9_\-]{1,64}$")
    session_idle_minutes: int = Field(60, ge=1, le=24 * 60)
    registration_mode: Literal["open", "invite"] = "open"
    trusted_proxies: str = ""
    action_limits: dict[str, dict[str, str]] = Field(default_factory=lambda: dict(DEFAULT_ACTION_LIMITS))

    api_port: int = Field(8000, ge=1, le=65535)

    @field_validator("app_env", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            url = _with_default_driver(make_url(value))
        except (ArgumentError, ValueError):
            # ValueError: an "@" in the password shifts the rest into the port, which int() then quotes.
            raise ValueError("is not a database URL (expected e.g. postgresql://user@host/db)") from None
        if url.get_backend_name() not in SUPPORTED_DATABASE_SCHEMES:
            raise ValueError(f"unknown scheme '{url.drivername}'; use one of: {', '.join(SUPPORTED_DATABASE_SCHEMES)}")
        try:
            url.get_dialect().import_dbapi()
        except (ImportError, NoSuchModuleError):
            raise ValueError(
                f"the driver of '{url.drivername}' is not installed; use postgresql+psycopg2:// or sqlite://"
            ) from None
        if _is_in_memory_sqlite(url):
            # Each process (app, job, API, CLI) would get a database of its own, empty and gone at exit.
            raise ValueError("is an in-memory database; name a file, e.g. sqlite:///var/candlecast.db")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        schemes = ", ".join(f"{scheme}://" for scheme in SUPPORTED_REDIS_SCHEMES)
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme in SUPPORTED_REDIS_SCHEMES:
            return value
        # Anything else before "://" (or the whole value, without one) may be a password: never repeat it.
        if _PLAIN_SCHEME.fullmatch(scheme):
            raise ValueError(f"unknown scheme '{scheme}'; use one of: {schemes}")
        raise ValueError(f"has no scheme; start it with one of: {schemes} (e.g. redis://host:6379/0)")

    @field_validator("registration_mode", mode="before")
    @classmethod
    def _lower_case_mode(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        for item in _split_list(value):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network like 10.0.0.0/8") from None
        return value

    @field_validator("action_limits")
    @classmethod
    def _check_action_limits(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from limits import parse

        merged = {tier: dict(actions) for tier, actions in DEFAULT_ACTION_LIMITS.items()}
        for tier, actions in value.items():
            if tier not in DEFAULT_ACTION_LIMITS:
                raise ValueError(f"unknown tier {tier!r}; tiers are {', '.join(DEFAULT_ACTION_LIMITS)}")
            for action, limit in actions.items():
                if action not in DEFAULT_ACTION_LIMITS[tier]:
                    known = ", ".join(DEFAULT_ACTION_LIMITS[tier])
                    raise ValueError(f"unknown action {action!r} for tier {tier!r}; actions are {known}")
                try:
                    parse(limit)
                except ValueError:
                    raise ValueError(f"{tier}.{action}: {limit!r} is not a limit like '30/hour'") from None
                merged[tier][action] = limit
        return merged

    @model_validator(mode="after")
    def _check_cookie_key_in_production(self) -> Settings:
        if self.app_env != "production":
            return self
        problem = cookie_key_problem(self.cookie_key)
        if problem:
            raise ValueError(f"COOKIE_KEY: {problem} (required when APP_ENV=production)")
        # Unset, the model signing key is derived from the (checked) COOKIE_KEY; set, it must be as strong.
        signing_problem = cookie_key_problem(self.model_signing_key) if self.model_signing_key else None
        if signing_problem:
            raise ValueError(f"MODEL_SIGNING_KEY: {signing_problem}")
        return self

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def sqlalchemy_url(self) -> URL:
        """The database to use: DATABASE_URL, else one composed from DB_*, else the embedded SQLite file."""
        if self.database_url:
            url = _with_default_driver(make_url(self.database_url))
            if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
                url = url.set(database=str(resolve_path(Path(url.database))))
            return url
        if self.model_fields_set & _SEED_DB_VARIABLES:
            return URL.create(
                "postgresql+psycopg2",
                username=self.db_user,
                password=self.db_password.get_secret_value() or None,
                host=self.db_host,
                port=self.db_port,
                database=self.db_name,
            )
        return URL.create("sqlite", database=str(resolve_path(self.sqlite_path)))

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The proxies whose X-Forwarded-For header names the client; none by default."""
        return tuple(ipaddress.ip_network(item, strict=False) for item in _split_list(self.trusted_proxies))

    @property
    def log_path(self) -> Path:
        return resolve_path(self.log_dir)


def _split_list(value: str) -> list[str]:
    return [item for item in re.split(r"[\s,]+", value) if item]


def _with_default_driver(url: URL) -> URL:
    """Plain postgresql:// (and the short postgres:// some hosts hand out) means the installed psycopg2."""
    if url.drivername in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+psycopg2")
    return url


def resolve_path(path: Path) -> Path:
    """Relative paths in settings mean relative to the project, wherever the app was started from."""
    return path if path.is_absolute() else PROJECT_ROOT / path


def cookie_key_problem(key: SecretStr | None) -> str | None:
    """Why a cookie key is unfit for production, or None when it is fine."""
    if key is None:
        return "is not set"
    raw = key.get_secret_value()
    if not raw.strip():
        return "is blank"
    if _RECIPE_PATTERN.search(raw):
        return "is the command that makes a key, not a key; run it and set what it prints"
    if _PLACEHOLDER_PATTERN.search(raw):
        return f"is a placeholder value; generate one with: {COOKIE_KEY_RECIPE}"
    if re.search(r"[\s<>]", raw):
        return f"contains spaces or angle brackets, as instructions do; generate one with: {COOKIE_KEY_RECIPE}"
    if len(raw.encode("utf-8")) < MIN_COOKIE_KEY_BYTES:
        return f"is shorter than {MIN_COOKIE_KEY_BYTES} bytes"
    if _is_regular(raw):
        return (
            "is too regular to be secret (few distinct characters, a repeated pattern or a run); "
            f"generate one with: {COOKIE_KEY_RECIPE}"
        )
    if _is_made_of_words(raw):
        return f"is made of words, as a placeholder or a phrase is, not random; generate one with: {COOKIE_KEY_RECIPE}"
    return None


def _is_in_memory_sqlite(url: URL) -> bool:
    if url.get_backend_name() != "sqlite":
        return False
    database = url.database or ""
    return database in ("", ":memory:") or database.startswith("file::memory:") or url.query.get("mode") == "memory"


def _is_regular(raw: str) -> bool:
    """Few distinct characters, a short pattern repeated ("some_key" * 4), or a run ("1234...", "abcd...").

    Also a phrase of 4 or more characters repeated over most of the key with a tail after it
    ("Tr0ub4dor&3-" * 3 + "xyz"), and keyboard rows ("qwertyuiop", "asdfghjkl", either way) over most
    of it. A random key of 32 bytes and more repeats no 4 characters often enough, and holds no
    row of 4 long enough, to come near half of it.
    """
    if len(set(raw)) < _MIN_DISTINCT_CHARACTERS:
        return True
    if any(raw[period:] == raw[:-period] for period in range(1, len(raw) // 2 + 1)):
        return True
    if _repeated_phrase_covers_most(raw) or _keyboard_rows_cover_most(raw):
        return True
    steps = Counter(ord(after) - ord(before) for before, after in itertools.pairwise(raw))
    # A run repeats one step between neighbours; in a random key none covers even a third (hex).
    return steps.most_common(1)[0][1] * 2 > len(raw) - 1


def _is_made_of_words(raw: str) -> bool:
    pieces = [piece for piece in _WORD_SEPARATORS.split(raw) if piece]
    words = [piece for piece in pieces if _is_word(piece)]
    letters_and_digits = sum(map(len, pieces))
    return len(words) >= _MIN_WORDS and sum(map(len, words)) >= _MIN_WORDS_SHARE * letters_and_digits


def _is_word(piece: str) -> bool:
    return piece.isascii() and piece.isalpha() and (piece.islower() or piece.isupper() or piece.istitle())


_MIN_PHRASE = 4
_KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEYBOARD_RUNS = (*_KEYBOARD_ROWS, *(row[::-1] for row in _KEYBOARD_ROWS))


def _repeated_phrase_covers_most(raw: str) -> bool:
    for length in range(_MIN_PHRASE, len(raw) // 2 + 1):
        for start in range(len(raw) - 2 * length + 1):
            if raw.count(raw[start : start + length]) * length * 2 > len(raw):
                return True
    return False


def _keyboard_rows_cover_most(raw: str) -> bool:
    lowered, covered, start = raw.lower(), 0, 0
    while start < len(lowered):
        end = start + 1
        while end < len(lowered) and any(lowered[start : end + 1] in run for run in _KEYBOARD_RUNS):
            end += 1
        if end - start >= _MIN_PHRASE:
            covered += end - start
            start = end
        else:
            start += 1
    return covered * 2 > len(raw)


def describe_validation_error(error: ValidationError) -> str:
    """One message per wrong setting, naming its environment variable."""
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if item["loc"]:
            variable = str(item["loc"][0]).upper()
            shown = item.get("input")
            echo = isinstance(shown, str | int | float) and variable not in _SECRET_BEARING
            got = f" (got {shown!r})" if echo else ""
            lines.append(f"{variable}: {message}{got}")
        else:
            lines.append(message)
    return "; ".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, raising ConfigError with a message that names the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(f"Invalid configuration: {describe_validation_error(error)}") from None
    except SettingsError as error:
        # Raised before validation when a structured variable is not JSON.
        field = re.search(r'field "(\w+)"', str(error))
        variable = field.group(1).upper() if field else "a structured variable"
        raise ConfigError(f"Invalid configuration: {variable}: is not valid JSON") from None


@cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return load_settings()
