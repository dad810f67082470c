"""Settings: defaults, URL composition, and one clear message per bad variable."""

import base64
import random
import secrets

import pytest

from common.config import MIN_COOKIE_KEY_BYTES, PROJECT_ROOT, ConfigError, load_settings

STRONG_KEY = "k3J9-vQ2xR7mN4pL8sT1wY6zB0cF5hG2jD9aE3uI7oP"


def test_embedded_sqlite_under_var_is_the_default(monkeypatch):
    monkeypatch.delenv("SQLITE_PATH")
    url = load_settings().sqlalchemy_url
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(PROJECT_ROOT / "var" / "candlecast.db")


def test_database_url_wins_over_seed_variables(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://alice@db.internal:6543/prices")
    monkeypatch.setenv("DB_HOST", "elsewhere")
    url = load_settings().sqlalchemy_url
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+psycopg2",
        "db.internal",
        6543,
        "prices",
    )


def test_seed_variables_compose_a_postgres_url_with_the_password_escaped(monkeypatch):
    monkeypatch.setenv("DB_HOST", "pg.example")
    monkeypatch.setenv("DB_PORT", "5433")
    monkeypatch.setenv("DB_USER", "candle")
    monkeypatch.setenv("DB_PASSWORD", "p@ss:w/rd")
    monkeypatch.setenv("DB_NAME", "cc")
    url = load_settings().sqlalchemy_url
    assert (
        url.render_as_string(hide_password=False) == "postgresql+psycopg2://candle:p%40ss%3Aw%2Frd@pg.example:5433/cc"
    )
    assert url.password == "p@ss:w/rd"


def test_postgres_short_scheme_is_accepted(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/d")
    assert load_settings().sqlalchemy_url.drivername == "postgresql+psycopg2"


def test_relative_sqlite_url_is_relative_to_the_project(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/other.db")
    assert load_settings().sqlalchemy_url.database == str(PROJECT_ROOT / "var" / "other.db")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DB_PORT", "abc", "DB_PORT: Input should be a valid integer"),
        ("DB_PORT", "70000", "DB_PORT: Input should be less than or equal to 65535"),
        ("DB_POOL_SIZE", "-1", "DB_POOL_SIZE: Input should be greater than or equal to 1"),
        ("DB_MAX_OVERFLOW", "-3", "DB_MAX_OVERFLOW: Input should be greater than or equal to 0"),
        ("DB_POOL_TIMEOUT", "0", "DB_POOL_TIMEOUT: Input should be greater than 0"),
        ("DB_ECHO", "maybe", "DB_ECHO: Input should be a valid boolean"),
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL: unknown scheme 'mysql'"),
        ("DATABASE_URL", "not a url", "DATABASE_URL: is not a database URL"),
        ("DATABASE_URL", "postgresql+asyncpg://u@h/d", "DATABASE_URL: the driver of 'postgresql+asyncpg'"),
        ("DATABASE_URL", "sqlite://", "DATABASE_URL: is an in-memory database"),
        ("DATABASE_URL", "sqlite:///:memory:", "DATABASE_URL: is an in-memory database"),
        ("DATABASE_URL", "sqlite+pysqlite:///:memory:", "DATABASE_URL: is an in-memory database"),
        ("DATABASE_URL", "sqlite:///file:cc?mode=memory&uri=true", "DATABASE_URL: is an in-memory database"),
        ("REDIS_URL", "http://localhost:6379", "REDIS_URL: unknown scheme 'http'"),
        ("APP_ENV", "staging", "APP_ENV: Input should be 'development' or 'production'"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL: Input should be"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert expected in str(raised.value)


def test_messages_never_repeat_credentials(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2hunter2@localhost/x")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "hunter2" not in str(raised.value)


def test_all_bad_variables_are_reported_together(monkeypatch):
    monkeypatch.setenv("DB_PORT", "abc")
    monkeypatch.setenv("DB_POOL_SIZE", "0")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "DB_PORT" in str(raised.value)
    assert "DB_POOL_SIZE" in str(raised.value)


def test_pool_defaults():
    settings = load_settings()
    assert (
        settings.db_pool_size,
        settings.db_max_overflow,
        settings.db_pool_timeout,
        settings.db_pool_recycle,
        settings.db_echo,
    ) == (5, 10, 30, 3600, False)
    assert settings.redis_url is None


def test_empty_redis_url_means_no_redis(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "")
    assert load_settings().redis_url is None


def test_case_of_app_env_and_log_level_does_not_matter(monkeypatch):
    monkeypatch.setenv("APP_ENV", "Development")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings()
    assert (settings.app_env, settings.log_level) == ("development", "DEBUG")


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "COOKIE_KEY: is not set"),
        ("change-me-to-a-long-random-string-of-48-chars", "COOKIE_KEY: is a placeholder"),
        ("your-cookie-key-goes-here-and-it-is-quite-long", "COOKIE_KEY: is a placeholder"),
        ("x" * 40, "COOKIE_KEY: is a placeholder"),
        ("tooShort9", f"COOKIE_KEY: is shorter than {MIN_COOKIE_KEY_BYTES} bytes"),
    ],
)
def test_production_refuses_an_unfit_cookie_key(monkeypatch, key, problem):
    monkeypatch.setenv("APP_ENV", "production")
    if key is not None:
        monkeypatch.setenv("COOKIE_KEY", key)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert problem in str(raised.value)
    if key:
        assert key not in str(raised.value)


README_RECIPE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
# Keys seen in deployments and tutorials: long enough, and none of them a secret.
WEAK_KEYS = [
    (" " * 32, "is blank"),
    ("a" * 32, "is too regular"),
    ("some_key" * 4, "is too regular"),  # streamlit-authenticator's default, stretched
    ("password" * 4, "is a placeholder"),
    ("12345678901234567890123456789012", "is too regular"),
    ("abcdefghijklmnopqrstuvwxyzabcdef", "is too regular"),
    ("<generate-a-random-key-of-at-least-32-bytes>", "is a placeholder"),
    ("TODO-set-a-real-cookie-key-before-deploying", "is a placeholder"),
    ("please-change-this-insecure-cookie-key", "is a placeholder"),
    ("insecure-development-cookie-key-do-not-use", "is a placeholder"),
    ("secrets.token_urlsafe(48)-paste-here-please", "is the command that makes a key"),
    (README_RECIPE, "is the command that makes a key"),
    ("k3J9 vQ2xR7mN4pL8sT1wY6zB0cF5hG2jD9aE3uI7oP", "contains spaces or angle brackets"),
    ("<k3J9-vQ2xR7mN4pL8sT1wY6zB0cF5hG2jD9aE3uI7oP>", "contains spaces or angle brackets"),
    ("Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3-xyz", "is too regular"),  # a phrase repeated, a tail after it
    ("qwertyuiopasdfghjklzxcvbnm1234567890QWE", "is too regular"),  # the keyboard's rows
    ("Kx9-asdfghjkl-Qz7-zxcvbnm-Wp4-poiuytrewq", "is too regular"),  # rows, either way, between noise
    # Sentences and names joined by separators: no pattern word in them, and none of them a secret.
    ("fill_in_a_random_value_here_before_going_live", "is made of words"),
    ("TBD-TBD-random-string-to-be-decided-later-ok", "is made of words"),
    ("cookie_key_for_candlecast_production_deploy", "is made of words"),
    ("Candlecast.Production.Cookie.Key.2024.v2", "is made of words"),
]


@pytest.mark.parametrize(("key", "problem"), WEAK_KEYS)
@pytest.mark.parametrize("variable", ["COOKIE_KEY", "MODEL_SIGNING_KEY"])
def test_production_refuses_weak_keys_without_echoing_them(monkeypatch, variable, key, problem):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("COOKIE_KEY", STRONG_KEY)
    monkeypatch.setenv(variable, key)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert f"{variable}: {problem}" in str(raised.value)
    assert key not in str(raised.value)


def test_production_accepts_random_keys_in_the_formats_people_generate(monkeypatch):
    # A seeded stand-in for secrets.token_urlsafe(48) and token_hex(32/16), so a rule that refuses
    # one random key in a few thousand fails here every time rather than once in a while.
    source = random.Random(20240601)
    keys = [base64.urlsafe_b64encode(source.randbytes(48)).decode() for _ in range(2000)]
    # token_urlsafe(32) and (24), without their padding: in the shortest keys a few pieces between "-" and
    # "_" hold the most of the key, as the words of a phrase do.
    keys += [
        base64.urlsafe_b64encode(source.randbytes(size)).decode().rstrip("=") for size in (32, 24) for _ in range(300)
    ]
    keys += [source.randbytes(size).hex() for size in (32, 16) for _ in range(2000)]
    keys += [secrets.token_urlsafe(48), secrets.token_urlsafe(32), secrets.token_hex(32)]
    monkeypatch.setenv("APP_ENV", "production")
    for key in keys:
        monkeypatch.setenv("COOKIE_KEY", key)
        assert load_settings().cookie_key.get_secret_value() == key


def test_production_accepts_a_strong_cookie_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("COOKIE_KEY", STRONG_KEY)
    settings = load_settings()
    assert settings.is_production
    assert settings.cookie_key.get_secret_value() == STRONG_KEY


def test_development_starts_without_a_cookie_key():
    assert load_settings().cookie_key is None


def test_every_setting_is_documented_in_env_example_and_readme():
    from common.config import Settings

    example = (PROJECT_ROOT / ".env.example").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"{name.upper()}=" in example, f"{name.upper()} missing from .env.example"
        assert f"`{name.upper()}`" in readme, f"{name.upper()} missing from the README's settings table"
