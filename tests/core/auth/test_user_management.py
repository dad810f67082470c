"""The admin's role changes and deactivations never leave the team without an active admin."""

import pytest
from sqlalchemy import update

from core.auth import AccountError, change_role, set_active
from db.models import User
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.users import create_user


def admin(session, name: str) -> Actor:
    return Actor.of(
        create_user(session=session, username=name, email=f"{name}@example.com", password_hash="x", role=Role.ADMIN)
    )


@pytest.fixture
def admins(session) -> tuple[Actor, Actor]:
    """Two active admins, the only ones in this test's (rolled-back) transaction."""
    session.execute(update(User).where(User.role == Role.ADMIN.value).values(is_active=False))
    return admin(session, "ada"), admin(session, "bea")


def role_of(session, actor: Actor) -> str:
    return session.get(User, actor.user_id).role


def test_an_admin_demotes_another_while_one_remains(session, admins):
    ada, bea = admins
    change_role(session=session, actor=ada, user_id=bea.user_id, role=Role.ANALYST)
    assert role_of(session, bea) == Role.ANALYST.value


def test_the_last_active_admin_cannot_be_demoted(session, admins):
    ada, bea = admins
    change_role(session=session, actor=bea, user_id=ada.user_id, role=Role.VIEWER)
    # Ada's session still says admin (it was read before the demotion): she must not demote the last one.
    with pytest.raises(AccountError, match="last active admin cannot be demoted"):
        change_role(session=session, actor=ada, user_id=bea.user_id, role=Role.ANALYST)
    assert role_of(session, bea) == Role.ADMIN.value


def test_the_last_active_admin_cannot_be_deactivated(session, admins):
    ada, bea = admins
    set_active(session=session, actor=bea, user_id=ada.user_id, active=False)
    with pytest.raises(AccountError, match="last active admin cannot be deactivated"):
        set_active(session=session, actor=ada, user_id=bea.user_id, active=False)
    assert session.get(User, bea.user_id).is_active


def test_a_demoted_admin_cannot_deactivate_the_last_one(session, admins):
    ada, bea = admins
    change_role(session=session, actor=bea, user_id=ada.user_id, role=Role.ANALYST)
    with pytest.raises(AccountError, match="last active admin cannot be deactivated"):
        set_active(session=session, actor=ada, user_id=bea.user_id, active=False)


def test_a_deactivated_admin_can_be_demoted(session, admins):
    # Only active admins keep the team administered: demoting an inactive one takes nothing away.
    ada, bea = admins
    set_active(session=session, actor=ada, user_id=bea.user_id, active=False)
    change_role(session=session, actor=ada, user_id=bea.user_id, role=Role.VIEWER)
    assert role_of(session, bea) == Role.VIEWER.value


def test_a_deactivated_admin_can_be_reactivated_and_an_analyst_promoted(session, admins):
    ada, bea = admins
    set_active(session=session, actor=ada, user_id=bea.user_id, active=False)
    set_active(session=session, actor=ada, user_id=bea.user_id, active=True)
    change_role(session=session, actor=ada, user_id=bea.user_id, role=Role.ANALYST)
    change_role(session=session, actor=ada, user_id=bea.user_id, role=Role.ADMIN)
    assert role_of(session, bea) == Role.ADMIN.value
    assert session.get(User, bea.user_id).is_active
