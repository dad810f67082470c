"""Registration: policy, invite-only mode, and two registrations at the same moment."""

import threading

import pytest
from limits.storage import MemoryStorage
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from core.auth import AccountError, invite, register
from core.throttle import Throttle
from db.engine import session_scope
from db.models import Invitation, User
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.users import create_user
from tests.accounts import unique_name


def sign_up(
    session,
    username="nina",
    email="nina@example.com",
    password="long enough pw",
    repeat=None,
    *,
    invite_only=False,
    code="",
    throttle=None,
):
    return register(
        session=session,
        username=username,
        email=email,
        password=password,
        password_repeat=password if repeat is None else repeat,
        full_name="Nina Simone",
        invite_only=invite_only,
        invitation_code=code,
        client_ip="203.0.113.5",
        throttle=throttle or Throttle(MemoryStorage()),
    )


def test_open_registration_makes_an_analyst(session):
    user = sign_up(session)
    assert (user.username, user.role, user.full_name) == ("nina", "analyst", "Nina Simone")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short"}, "at least 8 characters"),
        ({"password": "x" * 129}, "at most 128 characters"),
        ({"password": "Nina@Example.com", "email": "nina@example.com"}, "must not be the e-mail"),
        ({"password": "ninaninanina", "username": "ninaninanina"}, "must not be the username"),
        # Compared with what is stored: the username stripped, the address in NFKC (a fullwidth "ｇ" is "g").
        ({"password": "frank1234", "username": " frank1234 "}, "must not be the username"),
        ({"password": "gina.long@example.com", "email": "\uff47ina.long@example.com"}, "must not be the e-mail"),
        ({"password": "\uff47ina.long@example.com", "email": "gina.long@example.com"}, "must not be the e-mail"),
        ({"repeat": "something else"}, "two passwords differ"),
        ({"username": "x"}, "username: 3-64 characters"),
    ],
)
def test_bad_registrations_are_refused_and_write_nothing(session, fields, message):
    with pytest.raises(AccountError, match=message):
        sign_up(session, **fields)
    assert session.scalar(select(func.count()).select_from(User).where(User.email == "nina@example.com")) == 0


def test_invite_only_needs_an_open_invitation_and_its_code(session):
    admin = Actor.of(
        create_user(session=session, username="adm", email="adm@example.com", password_hash="x", role=Role.ADMIN)
    )
    with pytest.raises(AccountError, match="no open invitation matches"):
        sign_up(session, invite_only=True)
    code = invite(session=session, actor=admin, email="Nina@Example.com").code
    assert sign_up(session, invite_only=True, code=code).username == "nina"
    assert session.scalar(select(Invitation.used_at)) is not None
    with pytest.raises(AccountError, match="no open invitation matches"):
        sign_up(session, username="nina2", invite_only=True, code=code)


@pytest.mark.parametrize("invited", ["ada@xn--bcher-kva.example", "ada@bücher.example"])
@pytest.mark.parametrize("typed", ["ada@xn--bcher-kva.example", "ada@bücher.example"])
def test_an_invitee_registers_with_either_spelling_of_an_international_domain(session, invited, typed):
    admin = Actor.of(
        create_user(session=session, username="adm", email="adm@example.com", password_hash="x", role=Role.ADMIN)
    )
    code = invite(session=session, actor=admin, email=invited).code
    assert sign_up(session, username="ada", email=typed, invite_only=True, code=code).email == "ada@bücher.example"
    assert session.scalar(select(Invitation.used_at)) is not None


def test_registrations_per_address_are_limited(session):
    throttle = Throttle(MemoryStorage())
    for number in range(10):
        sign_up(session, username=f"bulk{number}", email=f"bulk{number}@example.com", throttle=throttle)
    with pytest.raises(AccountError, match=r"Too many registrations from this address: try again in \d+ s"):
        sign_up(session, username="bulk10", email="bulk10@example.com", throttle=throttle)


def test_two_registrations_at_the_same_moment_both_persist(engine):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    names = [unique_name("twin"), unique_name("twin")]
    barrier = threading.Barrier(2)
    errors = []

    def run(name: str) -> None:
        try:
            with session_scope(factory) as session:
                barrier.wait()
                sign_up(session, username=name, email=f"{name}@example.com")
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(factory) as session:
        stored = session.scalars(select(User.username).where(User.username.in_(names))).all()
        assert sorted(stored) == sorted(names)
        session.execute(User.__table__.delete().where(User.username.in_(names)))


def test_the_same_name_at_the_same_moment_persists_once(engine):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    name = unique_name("dup")
    barrier = threading.Barrier(2)
    outcomes = []

    def run(email: str) -> None:
        try:
            with session_scope(factory) as session:
                barrier.wait()
                sign_up(session, username=name, email=email)
            outcomes.append("ok")
        except AccountError as error:
            outcomes.append(str(error))
        except Exception as error:  # noqa: BLE001 - a lost race at commit is also a refusal
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=run, args=(f"{name}{i}@example.com",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 1, outcomes
    with session_scope(factory) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.username == name)) == 1
        session.execute(User.__table__.delete().where(User.username == name))


def test_only_an_admin_invites_and_each_invitation_is_audited(session):
    from core.auth import PermissionDeniedError, invite
    from db.models import AuditLog

    analyst = Actor.of(create_user(session=session, username="ana", email="ana@example.com", password_hash="x"))
    with pytest.raises(PermissionDeniedError, match="analyst role cannot manage users"):
        invite(session=session, actor=analyst, email="friend@example.com")
    admin = Actor.of(
        create_user(session=session, username="adm", email="adm@example.com", password_hash="x", role=Role.ADMIN)
    )
    invite(session=session, actor=admin, email="Friend@Example.com")
    with pytest.raises(AccountError, match="already invited"):
        invite(session=session, actor=admin, email="friend@example.com")
    assert session.scalar(select(Invitation.email)) == "friend@example.com"
    events = session.execute(select(AuditLog.username, AuditLog.status).where(AuditLog.action == "invite")).all()
    assert sorted(events) == [("adm", "failed"), ("adm", "ok"), ("ana", "failed")]


@pytest.mark.parametrize("repeat", ["long enough pw ", "  long enough pw", "long enough pw\t"])
def test_passwords_differing_only_by_spaces_at_either_end_are_the_same(session, repeat):
    # Spaces at either end are not part of a password: the one stored is the one both fields name.
    assert sign_up(session, repeat=repeat).username == "nina"
