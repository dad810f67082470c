"""Who is signed in, and how much of each throttled action they have used."""

import streamlit as st

from core.auth import Actor
from core.services import accounts
from ui.errors import attempt
from ui.format import minute
from ui.tables import show_table


def render_profile(actor: Actor) -> None:
    user = attempt(accounts.profile, actor)
    if user is None:
        return
    left, right = st.columns(2)
    # Names and addresses are what people typed: shown as text, never as markdown.
    left.text(f"{user.full_name or user.username}\n{user.email}")
    last = f"last login {minute(user.last_login)}" if user.last_login else "first login"
    right.text(f"Role {user.role} · tier {user.subscription_tier}\n{last}")


def render_usage(actor: Actor) -> None:
    rows = [
        {
            "Action": usage.action,
            "Today": usage.today,
            "Limit": usage.limit,
            "Left in window": usage.left_in_window
            if usage.left_in_window is not None
            else "unknown (Redis unreachable)",
        }
        for usage in attempt(accounts.action_usage, actor) or []
    ]
    show_table(rows, hide_index=True)
