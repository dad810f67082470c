"""What each role may do, and how a refusal names the action the caller asked for."""

from __future__ import annotations

import uuid

import pytest

from common.errors import NotAllowed
from core.auth.roles import ROLE_PERMISSIONS, Permission, can, require
from db.models.accounts import Role
from db.repositories.actor import Actor


def actor_of(role: Role) -> Actor:
    return Actor(user_id=uuid.uuid4(), username=f"someone-{role.value}", role=role.value, tier="free")


def test_analyses_are_allowed_to_exactly_the_roles_that_may_train():
    assert {role for role, held in ROLE_PERMISSIONS.items() if Permission.ANALYSE in held} == {
        role for role, held in ROLE_PERMISSIONS.items() if Permission.TRAIN in held
    }
    assert can(actor_of(Role.ANALYST), Permission.ANALYSE)
    assert can(actor_of(Role.ADMIN), Permission.ANALYSE)
    assert not can(actor_of(Role.VIEWER), Permission.ANALYSE)


@pytest.mark.parametrize(
    ("permission", "sentence"),
    [(Permission.ANALYSE, "the viewer role cannot run analyses"), (Permission.TRAIN, "the viewer role cannot train")],
)
def test_a_refusal_names_the_action_asked_for(permission, sentence):
    with pytest.raises(NotAllowed) as refused:
        require(actor_of(Role.VIEWER), permission)
    assert str(refused.value) == sentence
