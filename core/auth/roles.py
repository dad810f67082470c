"""Roles and what each may do: admin (everything), analyst (their own data), viewer (read only)."""

from __future__ import annotations

from enum import StrEnum

from common.errors import NotAllowed
from db.models.accounts import Role
from db.repositories.actor import Actor


class Permission(StrEnum):
    READ = "read"
    FETCH = "fetch"
    UPLOAD = "upload"
    TRAIN = "train"
    # Backtests and risk measurements: read in a refusal as "the viewer role cannot run analyses", not "train".
    ANALYSE = "run analyses"
    PREDICT = "predict"
    MANAGE_USERS = "manage users"
    READ_AUDIT = "read the audit log"


_ANALYST = {
    Permission.READ,
    Permission.FETCH,
    Permission.UPLOAD,
    Permission.TRAIN,
    Permission.ANALYSE,
    Permission.PREDICT,
}
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.VIEWER.value: frozenset({Permission.READ}),
    Role.ANALYST.value: frozenset(_ANALYST),
    Role.ADMIN.value: frozenset(Permission),
}


class PermissionDeniedError(NotAllowed):
    """The actor's role does not allow the action; the message says which role and action."""


def can(actor: Actor, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(actor.role, frozenset())


def require(actor: Actor, permission: Permission) -> None:
    if not can(actor, permission):
        raise PermissionDeniedError(f"the {actor.role} role cannot {permission.value}")
