"""Password policy and hashing."""

import pytest

from core.passwords import PasswordPolicyError, check_password_policy, hash_password, verify_password


def test_hash_verifies_and_is_salted():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second
    assert first.startswith("$argon2id$")
    assert verify_password("correct horse", first)
    assert not verify_password("correct hors", first)


def test_passwords_longer_than_72_bytes_are_not_truncated():
    prefix = "é" * 40  # 80 bytes in UTF-8
    stored = hash_password(prefix + "tail-one")
    assert verify_password(prefix + "tail-one", stored)
    assert not verify_password(prefix + "tail-two", stored)


def test_unicode_compositions_verify_alike():
    composed, decomposed = "caf\u00e9-p\u00e4ssword", "cafe\u0301-pa\u0308ssword"
    assert verify_password(decomposed, hash_password(composed))


def test_a_malformed_hash_is_a_mismatch_not_an_error():
    assert not verify_password("anything", "not-a-hash")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        ("Alice.Smith", "must not be the username"),
        ("alice@example.com", "must not be the e-mail"),
    ],
)
def test_policy(password, message):
    with pytest.raises(PasswordPolicyError, match=message):
        check_password_policy(password, username="alice.smith", email="Alice@Example.com")


def test_policy_accepts_128_unicode_characters():
    check_password_policy("ü" * 128, username="bob", email="bob@example.com")


def test_spaces_at_either_end_are_not_part_of_the_password():
    stored = hash_password("  inner space kept  ")
    assert verify_password("inner space kept", stored)
    assert not verify_password("inner  space kept", stored)


def test_length_is_counted_without_edge_spaces():
    with pytest.raises(PasswordPolicyError, match="at least 8"):
        check_password_policy("   short   ")
