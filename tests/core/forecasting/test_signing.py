"""Where the model signing key comes from in each set-up, and what production refuses."""

import pytest

from common.config import ConfigError, load_settings
from core.forecasting.signing import sign, signing_key, verify

STRONG = "k3J9-vQ2xR7mN4pL8sT1wY6zB0cF5hG2jD9aE3uI7oP"
OTHER_STRONG = "Zq8-Lm3Nv7Rt2Wx9Ks4Hd6Jf1Pb5Gc0Ya8Ue3Io7Tr"


def test_a_set_key_is_used_as_it_is(monkeypatch):
    monkeypatch.setenv("MODEL_SIGNING_KEY", STRONG)
    assert signing_key(load_settings()) == STRONG.encode()


def test_without_one_the_key_is_derived_from_the_cookie_key_and_differs_from_it(monkeypatch):
    monkeypatch.setenv("COOKIE_KEY", STRONG)
    derived = signing_key(load_settings())
    assert derived != STRONG.encode()
    assert len(derived) == 32
    assert signing_key(load_settings()) == derived
    monkeypatch.setenv("COOKIE_KEY", OTHER_STRONG)
    assert signing_key(load_settings()) != derived


def test_development_without_keys_keeps_one_generated_key_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SQLITE_PATH", str(tmp_path / "var" / "candlecast.db"))
    first = signing_key(load_settings())
    key_file = tmp_path / "var" / "model-signing.key"
    assert key_file.read_bytes().strip() == first
    assert len(first) == 64
    assert key_file.stat().st_mode & 0o077 == 0
    assert signing_key(load_settings()) == first


@pytest.mark.parametrize(("key", "problem"), [("change-me-please-to-something-long", "is a placeholder"),
                                              ("tooShort9", "is shorter than 32 bytes")])  # fmt: skip
def test_production_refuses_an_unfit_signing_key_without_echoing_it(monkeypatch, key, problem):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("COOKIE_KEY", STRONG)
    monkeypatch.setenv("MODEL_SIGNING_KEY", key)
    with pytest.raises(ConfigError, match=f"MODEL_SIGNING_KEY: {problem}") as raised:
        load_settings()
    assert key not in str(raised.value)


def test_signatures_verify_only_with_the_same_key_and_payload():
    signature = sign(b"payload", b"key")
    assert verify(b"payload", signature, b"key")
    assert not verify(b"payload", signature, b"other key")
    assert not verify(b"payload!", signature, b"key")
    assert not verify(b"payload", None, b"key")
