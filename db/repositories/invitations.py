"""Invitations for invite-only registration."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
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


def claim_invitation(*, session: Session, email: str, code_hash: str) -> bool:
    """Use up the open invitation of a checked address whose code hashes so; False when there is none.

    One statement that checks and uses up the code: two registrations racing with it cannot both win.
    """
    claimed = session.execute(
        update(Invitation)
        .where(Invitation.email == email, Invitation.used_at.is_(None), Invitation.code_hash == code_hash)
        .values(used_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def list_invitations(*, session: Session) -> Sequence[Invitation]:
    return session.scalars(select(Invitation).order_by(Invitation.created_at.desc())).all()
