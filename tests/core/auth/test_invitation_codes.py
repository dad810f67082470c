"""Invite-only registration: an invitation is an address and a one-time code, and probing for either is throttled."""

import hashlib

import pytest
from limits.storage import MemoryStorage
from sqlalchemy import select

from core.auth import AccountError, PermissionDeniedError, invite, register, reissue_invitation
from core.throttle import REGISTRATIONS_PER_ADDRESS, Throttle
from db.models import AuditLog, Invitation, User
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.invitations import add_invitation
from db.repositories.users import create_user

NOT_INVITED = "Registration is by invitation: no open invitation matches this e-mail address and invitation code"


@pytest.fixture
def admin(session):
    return Actor.of(
        create_user(session=session, username="adm", email="adm@example.com", password_hash="x", role=Role.ADMIN)
    )


@pytest.fixture
def throttle():
    return Throttle(MemoryStorage())


def sign_up(session, throttle, *, email="nina@example.com", code="", username="nina", client_ip="203.0.113.5"):
    return register(
        session=session,
        username=username,
        email=email,
        password="long enough pw",
        password_repeat="long enough pw",
        full_name=None,
        invite_only=True,
        invitation_code=code,
        client_ip=client_ip,
        throttle=throttle,
    )


def test_an_invitation_s_code_is_shown_once_and_stored_only_as_its_hash(session, admin):
    invited = invite(session=session, actor=admin, email="Nina@Example.com")
    assert len(invited.code.replace("-", "")) * 5 >= 80, "base32: 5 bits a character"
    row = session.scalar(select(Invitation).where(Invitation.email == "nina@example.com"))
    assert row.code_hash == hashlib.sha256(invited.code.replace("-", "").encode()).hexdigest()
    assert all(invited.code not in str(getattr(row, column.key)) for column in Invitation.__table__.columns)
    [(detail, status)] = session.execute(
        select(AuditLog.detail, AuditLog.status).where(AuditLog.action == "invite")
    ).all()
    assert (detail, status) == ("nina@example.com", "ok"), "the audit names the address, never the code"


def test_an_invited_address_without_its_code_is_refused_like_an_uninvited_one(session, admin, throttle):
    invited = invite(session=session, actor=admin, email="nina@example.com")
    refusals = []
    for email, code in [
        ("nina@example.com", ""),
        ("nina@example.com", "AAAA-AAAA-AAAA-AAAA"),
        ("stranger@example.com", ""),
        ("stranger@example.com", invited.code),
    ]:
        with pytest.raises(AccountError) as refused:
            sign_up(session, throttle, email=email, code=code)
        refusals.append(str(refused.value))
    assert refusals == [NOT_INVITED] * 4
    assert session.scalar(select(User).where(User.username == "nina")) is None
    details = session.scalars(select(AuditLog.detail).where(AuditLog.action == "register")).all()
    assert sorted(details) == ["not invited", "not invited", "wrong invitation code", "wrong invitation code"]


def test_the_address_and_its_code_register_once(session, admin, throttle):
    invited = invite(session=session, actor=admin, email="nina@example.com")
    # Typed as it may be passed on: lower case, spaces around.
    assert sign_up(session, throttle, code=f"  {invited.code.lower()} ").username == "nina"
    assert session.scalar(select(Invitation.used_at)) is not None
    with pytest.raises(AccountError, match=NOT_INVITED):
        sign_up(session, throttle, code=invited.code, username="nina2")


def test_probing_for_invitations_counts_towards_the_registration_limit(session, admin, throttle):
    invited = invite(session=session, actor=admin, email="nina@example.com")
    for number in range(REGISTRATIONS_PER_ADDRESS.amount):
        with pytest.raises(AccountError, match=NOT_INVITED):
            sign_up(session, throttle, email=f"guess{number}@example.com", code="AAAA-AAAA-AAAA-AAAA")
    with pytest.raises(AccountError, match="Too many registrations from this address"):
        sign_up(session, throttle, code=invited.code)
    assert sign_up(session, throttle, code=invited.code, client_ip="198.51.100.7").username == "nina"


def test_an_invitation_made_before_codes_works_once_given_a_new_code(session, admin, throttle):
    add_invitation(session=session, actor=admin, email="nina@example.com")  # as stored before revision 0021
    with pytest.raises(AccountError, match=NOT_INVITED):
        sign_up(session, throttle, code="")
    first = reissue_invitation(session=session, actor=admin, email="nina@example.com")
    second = reissue_invitation(session=session, actor=admin, email="nina@example.com")
    assert first.code != second.code
    with pytest.raises(AccountError, match=NOT_INVITED):
        sign_up(session, throttle, code=first.code)
    assert sign_up(session, throttle, code=second.code).username == "nina"
    with pytest.raises(AccountError, match="No open invitation for this address"):
        reissue_invitation(session=session, actor=admin, email="nina@example.com")
    details = session.scalars(
        select(AuditLog.detail).where(AuditLog.action == "invite", AuditLog.status == "ok").order_by(AuditLog.at)
    ).all()
    assert details == ["nina@example.com: new code", "nina@example.com: new code"]


def test_only_an_admin_gives_a_new_code(session, admin):
    invite(session=session, actor=admin, email="nina@example.com")
    analyst = Actor.of(create_user(session=session, username="ana", email="ana@example.com", password_hash="x"))
    with pytest.raises(PermissionDeniedError):
        reissue_invitation(session=session, actor=analyst, email="nina@example.com")
