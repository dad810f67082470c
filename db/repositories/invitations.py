"""Invitations for invite-only registration."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Invitation
from db.repositories.actor import Actor
from db.repositories.users import UserInputError, checked_email
from db.types import utc_now


def add_invitation(*, session: Session, actor: Actor, email: str) -> Invitation:
    email = checked_email(email)
    if session.scalar(select(Invitation).where(Invitation.email == email)) is not None:
        raise UserInputError("email", "this address is already invited")
    invitation = Invitation(email=email, invited_by=actor.user_id)
    session.add(invitation)
    session.flush()
    return invitation


def find_open_invitation(*, session: Session, email: str) -> Invitation | None:
    """The unused invitation of an address, however its domain is spelt (Unicode or punycode); None for no
    invitation or no address."""
    try:
        # The form add_invitation stored: plain normalisation leaves a punycode domain unconverted.
        email = checked_email(email)
    except UserInputError:
        return None
    query = select(Invitation).where(Invitation.email == email, Invitation.used_at.is_(None))
    return session.scalar(query)


def mark_invitation_used(*, session: Session, invitation: Invitation) -> None:
    invitation.used_at = utc_now()
    session.flush()


def list_invitations(*, session: Session) -> Sequence[Invitation]:
    return session.scalars(select(Invitation).order_by(Invitation.created_at.desc())).all()
