"""E-mail addresses: one account per address under Unicode normalisation, and only real addresses."""

import unicodedata
import uuid

import pytest
from alembic import command
from limits.storage import MemoryStorage
from sqlalchemy import create_engine, insert, select
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from core.auth import AccountError, register
from core.throttle import Throttle
from db.migrate import alembic_config
from db.models import Invitation, User
from db.repositories.actor import Actor
from db.repositories.invitations import add_invitation
from db.repositories.users import UserInputError, create_user, get_user_by_email
from db.types import utc_now
from tests.servers import fresh_postgres_database

JOSE_NFC = unicodedata.normalize("NFC", "josé@example.com")
JOSE_NFD = unicodedata.normalize("NFD", "josé@example.com")
HOSTILE = "<b>x</b>[click](http://evil.example)@example.com"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def sign_up(session, username: str, email: str):
    return register(
        session=session,
        username=username,
        email=email,
        password="long enough pw",
        password_repeat="long enough pw",
        full_name=None,
        invite_only=False,
        client_ip="203.0.113.8",
        throttle=Throttle(MemoryStorage()),
    )


def test_composed_and_decomposed_accents_are_one_address(session):
    assert JOSE_NFC != JOSE_NFD
    sign_up(session, "jose1", JOSE_NFC)
    with pytest.raises(AccountError, match="email: this address is already registered"):
        sign_up(session, "jose2", JOSE_NFD)
    assert get_user_by_email(session=session, email=JOSE_NFD).username == "jose1"


def test_an_address_is_found_however_its_international_domain_is_spelt(session):
    sign_up(session, "ada1", "ada@xn--bcher-kva.example")
    assert get_user_by_email(session=session, email="ada@xn--bcher-kva.example").username == "ada1"
    assert get_user_by_email(session=session, email="Ada@Bücher.example").username == "ada1"
    assert get_user_by_email(session=session, email="not an address") is None


def test_a_fullwidth_copy_of_an_address_is_the_same_address(session):
    sign_up(session, "mallory1", "Mallory@Example.com")
    copy = fullwidth("mallory@example.com")
    assert copy != "mallory@example.com"
    with pytest.raises(AccountError, match="already registered"):
        sign_up(session, "mallory2", copy)


@pytest.mark.parametrize(
    "address",
    [HOSTILE, "two@@example.com", "no-domain@", "spaces in@example.com", "x@localhost", "a\x00b@example.com"],
)
def test_what_is_not_an_address_is_refused_without_echoing_it(session, address):
    with pytest.raises(UserInputError, match="email: not an e-mail address") as refused:
        create_user(session=session, username="eve", email=address, password_hash="h")
    assert "evil.example" not in str(refused.value)
    assert session.scalar(select(User).where(User.username == "eve")) is None


def test_invitations_use_the_same_comparison(session):
    admin = Actor.of(create_user(session=session, username="adm1", email="adm1@example.com", password_hash="h"))
    add_invitation(session=session, actor=admin, email=JOSE_NFD)
    with pytest.raises(UserInputError, match="already invited"):
        add_invitation(session=session, actor=admin, email=fullwidth("JOSÉ@EXAMPLE.COM"))
    assert session.scalar(select(Invitation.email)) == JOSE_NFC


def _migration_normalises_existing_rows(url: URL) -> None:
    config = alembic_config(url)
    command.upgrade(config, "0003")
    engine = create_engine(url, poolclass=NullPool)
    users = User.__table__
    rows = [
        ("older", JOSE_NFD, 1),
        ("newer", "JOSÉ@example.com", 2),  # the same address once normalised: left for an admin
        ("wide", fullwidth("wide") + "@example.com", 3),
    ]
    with engine.begin() as connection:
        for name, email, minute in rows:
            connection.execute(
                insert(users).values(
                    id=uuid.uuid4(),
                    username=name,
                    email=email,
                    password_hash="h",
                    role="analyst",
                    subscription_tier="free",
                    is_active=True,
                    created_at=utc_now().replace(minute=minute),
                    updated_at=utc_now(),
                )
            )
    with pytest.warns(UserWarning, match="left as it was"):
        command.upgrade(config, "head")
    with engine.connect() as connection:
        stored = dict(connection.execute(select(users.c.username, users.c.email)).all())
    engine.dispose()
    assert stored == {"older": JOSE_NFC, "newer": "JOSÉ@example.com", "wide": "wide@example.com"}


def test_the_migration_normalises_existing_addresses_on_sqlite(tmp_path):
    _migration_normalises_existing_rows(URL.create("sqlite", database=str(tmp_path / "emails.db")))


@pytest.mark.postgres
def test_the_migration_normalises_existing_addresses_on_postgres():
    with fresh_postgres_database() as url:
        _migration_normalises_existing_rows(url)
