"""No message about a wrong setting repeats the secret part of a setting that may hold one."""

import pytest

from common.config import _SECRET_BEARING, ConfigError, load_settings

SECRET = "Sup3rSecretPart"
STRONG_KEY = "k3J9-vQ2xR7mN4pL8sT1wY6zB0cF5hG2jD9aE3uI7oP"

# Wrong values of each secret-bearing setting, each carrying SECRET where a password or key would be.
WRONG_VALUES = {
    "REDIS_URL": [
        f"default:{SECRET}@redis.internal:6379/0",
        f"http://default:{SECRET}@redis.internal:6379/0",
        f"default:{SECRET}@redis.internal://6379/0",
        SECRET,
    ],
    "DATABASE_URL": [
        f"mysql://root:{SECRET}@localhost/x",
        f"postgres:{SECRET}@db.internal:5432/candlecast",
        # An "@" in the password shifts the rest into the port.
        f"postgresql://postgres:p@ss:{SECRET}@db.internal/candlecast",
        f"postgresql://postgres:{SECRET}@db.internal:notaport/candlecast",
        f"postgresql+nodriver://postgres:{SECRET}@db.internal/candlecast",
        SECRET,
    ],
    # Production refuses a weak key; the key itself must not be in the reason.
    "COOKIE_KEY": [SECRET, f"change-me-{SECRET}", f"{SECRET} {SECRET} {SECRET}", SECRET * 3],
    "MODEL_SIGNING_KEY": [SECRET, f"change-me-{SECRET}", f"{SECRET} {SECRET} {SECRET}", SECRET * 3],
    # Any string is a valid password, so it can only leak through another setting's message.
    "DB_PASSWORD": [SECRET],
}


def test_every_secret_bearing_setting_has_wrong_values_to_try():
    assert set(WRONG_VALUES) == set(_SECRET_BEARING)


@pytest.mark.parametrize(
    ("variable", "value"), [(variable, value) for variable, values in WRONG_VALUES.items() for value in values]
)
def test_no_message_repeats_the_secret_of_a_wrong_setting(monkeypatch, variable, value):
    monkeypatch.setenv("APP_ENV", "production")
    if variable != "COOKIE_KEY":
        monkeypatch.setenv("COOKIE_KEY", STRONG_KEY)
    if variable == "DB_PASSWORD":
        # Its value is always valid: a wrong neighbour makes the message it could leak into.
        monkeypatch.setenv("DB_PORT", "not-a-port")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert variable in message or variable == "DB_PASSWORD"
    assert SECRET not in message
    assert SECRET[:8] not in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:6379", "REDIS_URL: unknown scheme 'http'"),
        ("redis.internal:6379/0", "REDIS_URL: has no scheme"),
        (f"default:{SECRET}@redis.internal:6379/0", "REDIS_URL: has no scheme"),
    ],
)
def test_a_redis_url_names_its_scheme_only_when_it_is_one(monkeypatch, value, expected):
    monkeypatch.setenv("REDIS_URL", value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert expected in str(raised.value)


def test_an_unknown_database_driver_is_a_message_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+nodriver://postgres@db.internal/candlecast")
    with pytest.raises(ConfigError, match=r"DATABASE_URL: the driver of 'postgresql\+nodriver' is not installed"):
        load_settings()
